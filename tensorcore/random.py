"""Random tensors from one seeded generator (NumPy's PCG64 supplies the bits)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import dtypes
from ._dispatch import normalize_shape
from .backend import current as backend
from .tensor import Tensor

_generator = np.random.default_rng()


def seed(n: int) -> None:
    """Reseed the generator behind tc.random (and the library's initializers/dropout)."""
    global _generator
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed: expected a non-negative int, received {n!r}")
    _generator = np.random.default_rng(int(n))


def generator() -> np.random.Generator:
    """The generator in use (for shuffling indices and the like)."""
    return _generator


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    dt = dtypes.as_dtype(dtype, op)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be float32 or float64, received {dtypes.name(dt)}")
    return dt


def _finish(values: np.ndarray, dtype: np.dtype, requires_grad: bool) -> Tensor:
    if values.dtype != dtype:
        out = np.empty(values.shape, dtype)
        if out.size:
            backend().copy(values, out)
        values = out
    t = Tensor._wrap(values)
    return t.requires_grad_(True) if requires_grad else t


def _check_real(op: str, **values: Any) -> None:
    """TypeError naming the op and argument unless each value is a real number."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: {name} must be a real number, received {value!r}")


def normal(shape: Any, mean: float = 0.0, std: float = 1.0, dtype: Any = dtypes.float32,
           requires_grad: bool = False) -> Tensor:
    """Samples from N(mean, std**2)."""
    shape = normalize_shape("random.normal", shape)
    dt = _float_dtype("random.normal", dtype)
    _check_real("random.normal", mean=mean, std=std)
    if not std >= 0:
        raise ValueError(f"random.normal: std must be >= 0, received {std!r}")
    values = _generator.normal(mean, std, size=shape)
    return _finish(values, dt, requires_grad)


def uniform(shape: Any, low: float = 0.0, high: float = 1.0, dtype: Any = dtypes.float32,
            requires_grad: bool = False) -> Tensor:
    """Samples from U[low, high)."""
    shape = normalize_shape("random.uniform", shape)
    dt = _float_dtype("random.uniform", dtype)
    _check_real("random.uniform", low=low, high=high)
    if not high >= low:
        raise ValueError(f"random.uniform: expected low <= high, received low={low!r}, "
                         f"high={high!r}")
    values = _generator.uniform(low, high, size=shape)
    return _finish(values, dt, requires_grad)


def permutation(n: int) -> np.ndarray:
    """A random permutation of range(n) as an int64 array."""
    return _generator.permutation(n)
