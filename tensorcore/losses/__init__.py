"""Losses: plain functions returning per-sample values, and thin Loss classes around them."""

from tensorcore.losses.functions import (
    binary_crossentropy,
    categorical_crossentropy,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from tensorcore.losses.fused import sigmoid_crossentropy_with_logits
from tensorcore.losses.fused import softmax_crossentropy_with_logits
from tensorcore.losses.loss import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanSquaredError,
    REGISTRY,
    SparseCategoricalCrossentropy,
    deserialize,
    get,
    serialize,
)

__all__ = [
    "BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "LossFunctionWrapper", "REGISTRY",
    "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy",
    "binary_crossentropy", "categorical_crossentropy", "deserialize", "get", "mae",
    "mean_absolute_error", "mean_squared_error", "mse", "serialize",
    "sigmoid_crossentropy_with_logits", "softmax_crossentropy_with_logits",
    "sparse_categorical_crossentropy",
]
