"""Array API manipulation functions (views where possible, copies by our copy kernel)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import ops_shape
from .._dispatch import broadcast_shapes, normalize_axes, normalize_axis
from ..tensor import Tensor
from ._dtypes import result_type



def broadcast_to(x: Tensor, /, shape: tuple) -> Tensor:
    """A read-only view of x broadcast to shape."""
    return ops_shape.broadcast_to(x, shape)


def permute_dims(x: Tensor, /, axes: tuple) -> Tensor:
    """A view of x with its axes reordered."""
    return ops_shape.permute_dims(x, axes)


def broadcast_arrays(*arrays: Tensor) -> list:
    """The arrays broadcast against each other (read-only views)."""
    shape = broadcast_shapes("broadcast_arrays", *(a.shape for a in arrays)) if arrays else ()
    return [ops_shape.broadcast_to(a, shape) for a in arrays]


def _common(op: str, arrays: Sequence[Tensor]) -> list:
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{op}: expected at least one array")
    dtype = result_type(*arrays)
    return [a if a.dtype == dtype else a.astype(dtype) for a in arrays]


def concat(arrays: Sequence[Tensor], /, *, axis: int | None = 0) -> Tensor:
    """Join arrays along an existing axis (axis=None: flattened)."""
    arrays = _common("concat", arrays)
    if axis is None:
        return ops_shape.concatenate([ops_shape.reshape(a, (-1,)) for a in arrays], 0)
    return ops_shape.concatenate(arrays, axis)


def stack(arrays: Sequence[Tensor], /, *, axis: int = 0) -> Tensor:
    """Join arrays along a new axis."""
    return ops_shape.stack(_common("stack", arrays), axis)


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple:
    """Views of x split along axis."""
    axis = normalize_axis("unstack", axis, x.ndim)
    lead = (slice(None),) * axis
    return tuple(x[lead + (i,)] for i in range(x.shape[axis]))


def expand_dims(x: Tensor, /, axis: int = 0) -> Tensor:
    """x with a new size-1 axis at position axis."""
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"expand_dims: axis {axis} is out of range for the result of rank "
                         f"{x.ndim + 1}")
    return ops_shape.expand_dims(x, axis)


def squeeze(x: Tensor, /, axis: int | tuple) -> Tensor:
    """x without the given size-1 axes."""
    axes = normalize_axes("squeeze", axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}; only size-1 axes "
                             "can be removed")
    return ops_shape.squeeze(x, axes)


def reshape(x: Tensor, /, shape: tuple, *, copy: bool | None = None) -> Tensor:
    """x with a new shape (a view when possible; copy=False requires one)."""
    result = ops_shape.reshape(x, tuple(shape))
    shares = np.may_share_memory(result.data, x.data)
    if copy is False and not shares:
        raise ValueError(f"reshape: shape {x.shape} -> {tuple(shape)} needs a copy, but "
                         "copy=False")
    if copy and shares:
        result = ops_shape.copy_of(result)
    return result


def flip(x: Tensor, /, *, axis: int | tuple | None = None) -> Tensor:
    """x with the order of elements reversed along axis (a view)."""
    axes = normalize_axes("flip", axis, x.ndim)
    if x.ndim == 0:
        return x
    return x[tuple(slice(None, None, -1) if d in axes else slice(None)
                   for d in range(x.ndim))]


def moveaxis(x: Tensor, source: Any, destination: Any, /) -> Tensor:
    """x with the source axes moved to the destination positions (a view)."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination need the same number of axes")
    src = tuple(normalize_axis("moveaxis", a, x.ndim) for a in src)
    dst = tuple(normalize_axis("moveaxis", a, x.ndim) for a in dst)
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return ops_shape.permute_dims(x, tuple(order))


def roll(x: Tensor, /, shift: Any, *, axis: Any = None) -> Tensor:
    """Elements shifted along axis, wrapping around (axis=None: flattened)."""
    if axis is None:
        return reshape(roll(ops_shape.reshape(x, (-1,)), shift, axis=0), x.shape)
    shifts = (shift,) if isinstance(shift, int) else tuple(shift)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(shifts) != len(axes):
        raise ValueError("roll: shift and axis need the same length")
    result = x
    for s, a in zip(shifts, axes):
        a = normalize_axis("roll", a, x.ndim)
        n = x.shape[a]
        if n == 0 or s % n == 0:
            continue
        cut = n - s % n
        lead = (slice(None),) * a
        result = ops_shape.concatenate([result[lead + (slice(cut, None),)],
                                        result[lead + (slice(0, cut),)]], a)
    return result if result is not x else ops_shape.copy_of(x)


def take(x: Tensor, indices: Tensor, /, *, axis: int | None = None) -> Tensor:
    """Elements of x at integer indices along axis (a gather)."""
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for arrays of rank {x.ndim}")
        axis = 0
    axis = normalize_axis("take", axis, x.ndim)
    from ..ops_sort import take_rows
    return take_rows(x, indices, axis)


def matrix_transpose(x: Tensor, /) -> Tensor:
    """x with its last two axes swapped (a view)."""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: expected at least 2 dims, received shape {x.shape}")
    return ops_shape.swapaxes(x, -1, -2)
