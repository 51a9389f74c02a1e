"""The array API `linalg` extension, the part a tensor engine of this kind provides:
matmul, matrix_transpose, vecdot, tensordot, vector_norm, matrix_norm (every ord), svdvals,
matrix_rank, outer, diagonal, trace, cross. Factorizations and solvers (cholesky, qr, svd,
eigh, inv, solve, det, ...) are out of scope (docs/array-api.md). Everything is composed
from tensorcore's ops and kernels; svdvals is a kernel of its own (one-sided Jacobi,
csrc/svdvals.c and tensorcore/kernels/svd.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops_elementwise as ew
from .. import ops_reduce, ops_shape
from .._dispatch import broadcast_shapes, contiguous, normalize_axes, normalize_axis
from ..backend import current as backend
from ..tensor import Tensor
from . import _reductions
from ._dtypes import result_type
from ._linalg import matmul, tensordot, vecdot
from ._manipulation import matrix_transpose

__all__ = ["matmul", "matrix_norm", "matrix_transpose", "vecdot", "tensordot", "vector_norm",
           "outer", "diagonal", "trace", "cross", "svdvals", "matrix_rank"]


def _need_float(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a real floating-point array, received dtype "
                        f"{x.dtype}")


def vector_norm(x: Tensor, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Tensor:  # noqa: A002
    """The p-norm of the vectors along axis (all axes when None): ord = p > 0, 0 (count of
    nonzeros), inf/-inf (max/min of |x|), negative p."""
    _need_float("vector_norm", x)
    axes = normalize_axes("vector_norm", axis, x.ndim)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"vector_norm: ord must be a number, received {ord!r}")
    a = ew.abs(x)
    if ord == math.inf:
        return _reductions.max(a, axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return _reductions.min(a, axis=axes, keepdims=keepdims)
    if ord == 0:
        return ops_reduce.sum(ew.not_equal(x, 0.0), axis=axes,
                              keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return ops_reduce.sum(a, axis=axes, keepdims=keepdims)
    if ord == 2:
        # scaled by the largest |x| so squares neither overflow nor underflow
        scale = _reductions.max(a, axis=axes, keepdims=True) if x.size else None
        if scale is None:
            return ops_reduce.sum(a, axis=axes, keepdims=keepdims)
        safe = ew.where(ew.equal(scale, 0.0), 1.0, ew.where(ew.equal(scale, math.inf), 1.0,
                                                            scale))
        r = ew.multiply(ew.sqrt(ops_reduce.sum(ew.square(ew.divide(a, safe)), axis=axes,
                                               keepdims=True)), safe)
        r = ew.where(ew.equal(scale, math.inf), math.inf, r)
        return r if keepdims else ops_shape.squeeze(r, axes) if axes else r
    p = float(ord)
    return ew.power(ops_reduce.sum(ew.power(a, p), axis=axes, keepdims=keepdims), 1.0 / p)


def matrix_norm(x: Tensor, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    """Norm of the matrices in the last two axes: 'fro' (Frobenius), 'nuc' (sum of the
    singular values), 2/-2 (largest/smallest singular value), 1/-1 (max/min column sum of
    |x|), inf/-inf (max/min row sum)."""
    _need_float("matrix_norm", x)
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: expected at least 2 dims, received shape {x.shape}")
    axes = (x.ndim - 2, x.ndim - 1)
    if ord == "fro":
        return vector_norm(x, axis=axes, keepdims=keepdims, ord=2)
    if isinstance(ord, bool) or ord not in ("nuc", 1, -1, 2, -2, math.inf, -math.inf):
        raise ValueError(f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, "
                         f"received {ord!r}")
    if ord in ("nuc", 2, -2):
        sv = svdvals(x)
        if sv.shape[-1] == 0:                   # an empty matrix: norm 0, as 'fro'
            r = ops_reduce.sum(sv, axis=-1, keepdims=True)
        else:
            r = ({"nuc": ops_reduce.sum, 2: _reductions.max, -2: _reductions.min}[ord])(
                sv, axis=-1, keepdims=True)
        return ops_shape.expand_dims(r, axis=-1) if keepdims else ops_shape.squeeze(r, -1)
    summed_axis = x.ndim - 2 if ord in (1, -1) else x.ndim - 1
    sums = ops_reduce.sum(ew.abs(x), axis=summed_axis, keepdims=True)
    pick = _reductions.max if ord in (1, math.inf) else _reductions.min
    return pick(sums, axis=axes, keepdims=keepdims)


def svdvals(x: Tensor, /) -> Tensor:
    """Singular values, descending, of the matrices in the last two axes (shape
    (..., min(m, n))). A matrix with a NaN or infinite entry gives NaN."""
    _need_float("svdvals", x)
    if x.ndim < 2:
        raise ValueError(f"svdvals: expected at least 2 dims, received shape {x.shape}")
    m, n = x.shape[-2:]
    out = np.empty(x.shape[:-2] + (min(m, n),), x.dtype)
    if out.size:
        backend().svdvals(contiguous(x.data), out)
    return Tensor._wrap(out)


def matrix_rank(x: Tensor, /, *, rtol: Any = None) -> Tensor:
    """Number of singular values above rtol * the largest, per matrix (int64, shape
    x.shape[:-2]); rtol (a float or an array broadcasting against x.shape[:-2]) defaults to
    max(m, n) * eps of x's dtype."""
    _need_float("matrix_rank", x)
    if x.ndim < 2:
        raise ValueError(f"matrix_rank: expected at least 2 dims, received shape {x.shape}")
    sv = svdvals(x)
    if rtol is None:
        rtol = max(x.shape[-2:]) * float(np.finfo(x.dtype).eps)
    elif isinstance(rtol, Tensor):
        rtol = ops_shape.expand_dims(rtol, axis=-1)
    largest = sv[..., :1] if sv.shape[-1] else sv
    return _reductions.count_nonzero(ew.greater(sv, ew.multiply(largest, rtol)), axis=-1)


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """x1[i] * x2[j] for 1-D x1, x2."""
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"outer: expected 1-D arrays, received shapes {x1.shape} and "
                         f"{x2.shape}")
    return ew.multiply(ops_shape.reshape(x1, (-1, 1)), ops_shape.reshape(x2, (1, -1)))


