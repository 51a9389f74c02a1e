"""to_categorical (one-hot labels) and normalize (unit-norm rows)."""

from __future__ import annotations

import numpy as np

import tensorcore as tc


def to_categorical(y, num_classes: int | None = None) -> np.ndarray:
    """Convert integer class labels to a float32 one-hot matrix, as Keras does."""
    labels = np.asarray(y.numpy() if isinstance(y, tc.Tensor) else y)
    if labels.dtype.kind not in "iub":
        if labels.dtype.kind == "f" and labels.size:
            labels = _integral_floats_to_int(labels)
        elif labels.size:
            raise TypeError(
                "to_categorical: y must hold integer class labels. "
                f"Received: y with dtype {labels.dtype}"
            )
    if labels.dtype != np.int64:
        labels = tc.as_tensor(labels, tc.int64).numpy()
    input_shape = labels.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    flat = labels.reshape(-1)
    count = flat.shape[0]
    if count:
        flat_tensor = tc.as_tensor(flat)
        smallest = int(tc.min(flat_tensor).item())
        largest = int(tc.max(flat_tensor).item())
    else:
        smallest, largest = 0, -1
    if num_classes is None:
        num_classes = largest + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes <= 0:
        raise ValueError(
            "to_categorical: num_classes must be a positive int or None. "
            f"Received: num_classes={num_classes!r}"
        )
    if smallest < 0 or largest >= num_classes:
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes - 1}] for "
            f"num_classes={num_classes}. Received: labels in [{smallest}, {largest}]"
        )
    try:
        one_hot = np.zeros((count, int(num_classes)), dtype=np.float32)
    except (ValueError, MemoryError):
        raise ValueError(f"to_categorical: a ({count}, {num_classes}) one-hot matrix is too "
                         f"large. Received: num_classes={num_classes!r}") from None
    one_hot[np.arange(count), flat] = 1.0
    return one_hot.reshape(input_shape + (int(num_classes),))


def _integral_floats_to_int(labels: np.ndarray) -> np.ndarray:
    """Turn float labels such as 3.0 into int64, refusing non-integral values."""
    values = tc.as_tensor(labels)
    truncated = values.astype(tc.int64)
    mismatched = int(tc.sum(truncated.astype(values.dtype) != values).item())
    if mismatched:
        raise TypeError(
            "to_categorical: y must hold integer class labels. "
            f"Received: y with {mismatched} non-integral float values"
        )
    return truncated.numpy()


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale x so that its L-`order` norm along `axis` is 1 (zero vectors stay zero)."""
    if order not in (1, 2):
        raise ValueError(f"normalize: order must be 1 or 2. Received: order={order!r}")
    values = tc.as_tensor(x if isinstance(x, tc.Tensor) else np.asarray(x))
    if values.dtype not in (tc.float32, tc.float64):
        values = values.astype(tc.float32)
    if order == 2:
        norm = tc.sqrt(tc.sum(tc.square(values), axis=axis, keepdims=True))
    else:
        norm = tc.sum(tc.abs(values), axis=axis, keepdims=True)
    safe_norm = tc.where(norm == 0, tc.ones_like(norm), norm)
    return (values / safe_norm).numpy()
