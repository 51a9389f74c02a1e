"""Array API creation functions (results computed by tensorcore's kernels)."""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from .. import ops_elementwise as ew
from .. import ops_shape
from .._dispatch import normalize_shape
from ..tensor import tensor as _new_tensor, from_numpy as _from_numpy, zeros as _zeros
from ..tensor import ones as _ones, full as _full, arange as _arange
from ..tensor import from_dlpack as _from_dlpack
from ..tensor import Tensor
from ._dtypes import ALL_DTYPES, DEFAULT_FLOAT, DEFAULT_INT, bool as bool_, float64

DEVICE = "cpu"


def check_device(device: Any, op: str) -> None:
    """Raise ValueError unless device is None or the CPU."""
    if device is not None and device != DEVICE:
        raise ValueError(f"{op}: unsupported device {device!r}; tensorcore has only 'cpu'")


def _resolve(dtype: Any, op: str) -> np.dtype | None:
    if dtype is None:
        return None
    resolved = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
    if resolved not in ALL_DTYPES:
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; expected bool, int32, int64, "
                        "float32 or float64")
    return resolved


def _copy(x: Tensor) -> Tensor:
    return ops_shape.copy_of(x)


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None,
            copy: builtins.bool | None = None) -> Tensor:
    """obj as a tensorcore array (no copy unless needed or copy=True)."""
    check_device(device, "asarray")
    dtype = _resolve(dtype, "asarray")
    if isinstance(obj, Tensor):
        if dtype is None or dtype == obj.dtype:
            return _copy(obj) if copy else obj
        if copy is False:
            raise ValueError("asarray: changing the dtype needs a copy, but copy=False")
        return obj.astype(dtype)
    if not isinstance(obj, np.ndarray) and hasattr(obj, "__dlpack__"):
        try:
            obj = np.from_dlpack(obj)
        except (BufferError, RuntimeError, TypeError):
            pass
    if isinstance(obj, np.ndarray):
        if obj.dtype in ALL_DTYPES and (dtype is None or dtype == obj.dtype) and not copy:
            return _from_numpy(obj)
        if copy is False:
            raise ValueError("asarray: converting this array needs a copy, but copy=False")
        return _new_tensor(obj, dtype=dtype)
    if copy is False:
        raise ValueError("asarray: Python objects are always copied, but copy=False")
    if isinstance(obj, (builtins.bool, np.bool_)):
        dtype = bool_ if dtype is None else dtype
    elif isinstance(obj, numbers.Integral) and dtype is None:
        dtype = DEFAULT_INT
    return _new_tensor(obj, dtype=dtype)


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An uninitialized array (storage only; no compute)."""
    check_device(device, "empty")
    dtype = _resolve(dtype, "empty") or DEFAULT_FLOAT
    return Tensor._wrap(np.empty(normalize_shape("empty", shape), dtype))


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array of zeros."""
    check_device(device, "zeros")
    return _zeros(shape, dtype=_resolve(dtype, "zeros") or DEFAULT_FLOAT)


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array of ones."""
    check_device(device, "ones")
    return _ones(shape, dtype=_resolve(dtype, "ones") or DEFAULT_FLOAT)


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array filled with fill_value (dtype inferred from it when not given)."""
    check_device(device, "full")
    return _full(shape, fill_value, dtype=_resolve(dtype, "full"))


def empty_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An uninitialized array shaped like x."""
    return empty(x.shape, dtype=dtype or x.dtype, device=device)


def zeros_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Zeros shaped like x."""
    return zeros(x.shape, dtype=dtype or x.dtype, device=device)


def ones_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Ones shaped like x."""
    return ones(x.shape, dtype=dtype or x.dtype, device=device)


def full_like(x: Tensor, /, fill_value: Any, *, dtype: Any = None,
              device: Any = None) -> Tensor:
    """fill_value shaped like x (x's dtype unless given)."""
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device)


def arange(start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop)."""
    check_device(device, "arange")
    return _arange(start, stop, step, dtype=_resolve(dtype, "arange"))


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None,
        device: Any = None) -> Tensor:
    """Ones on the k-th diagonal, zeros elsewhere."""
    check_device(device, "eye")
    n_cols = n_rows if n_cols is None else n_cols
    result = zeros((n_rows, n_cols), dtype=dtype)
    row, col = (0, k) if k >= 0 else (-k, 0)
    length = builtins.min(n_rows - row, n_cols - col)
    if length > 0:
        flat = result.data.reshape(-1)
        diagonal = flat[row * n_cols + col::n_cols + 1][:length]   # a strided view
        Tensor._wrap(diagonal).assign(1)
    return result


def linspace(start: Any, stop: Any, /, num: int, *, dtype: Any = None, device: Any = None,
             endpoint: builtins.bool = True) -> Tensor:
    """num evenly spaced values from start to stop (computed in float64)."""
    check_device(device, "linspace")
    dtype = _resolve(dtype, "linspace") or DEFAULT_FLOAT
    if isinstance(num, builtins.bool) or not isinstance(num, numbers.Integral) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, received {num!r}")
    divisions = num - 1 if endpoint else num
    step = (stop - start) / divisions if divisions > 0 else 0.0
    values = ew.add(ew.multiply(_arange(num, dtype=float64), step), float(start))
    if endpoint and num > 1:
        values[num - 1:] = stop  # (a slice: tensor.__setitem__ with a full int key fails)
    return values.astype(dtype)


def from_dlpack(x: Any, /, *, device: Any = None, copy: builtins.bool | None = None) -> Tensor:
    """An array sharing memory with a DLPack producer (a copy if copy=True)."""
    check_device(device, "from_dlpack")
    result = _from_dlpack(x)
    return _copy(result) if copy else result


def _triangle(x: Tensor, k: int, lower: builtins.bool) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: expected at least 2 dims, "
                         f"received shape {x.shape}")
    rows, cols = x.shape[-2:]
    offset = ew.subtract(ops_shape.expand_dims(_arange(cols), 0),
                         ops_shape.expand_dims(_arange(rows), 1))
    keep = ew.less_equal(offset, k) if lower else ew.greater_equal(offset, k)
    return ew.where(keep, x, zeros((), dtype=x.dtype))


def tril(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The lower triangle (on and below the k-th diagonal) of the last two dims."""
    return _triangle(x, k, True)


def triu(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The upper triangle (on and above the k-th diagonal) of the last two dims."""
    return _triangle(x, k, False)


def meshgrid(*arrays: Tensor, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D arrays (copies, like NumPy's default)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', received {indexing!r}")
    sizes = [a.shape[0] for a in arrays]
    if indexing == "xy" and len(arrays) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, a in enumerate(arrays):
        axis = i
        if indexing == "xy" and len(arrays) >= 2 and i < 2:
            axis = 1 - i
        shape = [1] * len(arrays)
        shape[axis] = a.shape[0]
        grids.append(_copy(ops_shape.broadcast_to(ops_shape.reshape(a, tuple(shape)),
                                                  tuple(sizes))))
    return grids
