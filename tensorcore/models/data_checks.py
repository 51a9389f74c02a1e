"""Validation of fit/evaluate/predict arguments, done before the model is touched."""

from __future__ import annotations

import math
import numbers

import numpy as np

import tensorcore as tc


def check_positive_int(op: str, name: str, value, allow_zero: bool = False) -> int:
    """Return value as int, or raise naming the argument and echoing it."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
        and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{op}: {name} must be {kind} int. Received: {name}={value!r}")
    return int(value)


def check_verbose(op: str, verbose) -> int:
    """Accept 0, 1, 2 or "auto" (= 1)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{op}: verbose must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def check_validation_split(op: str, value) -> float:
    """validation_split must be a real number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{op}: validation_split must be a float in [0, 1). "
                         f"Received: validation_split={value!r}")
    return float(value)


def as_array(op: str, name: str, value) -> np.ndarray:
    """Array view of x or y (Tensor, ndarray or nested lists) with a numeric dtype."""
    if value is None:
        raise ValueError(f"{op}: {name} is required. Received: {name}=None")
    from tensorcore.models.data_adapters import leaf_array

    array = leaf_array(op, name, value)
    if array.shape[0] == 0:
        raise ValueError(f"{op}: {name} is empty. Received: {name}.shape={array.shape}")
    return array


def check_inputs(op: str, model, x) -> np.ndarray:
    """x must have the per-sample shape the model was built for."""
    x = as_array(op, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{op}: x must have shape (num_samples, features...). "
                         f"Received: x.shape={x.shape}")
    if model.built:
        expected = tuple(model.build_input_shape[1:])
        if tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"{op}: the model expects inputs of shape (num_samples, "
                f"{', '.join(map(str, expected))}). Received: x.shape={x.shape}"
            )
    return x


def _min_max(array: np.ndarray) -> tuple[float, float]:
    """Smallest and largest entries, computed with tensorcore kernels."""
    values = tc.as_tensor(array)
    return float(tc.min(values).item()), float(tc.max(values).item())


def _rank_matched(y_shape: tuple, output_shape: tuple) -> bool:
    """True when y matches the output shape, allowing (n,) against (n, 1) and vice versa."""
    if y_shape[1:] == output_shape[1:]:
        return True
    if len(y_shape) + 1 == len(output_shape) and output_shape[-1] == 1:
        return y_shape[1:] == output_shape[1:-1]
    if len(y_shape) == len(output_shape) + 1 and y_shape[-1] == 1:
        return y_shape[1:-1] == output_shape[1:]
    return False


def check_targets(op: str, model, x: np.ndarray, y) -> np.ndarray:
    """y must have one row per sample of x and suit the compiled loss and output shape."""
    y = as_array(op, "y", y)
    if len(y) != len(x):
        raise ValueError(f"{op}: x and y must have the same number of samples. Received: "
                         f"x.shape={x.shape}, y.shape={y.shape}")
    output_shape = tuple(model.compute_output_shape((None,) + tuple(x.shape[1:])))
    loss_name = getattr(model.loss, "name", None)
    kind = getattr(model, "loss_kind", None)
    if kind == "sparse_categorical_crossentropy":
        num_classes = output_shape[-1]
        if not (y.ndim == len(output_shape) - 1 or (y.ndim == len(output_shape)
                                                      and y.shape[-1] == 1)):
            raise ValueError(
                f"{op}: loss '{loss_name}' expects integer labels of shape (num_samples,). "
                f"Received: y.shape={y.shape} for model outputs of shape {output_shape}"
            )
        low, high = _min_max(y)
        if y.dtype.kind == "f" and not _all_integral(y):
            raise ValueError(f"{op}: loss '{loss_name}' expects integer class labels. "
                             "Received: y with non-integral values")
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"{op}: loss '{loss_name}' expects labels in [0, {num_classes - 1}] for a "
                f"model with {num_classes} outputs. Received: labels in "
                f"[{low:g}, {high:g}]"
            )
    elif kind == "categorical_crossentropy":
        if tuple(y.shape[1:]) != output_shape[1:]:
            hint = (" (labels look like class indices: use "
                    "loss='sparse_categorical_crossentropy' or utils.to_categorical)"
                    if y.ndim == 1 else "")
            raise ValueError(
                f"{op}: loss '{loss_name}' expects one-hot targets of shape (num_samples, "
                f"{', '.join(map(str, output_shape[1:]))}). Received: y.shape={y.shape}{hint}"
            )
    elif kind is not None:
        if not _rank_matched(tuple(y.shape), output_shape):
            raise ValueError(
                f"{op}: targets must match the model outputs of shape {output_shape}. "
                f"Received: y.shape={y.shape}"
            )
        if kind == "binary_crossentropy":
            low, high = _min_max(y)
            if low < 0 or high > 1:
                raise ValueError(f"{op}: loss '{loss_name}' expects targets in [0, 1]. "
                                 f"Received: targets in [{low:g}, {high:g}]")
    return y


def _all_integral(array: np.ndarray) -> bool:
    """True when every float entry is a whole number (checked with our kernels)."""
    values = tc.as_tensor(array)
    return int(tc.sum(values.astype(tc.int64).astype(values.dtype) != values).item()) == 0


def check_validation_data(op: str, model, validation_data) -> tuple[np.ndarray, np.ndarray]:
    """validation_data must be (x_val, y_val) passing the same checks as x and y."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(f"{op}: validation_data must be a tuple (x_val, y_val). "
                         f"Received: validation_data of type {type(validation_data).__name__}")
    x_val = check_inputs(op, model, validation_data[0])
    y_val = check_targets(op, model, x_val, validation_data[1])
    return x_val, y_val


def split_for_validation(x: np.ndarray, y: np.ndarray, fraction: float, op: str):
    """Keras's split: the LAST `fraction` of the samples (before any shuffling) validates."""
    split_at = math.floor(len(x) * (1.0 - fraction))
    if split_at <= 0 or split_at >= len(x):
        raise ValueError(f"{op}: validation_split={fraction} leaves "
                         f"{split_at} training and {len(x) - split_at} validation samples out "
                         f"of {len(x)}; both must be non-empty")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])
