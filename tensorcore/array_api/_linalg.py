"""Array API linear algebra: matmul, tensordot and vecdot on tensorcore's GEMM."""

from __future__ import annotations

from typing import Any

from .. import ops_matrix, ops_shape
from .._dispatch import broadcast_shapes, normalize_axis
from ..tensor import Tensor
from ._dtypes import result_type


def _common(x1: Tensor, x2: Tensor) -> tuple:
    dtype = result_type(x1, x2)
    return (x1 if x1.dtype == dtype else x1.astype(dtype),
            x2 if x2.dtype == dtype else x2.astype(dtype))


def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product with NumPy's rules for 1-D operands and batch broadcasting."""
    return ops_matrix.matmul(*_common(x1, x2))


def tensordot(x1: Tensor, x2: Tensor, /, *, axes: Any = 2) -> Tensor:
    """Sum of products over the given axes (an int N: the last N of x1, first N of x2)."""
    x1, x2 = _common(x1, x2)
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError(f"tensordot: axes must be >= 0, received {axes}")
        a1 = tuple(range(x1.ndim - axes, x1.ndim))
        a2 = tuple(range(axes))
    else:
        a1, a2 = (tuple(a) for a in axes)
    a1 = tuple(normalize_axis("tensordot", a, x1.ndim) for a in a1)
    a2 = tuple(normalize_axis("tensordot", a, x2.ndim) for a in a2)
    if len(a1) != len(a2) or any(x1.shape[i] != x2.shape[j] for i, j in zip(a1, a2)):
        raise ValueError(f"tensordot: contracted axes {a1} of shape {x1.shape} and {a2} of "
                         f"shape {x2.shape} do not match")
    free1 = tuple(d for d in range(x1.ndim) if d not in a1)
    free2 = tuple(d for d in range(x2.ndim) if d not in a2)
    k = 1
    for d in a1:
        k *= x1.shape[d]
    m = 1
    for d in free1:
        m *= x1.shape[d]
    n = 1
    for d in free2:
        n *= x2.shape[d]
    left = ops_shape.reshape(ops_shape.permute_dims(x1, free1 + a1), (m, k))
    right = ops_shape.reshape(ops_shape.permute_dims(x2, a2 + free2), (k, n))
    out_shape = tuple(x1.shape[d] for d in free1) + tuple(x2.shape[d] for d in free2)
    return ops_shape.reshape(ops_matrix.matmul(left, right), out_shape)


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Dot product of vectors along axis (broadcasting the other axes)."""
    x1, x2 = _common(x1, x2)
    ndim = max(x1.ndim, x2.ndim)
    if not -min(x1.ndim, x2.ndim) <= axis < 0 and not 0 <= axis < min(x1.ndim, x2.ndim):
        raise IndexError(f"vecdot: axis {axis} is out of range for shapes {x1.shape} and "
                         f"{x2.shape}")
    axis = axis if axis < 0 else axis - ndim
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} has size {x1.shape[axis]} in x1 and "
                         f"{x2.shape[axis]} in x2")
    shape = broadcast_shapes("vecdot", x1.shape, x2.shape)
    x1 = ops_shape.broadcast_to(x1, shape)
    x2 = ops_shape.broadcast_to(x2, shape)
    axis += len(shape)
    order = tuple(d for d in range(len(shape)) if d != axis) + (axis,)
    a = ops_shape.expand_dims(ops_shape.permute_dims(x1, order), -2)   # (..., 1, n)
    b = ops_shape.expand_dims(ops_shape.permute_dims(x2, order), -1)   # (..., n, 1)
    return ops_shape.reshape(ops_matrix.matmul(a, b), a.shape[:-2])
