"""Per-sample metric functions (1.0 for a hit, 0.0 for a miss; errors per sample)."""

from __future__ import annotations

import tensorcore as tc
from tensorcore.losses.functions import (
    as_float_tensor,
    match_ranks,
    mean_absolute_error,
    mean_squared_error,
)


def _as_tensor(value) -> tc.Tensor:
    """Tensor view of an array-like (dtype kept)."""
    return tc.as_tensor(value)


def categorical_accuracy(y_true, y_pred) -> tc.Tensor:
    """1.0 where argmax(y_true) == argmax(y_pred) along the last axis."""
    y_true, y_pred = _as_tensor(y_true), _as_tensor(y_pred)
    hits = tc.argmax(y_true, axis=-1) == tc.argmax(y_pred, axis=-1)
    return hits.astype(tc.float32)


def sparse_categorical_accuracy(y_true, y_pred) -> tc.Tensor:
    """1.0 where the integer label equals argmax(y_pred) along the last axis."""
    y_true, y_pred = _as_tensor(y_true), _as_tensor(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = tc.squeeze(y_true, axis=-1)
    labels = y_true.astype(tc.int64) if y_true.dtype != tc.int64 else y_true
    hits = labels == tc.argmax(y_pred, axis=-1)
    return hits.astype(tc.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> tc.Tensor:
    """Mean over the last axis of (y_pred > threshold) == y_true."""
    y_pred = as_float_tensor(y_pred)
    y_true, y_pred = match_ranks(as_float_tensor(y_true), y_pred, "binary_accuracy")
    predicted = (y_pred > threshold).astype(tc.float32)
    return tc.mean((predicted == y_true).astype(tc.float32), axis=-1)


def accuracy(y_true, y_pred) -> tc.Tensor:
    """Mean over the last axis of y_true == y_pred (exact match)."""
    y_pred = as_float_tensor(y_pred)
    y_true, y_pred = match_ranks(as_float_tensor(y_true), y_pred, "accuracy")
    return tc.mean((y_true == y_pred).astype(tc.float32), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error

__all__ = ["accuracy", "binary_accuracy", "categorical_accuracy", "mae",
           "mean_absolute_error", "mean_squared_error", "mse", "sparse_categorical_accuracy"]
