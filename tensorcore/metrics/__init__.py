"""Metrics: stateful objects with update_state / result / reset_state, and metric functions."""

from tensorcore.metrics.base import Mean, MeanMetricWrapper, Metric
from tensorcore.metrics.functions import (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_accuracy,
)
from tensorcore.metrics.classes import (
    Accuracy,
    AutoAccuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalAccuracy,
    get,
)

__all__ = [
    "Accuracy", "AutoAccuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean",
    "MeanAbsoluteError", "MeanMetricWrapper", "MeanSquaredError", "Metric",
    "SparseCategoricalAccuracy", "accuracy", "binary_accuracy", "categorical_accuracy", "get",
    "mae", "mean_absolute_error", "mean_squared_error", "mse", "sparse_categorical_accuracy",
]