def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonal (offset > 0: above the main one) of the matrices in the last two axes."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected at least 2 dims, received shape {x.shape}")
    n, m = x.shape[-2:]
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    k = max(0, min(n - row, m - col))
    d = x.data
    start = d[..., row:row + 1, col:col + 1] if k else d[..., :0, :0]
    view = np.lib.stride_tricks.as_strided(
        start, shape=d.shape[:-2] + (k,),
        strides=d.strides[:-2] + (d.strides[-2] + d.strides[-1],), writeable=False)
    return Tensor._wrap(contiguous(view) if view.size else np.empty(view.shape, d.dtype))


def trace(x: Tensor, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """Sum of diagonal(x, offset) (integer traces are int64 unless dtype is given)."""
    return _reductions.sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-element vectors along axis (broadcasting the other axes)."""
    shape = broadcast_shapes("cross", x1.shape, x2.shape)
    if not -min(x1.ndim, x2.ndim) <= axis < min(x1.ndim, x2.ndim):
        raise IndexError(f"cross: axis {axis} is out of range for shapes {x1.shape} and "
                         f"{x2.shape}")
    axis = normalize_axis("cross", axis if axis < 0 else axis - max(x1.ndim, x2.ndim),
                          len(shape))
    if x1.shape[axis - len(shape) + x1.ndim] != 3 or x2.shape[axis - len(shape) +
                                                               x2.ndim] != 3:
        raise ValueError(f"cross: axis {axis} must have size 3 in both arrays, received "
                         f"shapes {x1.shape} and {x2.shape}")
    dtype = result_type(x1, x2)
    a = ops_shape.broadcast_to(x1.astype(dtype) if x1.dtype != dtype else x1, shape)
    b = ops_shape.broadcast_to(x2.astype(dtype) if x2.dtype != dtype else x2, shape)

    def part(t: Tensor, i: int) -> Tensor:
        return t[(slice(None),) * axis + (slice(i, i + 1),)]

    c = [ew.subtract(ew.multiply(part(a, (i + 1) % 3), part(b, (i + 2) % 3)),
                     ew.multiply(part(a, (i + 2) % 3), part(b, (i + 1) % 3)))
         for i in range(3)]
    return ops_shape.concatenate(c, axis=axis)
