"""Loss functions: each returns one value per sample (the last axis is reduced)."""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore.losses.fused import (
    sigmoid_crossentropy_with_logits,
    softmax_crossentropy_with_logits,
)

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log (Keras's backend epsilon).
EPSILON = 1e-7


def as_float_tensor(value, dtype=None) -> tc.Tensor:
    """Convert labels or predictions to a float tensor: `dtype` when given, else float64
    values stay float64 (a float64 model's loss and gradients keep their precision) and
    everything else becomes float32."""
    if dtype is None:
        kept = value.dtype if isinstance(value, (tc.Tensor, np.ndarray)) else None
        dtype = tc.float64 if kept == np.float64 else tc.float32
    return tc.as_tensor(value, dtype)


def match_ranks(y_true: tc.Tensor, y_pred: tc.Tensor, op: str) -> tuple[tc.Tensor, tc.Tensor]:
    """Reconcile (n,) against (n, 1) as Keras does, then require equal shapes."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = tc.squeeze(y_true, axis=-1)
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_true = tc.expand_dims(y_true, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{op}: y_true and y_pred must have the same shape. Received: y_true.shape="
            f"{tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    return y_true, y_pred


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> tc.Tensor:
    """Crossentropy between one-hot (or probability) labels and predicted class scores."""
    y_pred = as_float_tensor(y_pred)
    y_true = as_float_tensor(y_true, y_pred.dtype)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "categorical_crossentropy: y_true must be one-hot with the shape of y_pred. "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    if from_logits:
        return softmax_crossentropy_with_logits(y_true, y_pred)
    probs = y_pred / tc.sum(y_pred, axis=-1, keepdims=True)
    probs = tc.clip(probs, EPSILON, 1.0 - EPSILON)
    return -tc.sum(y_true * tc.log(probs), axis=-1)


def sparse_labels_to_one_hot(y_true, num_classes: int, dtype=None) -> tc.Tensor:
    """Integer labels of shape (n,) or (n, 1) -> float one-hot (n, num_classes), range-checked."""
    from tensorcore.utils import to_categorical

    labels = y_true.numpy() if isinstance(y_true, tc.Tensor) else np.asarray(y_true)
    try:
        one_hot = to_categorical(labels, num_classes=num_classes)
    except (ValueError, TypeError) as error:
        raise type(error)(f"sparse_categorical_crossentropy: {error}") from None
    return as_float_tensor(one_hot, dtype)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> tc.Tensor:
    """Crossentropy between integer class labels and predicted class scores."""
    y_pred = as_float_tensor(y_pred)
    num_classes = y_pred.shape[-1]
    one_hot = sparse_labels_to_one_hot(y_true, num_classes, y_pred.dtype)
    if tuple(one_hot.shape) != tuple(y_pred.shape):
        raise ValueError(
            "sparse_categorical_crossentropy: y_true must hold one integer label per row of "
            f"y_pred. Received: y_true.shape={tuple(np.shape(y_true))}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    return categorical_crossentropy(one_hot, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False) -> tc.Tensor:
    """Binary crossentropy, averaged over the last axis."""
    y_pred = as_float_tensor(y_pred)
    y_true, y_pred = match_ranks(as_float_tensor(y_true, y_pred.dtype), y_pred,
                                 "binary_crossentropy")
    if from_logits:
        return sigmoid_crossentropy_with_logits(y_true, y_pred)
    probs = tc.clip(y_pred, EPSILON, 1.0 - EPSILON)
    elementwise = -(y_true * tc.log(probs) + (1.0 - y_true) * tc.log(1.0 - probs))
    return tc.mean(elementwise, axis=-1)


def mean_squared_error(y_true, y_pred) -> tc.Tensor:
    """Mean of (y_true - y_pred)**2 over the last axis."""
    y_pred = as_float_tensor(y_pred)
    y_true, y_pred = match_ranks(as_float_tensor(y_true, y_pred.dtype), y_pred,
                                 "mean_squared_error")
    return tc.mean(tc.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred) -> tc.Tensor:
    """Mean of |y_true - y_pred| over the last axis."""
    y_pred = as_float_tensor(y_pred)
    y_true, y_pred = match_ranks(as_float_tensor(y_true, y_pred.dtype), y_pred,
                                 "mean_absolute_error")
    return tc.mean(tc.abs(y_pred - y_true), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error
