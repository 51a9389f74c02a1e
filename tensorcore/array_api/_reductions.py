"""Array API statistical, searching and utility functions."""

from __future__ import annotations

from typing import Any

from .. import ops_elementwise as ew
from .. import ops_reduce, ops_shape
from .._dispatch import normalize_axes
from ..tensor import Tensor
from ._creation import full
from ._dtypes import bool as bool_



def max(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest element over axis (NaN propagates)."""
    return ops_reduce.max(x, axis=axis, keepdims=keepdims)


def min(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest element over axis (NaN propagates)."""
    return ops_reduce.min(x, axis=axis, keepdims=keepdims)


def where(condition: Tensor, x1: Any, x2: Any, /) -> Tensor:
    """Elements of x1 where condition is true, else of x2 (broadcast together)."""
    return ew.where(condition, x1, x2)


def _with_dtype(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None or x.dtype == dtype else x.astype(dtype)


def sum(x: Tensor, /, *, axis: Any = None, dtype: Any = None,  # noqa: A001
        keepdims: bool = False) -> Tensor:
    """Sum over axis (integer and bool sums are int64)."""
    return _with_dtype(ops_reduce.sum(_with_dtype(x, dtype), axis=axis, keepdims=keepdims),
                       dtype)


def prod(x: Tensor, /, *, axis: Any = None, dtype: Any = None,
         keepdims: bool = False) -> Tensor:
    """Product over axis (pairwise: log2(n) multiplies; int and bool give int64)."""
    if dtype is None and x.dtype.kind in "ib":
        dtype = "int64"
    x = _with_dtype(x, dtype)
    axes = normalize_axes("prod", axis, x.ndim)
    keep_shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    rest = tuple(d for d in range(x.ndim) if d not in axes)
    moved = ops_shape.permute_dims(x, axes + rest)
    count = 1
    for d in axes:
        count *= x.shape[d]
    flat = ops_shape.reshape(moved, (count,) + tuple(x.shape[d] for d in rest))
    if count == 0:
        flat = full((1,) + flat.shape[1:], 1, dtype=x.dtype)
    while flat.shape[0] > 1:
        half = flat.shape[0] // 2
        paired = ew.multiply(flat[:half], flat[half:2 * half])
        if flat.shape[0] % 2:
            paired = ops_shape.concatenate([paired, flat[2 * half:]], 0)
        flat = paired
    result = ops_shape.reshape(flat, keep_shape)
    return result if keepdims else ops_shape.reshape(
        result, tuple(n for d, n in enumerate(keep_shape) if d not in axes))


def mean(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over axis."""
    return ops_reduce.mean(x, axis=axis, keepdims=keepdims)


def var(x: Tensor, /, *, axis: Any = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Variance over axis, dividing by N - correction."""
    if float(correction).is_integer():
        return ops_reduce.var(x, axis=axis, keepdims=keepdims, ddof=int(correction))
    count = 1
    for d in normalize_axes("var", axis, x.ndim):
        count *= x.shape[d]
    scale = count / (count - correction) if count != correction else float("inf")
    return ew.multiply(ops_reduce.var(x, axis=axis, keepdims=keepdims), scale)


def std(x: Tensor, /, *, axis: Any = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Standard deviation over axis, dividing by N - correction."""
    return ew.sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims))


def argmax(x: Tensor, /, *, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the first maximum (over the flattened array when axis is None)."""
    return ops_reduce.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: Tensor, /, *, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the first minimum (over the flattened array when axis is None)."""
    return ops_reduce.argmin(x, axis=axis, keepdims=keepdims)


def count_nonzero(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Number of non-zero elements over axis."""
    return ops_reduce.sum(ew.not_equal(x, False if x.dtype == bool_ else 0), axis=axis,
                          keepdims=keepdims)


def _truth(op: str, x: Tensor, axis: Any, keepdims: bool, empty_value: bool) -> Tensor:
    flags = x if x.dtype == bool_ else ew.not_equal(x, 0)
    axes = normalize_axes(op, axis, x.ndim)
    reduced = 1
    for d in axes:
        reduced *= x.shape[d]
    if reduced == 0:
        shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape)) if keepdims else \
            tuple(n for d, n in enumerate(x.shape) if d not in axes)
        return full(shape, empty_value, dtype=bool_)
    reduce = ops_reduce.min if op == "all" else ops_reduce.max
    return reduce(flags, axis=axes, keepdims=keepdims)


def all(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """True where every element over axis is true."""
    return _truth("all", x, axis, keepdims, True)


def any(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """True where some element over axis is true."""
    return _truth("any", x, axis, keepdims, False)
