"""Sorting, scanning, searching and the ops composed from them: sort, argsort, cumsum,
nonzero, searchsorted, unique_*, repeat, tile, row gathers and boolean masks.

The kernels (csrc/sort.c, tensorcore/kernels/sort.py) take C-contiguous operands: the
axis an op works along is moved last (a view) and materialized by our copy kernel.
Order: NaN above every number (last ascending, first descending, as PyTorch);
sort/argsort are stable (also when descending).
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from . import dtypes
from ._dispatch import (broadcast_shapes, cast, contiguous, expand, normalize_axis,
                        normalize_shape, scalar_array)
from ._tape import attach, needs_grad
from .backend import current as backend
from .ops_elementwise import _promote
from .ops_shape import broadcast_to, expand_dims, reshape
from .tensor import Tensor, arange, as_tensor


def _input(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or isinstance(x, (numbers.Number, np.generic)):
        return as_tensor(x)
    raise TypeError(f"{op}: expected a Tensor, received {type(x).__name__}")


def _rows_along(data: np.ndarray, axis: int) -> np.ndarray:
    """`data` with `axis` moved last, C-contiguous, as a 2-D (rows, n) array."""
    moved = np.moveaxis(data, axis, -1)
    rows = int(np.prod(moved.shape[:-1], dtype=np.int64))
    return contiguous(moved).reshape(rows, data.shape[axis])


def _restore(rows: np.ndarray, shape: tuple, axis: int) -> np.ndarray:
    """Inverse of _rows_along: a C-contiguous array of `shape` (axis back in place)."""
    moved_shape = shape[:axis] + shape[axis + 1:] + (shape[axis],)
    return contiguous(np.moveaxis(rows.reshape(moved_shape), -1, axis))


def _sort_kernel(x: Tensor, axis: int, descending: bool, values: bool, index: bool):
    rows = _rows_along(x.data, axis)
    vals = np.empty(rows.shape, rows.dtype) if values else None
    idx = np.empty(rows.shape, np.int64) if index else None
    if rows.size:
        backend().sort(rows, vals, idx, bool(descending))
    return (None if vals is None else _restore(vals, x.shape, axis),
            None if idx is None else _restore(idx, x.shape, axis))


def _check_axis(op: str, x: Tensor, axis: Any) -> int:
    if x.ndim == 0:
        raise ValueError(f"{op}: expected an array of rank >= 1, received a 0-d array")
    return normalize_axis(op, axis, x.ndim)


def argsort(x: Any, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """Indices (int64) that sort x along axis; stable, NaN largest (last ascending)."""
    x = _input(x, "argsort")
    axis = _check_axis("argsort", x, axis)
    return Tensor._wrap(_sort_kernel(x, axis, descending, False, True)[1])


def sort(x: Any, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """x sorted along axis (stable, NaN largest); differentiable (the gradient follows the
    permutation)."""
    x = _input(x, "sort")
    axis = _check_axis("sort", x, axis)
    grad = needs_grad(x)
    vals, idx = _sort_kernel(x, axis, descending, True, grad)
    out = Tensor._wrap(vals)
    if grad:
        attach(out, (x,), lambda g, _o: (_unpermute(g, idx, axis),), "sort")
    return out


def _unpermute(g: Tensor, index: np.ndarray, axis: int) -> Tensor:
    """The gradient of a sort: g added back at the positions the values came from."""
    idx = _rows_along(index, axis)
    rows, n = idx.shape
    positions = np.empty(idx.shape, np.int64)
    backend().binary("add", idx, expand(_row_offsets(rows, n), idx.shape), positions)
    out = np.zeros(idx.size, g.dtype)
    backend().scatter_add(out, positions.reshape(-1), _rows_along(g.data, axis).reshape(-1))
    return Tensor._wrap(_restore(out, g.shape, axis))


def _row_offsets(rows: int, n: int) -> np.ndarray:
    """(rows, 1) int64 column holding r * n."""
    out = np.empty((rows, 1), np.int64)
    backend().binary("multiply", _arange_int64(rows).data.reshape(-1, 1),
                     expand(np.asarray(n, np.int64), (rows, 1)), out)
    return out


def _arange_int64(n: int) -> Tensor:
    return arange(0, n, 1, dtype=dtypes.int64)


# ---------------------------------------------------------------------- cumulative sum
def cumsum(x: Any, axis: Any = None, dtype: Any = None, include_initial: bool = False) -> Tensor:
    """Cumulative sum along axis (int/bool -> int64, floats keep their dtype); with
    include_initial the result starts with 0. Differentiable."""
    x = _input(x, "cumsum")
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"cumulative_sum: axis is required for arrays of rank {x.ndim}")
        if x.ndim == 0:
            raise ValueError("cumulative_sum: expected an array of rank >= 1")
        axis = 0
    axis = _check_axis("cumulative_sum", x, axis)
    src = x
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype, "cumulative_sum")
        if dtype != x.dtype:
            src = x.astype(dtype)
    out = _cumsum_data(src.data, axis, include_initial)
    if dtype is not None and out.dtype != dtype:
        out = cast(out, dtype)
    result = Tensor._wrap(out)
    if needs_grad(src):
        attach(result, (src,), lambda g, _o: (_cumsum_backward(g, axis, include_initial),),
               "cumsum")
    return result


def _cumsum_data(data: np.ndarray, axis: int, include_initial: bool) -> np.ndarray:
    shape = data.shape
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    src = contiguous(data).reshape(outer, shape[axis], inner)
    out_dtype = data.dtype if data.dtype.kind == "f" else dtypes.int64
    n = shape[axis] + (1 if include_initial else 0)
    out = np.empty((outer, n, inner), out_dtype)
    target = out[:, 1:, :] if include_initial else out
    if include_initial:
        zero = np.zeros((), out_dtype)
        if outer * inner:
            backend().copy(expand(zero, (outer, 1, inner)), out[:, :1, :])
    if src.size:
        if include_initial:
            tmp = np.empty(src.shape, out_dtype)
            backend().cumsum(src, tmp)
            backend().copy(tmp, target)
        else:
            backend().cumsum(src, out)
    return out.reshape(shape[:axis] + (n,) + shape[axis + 1:])


def _cumsum_backward(g: Tensor, axis: int, include_initial: bool) -> Tensor:
    """d(sum_j<=i x_j)/dx: the reversed cumulative sum of the gradient."""
    # Tensor indexing (differentiable basic slices; ops_index sits above this module)
    if include_initial:
        g = g[(slice(None),) * axis + (slice(1, None),)]
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return cumsum(g[flip], axis=axis)[flip]


# ---------------------------------------------------------------------- nonzero
def nonzero(x: Any) -> tuple:
    """Coordinates of the nonzero elements: one int64 array per dimension (row-major)."""
    x = _input(x, "nonzero")
    if x.ndim == 0:
        raise ValueError("nonzero: expected an array of rank >= 1, received a 0-d array")
    coords = _nonzero_data(x.data)
    return tuple(Tensor._wrap(coords[d]) for d in range(x.ndim))


def _nonzero_data(data: np.ndarray) -> np.ndarray:
    """(ndim, count) int64 coordinates of the nonzero elements of data (ndim >= 1)."""
    if data.dtype != dtypes.bool_:
        mask = np.empty(data.shape, dtypes.bool_)
        if data.size:
            backend().binary("not_equal", data, expand(np.zeros((), data.dtype), data.shape),
                             mask)
    else:
        mask = contiguous(data)
    count = _count_true(mask)
    out = np.empty((data.ndim, count), np.int64)
    if count:
        backend().nonzero(mask, out)
    return out


def _count_true(mask: np.ndarray) -> int:
    if mask.size == 0:
        return 0
    total = np.empty((1,) * mask.ndim, np.int64)
    backend().reduce("sum", mask, tuple(range(mask.ndim)), total)
    return int(total.reshape(()).item())


# ---------------------------------------------------------------------- searchsorted
def searchsorted(x1: Any, x2: Any, side: str = "left", sorter: Any = None) -> Tensor:
    """Indices where x2's elements would be inserted into the sorted 1-D x1 to keep it
    sorted (side 'left': before equal elements, 'right': after)."""
    x1 = _input(x1, "searchsorted")
    if x1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, received shape {x1.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', received {side!r}")
    if sorter is not None:
        sorter = _input(sorter, "searchsorted")
        if sorter.dtype.kind != "i" or sorter.shape != x1.shape:
            raise ValueError("searchsorted: sorter must be an integer array of x1's shape")
        x1 = take_rows(x1, sorter)
    t1, t2, dtype = _promote("searchsorted", x1, x2)
    sorted_ = contiguous(cast(t1.data, dtype))
    values = contiguous(cast(t2.data, dtype))
    out = np.empty(values.shape, np.int64)
    if values.size:
        backend().searchsorted(sorted_, values, out, side == "right")
    return Tensor._wrap(out)


# ---------------------------------------------------------------------- row gathers
def take_rows(x: Tensor, index: Any, axis: int = 0) -> Tensor:
    """x's slices at integer positions `index` (1-D, negative counts from the end) along
    axis, with our gather kernel; differentiable (scatter-add backward)."""
    x = _input(x, "take")
    index = _input(index, "take")
    if index.dtype.kind not in "iu" or index.ndim != 1:
        raise IndexError(f"take: indices must be a 1-D integer array, received dtype "
                         f"{index.dtype} and shape {index.shape}")
    n = x.shape[axis]
    idx = checked_index(index.data, n, "take", axis)
    moved = contiguous(np.moveaxis(x.data, axis, 0))
    out = np.empty((idx.size,) + moved.shape[1:], x.dtype)
    if out.size:
        backend().take_rows(moved.reshape(n, -1) if moved.ndim != 1 else moved, idx,
                            out.reshape(idx.size, -1) if out.ndim != 1 else out)
    result = Tensor._wrap(np.moveaxis(out, 0, axis))
    if needs_grad(x):
        shape = x.shape
        attach(result, (x,), lambda g, _o: (_take_backward(g, idx, shape, axis),), "take")
    return result


def checked_index(index: np.ndarray, n: int, op: str, axis: int) -> np.ndarray:
    """Integer positions along an axis of size n as a C-contiguous int64 array (same shape),
    negatives counted from the end; IndexError naming op when one lies outside [-n, n)."""
    idx = contiguous(cast(index, dtypes.int64))
    if idx.size:
        low = np.empty(1, np.int64)
        high = np.empty(1, np.int64)
        backend().reduce("min", idx.reshape(-1), (0,), low)
        backend().reduce("max", idx.reshape(-1), (0,), high)
        low_value, high_value = int(low[0]), int(high[0])
        if low_value < -n or high_value >= n:
            bad = low_value if low_value < -n else high_value
            raise IndexError(f"{op}: index {bad} is out of bounds for axis {axis} with size {n}")
        if low_value < 0:  # wrap negative positions
            wrapped = np.empty(idx.shape, np.int64)
            backend().binary("add", idx, expand(np.asarray(n, np.int64), idx.shape), wrapped)
            fixed = np.empty(idx.shape, np.int64)
            backend().where(_less_zero(idx), wrapped, idx, fixed)
            idx = fixed
    return idx


def _less_zero(idx: np.ndarray) -> np.ndarray:
    mask = np.empty(idx.shape, dtypes.bool_)
    backend().binary("less", idx, expand(np.zeros((), np.int64), idx.shape), mask)
    return mask


def _take_backward(g: Tensor, idx: np.ndarray, shape: tuple, axis: int) -> Tensor:
    moved_shape = (shape[axis],) + shape[:axis] + shape[axis + 1:]
    out = np.zeros(moved_shape, g.dtype)
    width = out.size // max(shape[axis], 1)
    gm = contiguous(np.moveaxis(g.data, axis, 0)).reshape(-1)
    if gm.size:
        positions = np.empty((idx.size, width), np.int64)
        col = np.arange(width, dtype=np.int64)
        backend().binary("multiply", expand(idx.reshape(-1, 1), positions.shape),
                         expand(np.asarray(width, np.int64), positions.shape), positions)
        backend().binary("add", positions, expand(col.reshape(1, -1), positions.shape),
                         positions)
        backend().scatter_add(out.reshape(-1), positions.reshape(-1), gm)
    return Tensor._wrap(np.moveaxis(out, 0, axis))


def mask_positions(mask: Tensor, shape: tuple, op: str) -> np.ndarray:
    """Flat row positions (int64) of the true elements of a bool mask indexing the leading
    dims of an array of `shape`."""
    if mask.shape != shape[:mask.ndim]:
        raise IndexError(f"{op}: boolean index of shape {mask.shape} does not match the "
                         f"array's leading dimensions {shape[:mask.ndim]}")
    if mask.ndim == 0:
        return np.zeros(_count_true(mask.data.reshape(1)), np.int64)
    coords = _nonzero_data(mask.data)
    flat = np.zeros(coords.shape[1], np.int64)
    stride = 1
    for d in range(mask.ndim - 1, -1, -1):
        if flat.size:
            term = np.empty(flat.shape, np.int64)
            backend().binary("multiply", coords[d], expand(np.asarray(stride, np.int64),
                                                           flat.shape), term)
            backend().binary("add", flat, term, flat)
        stride *= shape[d]
    return flat


def getitem_mask(x: Tensor, mask: Tensor) -> Tensor:
    """x[mask] for a bool mask over x's leading dims: rows gathered by our kernels."""
    k = mask.ndim
    rows = mask_positions(mask, x.shape, "__getitem__")
    if k == 0:
        return take_rows(expand_dims(x, 0), rows)
    lead = int(np.prod(x.shape[:k], dtype=np.int64))
    return take_rows(reshape(x, (lead,) + x.shape[k:]), rows)


# ---------------------------------------------------------------------- unique
class UniqueAll(NamedTuple):
    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCounts(NamedTuple):
    values: Tensor
    counts: Tensor


class UniqueInverse(NamedTuple):
    values: Tensor
    inverse_indices: Tensor


def _unique(x: Any, op: str):
    """(sorted unique values, first indices, inverse (flat), counts) with NaNs distinct."""
    x = _input(x, op)
    flat = contiguous(x.data).reshape(1, -1)
    n = flat.shape[1]
    vals = np.empty(flat.shape, flat.dtype)
    perm = np.empty(flat.shape, np.int64)
    if n:
        backend().sort(flat, vals, perm, False)
    vals, perm = vals.reshape(-1), perm.reshape(-1)
    # starts[i]: sorted[i] begins a new group (the first, or differs from its left
    # neighbour; NaN != NaN so every NaN is its own group)
    starts = np.empty(n, dtypes.bool_)
    if n:
        starts[:1] = True
        backend().binary("not_equal", vals[1:], vals[:-1], starts[1:])
    first = _nonzero_data(starts)[0] if n else np.zeros(0, np.int64)
    m = first.size
    uvalues = Tensor._wrap(_gather1(vals, first))
    indices = _gather1(perm, first)
    # counts: next start minus this start
    bounds = np.empty(m + 1, np.int64)
    bounds[m:] = n
    if m:
        backend().copy(first, bounds[:m])
    counts = np.empty(m, np.int64)
    if m:
        backend().binary("subtract", bounds[1:], bounds[:m], counts)
    # inverse: group number of each sorted position, scattered back through perm
    group = np.empty(n, np.int64)
    if n:
        backend().cumsum(starts.reshape(1, n, 1), group.reshape(1, n, 1))
        backend().binary("subtract", group, expand(np.asarray(1, np.int64), (n,)), group)
    inverse = np.zeros(n, np.int64)
    if n:
        backend().scatter_add(inverse, perm, group)
    return x, uvalues, Tensor._wrap(indices), inverse, Tensor._wrap(counts)


def _gather1(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.empty(index.size, a.dtype)
    if index.size:
        backend().take_rows(contiguous(a), index, out)
    return out


def unique_all(x: Any) -> UniqueAll:
    """Unique values (sorted), index of each one's first occurrence, inverse indices (x's
    shape) and counts."""
    x, values, indices, inverse, counts = _unique(x, "unique_all")
    return UniqueAll(values, indices, Tensor._wrap(inverse.reshape(x.shape)), counts)


def unique_counts(x: Any) -> UniqueCounts:
    """Unique values (sorted) and how often each occurs."""
    _x, values, _indices, _inverse, counts = _unique(x, "unique_counts")
    return UniqueCounts(values, counts)


def unique_inverse(x: Any) -> UniqueInverse:
    """Unique values (sorted) and, for each element of x, the index of its value."""
    x, values, _indices, inverse, _counts = _unique(x, "unique_inverse")
    return UniqueInverse(values, Tensor._wrap(inverse.reshape(x.shape)))


def unique_values(x: Any) -> Tensor:
    """Unique values (sorted; each NaN is its own value)."""
    return _unique(x, "unique_values")[1]


# ---------------------------------------------------------------------- repeat, tile
def repeat(x: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Each element (axis None: of the flattened x) repeated `repeats` times along axis
    (an int, or a 1-D integer array with one count per element)."""
    x = _input(x, "repeat")
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    if x.ndim == 0:
        raise ValueError("repeat: expected an array of rank >= 1 or axis=None")
    axis = normalize_axis("repeat", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(repeats, (numbers.Integral, np.integer)) and not isinstance(repeats, bool):
        if repeats < 0:
            raise ValueError(f"repeat: repeats must be >= 0, received {repeats}")
        counts = np.empty(n, np.int64)
        if n:
            backend().copy(expand(np.asarray(int(repeats), np.int64), (n,)), counts)
    else:
        counts_t = _input(repeats, "repeat")
        if counts_t.dtype.kind not in "iu" or counts_t.ndim > 1:
            raise TypeError(f"repeat: repeats must be an int or a 1-D integer array, "
                            f"received dtype {counts_t.dtype} and shape {counts_t.shape}")
        counts = cast(contiguous(counts_t.data).reshape(-1), dtypes.int64)
        if counts.size == 1 and n != 1:
            counts = contiguous(expand(counts.reshape(()), (n,)))
        if counts.size != n:
            raise ValueError(f"repeat: {counts.size} repeat counts for an axis of size {n}")
        if n and _int_min(counts) < 0:
            raise ValueError("repeat: repeat counts must be >= 0")
    # output position j takes source element searchsorted(cumsum(counts), j, 'right')
    ends = np.empty(n, np.int64)
    if n:
        backend().cumsum(counts.reshape(1, n, 1), ends.reshape(1, n, 1))
    total = int(ends[-1]) if n else 0
    positions = _arange_int64(total).data
    source = np.empty(total, np.int64)
    if total:
        backend().searchsorted(ends, positions, source, True)
    return take_rows(x, source, axis)


def _int_min(a: np.ndarray) -> int:
    low = np.empty(1, a.dtype)
    backend().reduce("min", a, (0,), low)
    return int(low[0])


def tile(x: Any, repetitions: Any) -> Tensor:
    """x repeated repetitions[i] times along each dimension (NumPy's tile)."""
    x = _input(x, "tile")
    reps = normalize_shape("tile", repetitions)
    ndim = max(x.ndim, len(reps))
    shape = (1,) * (ndim - x.ndim) + x.shape
    reps = (1,) * (ndim - len(reps)) + reps
    # x as (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), then merged pairwise
    inter = []
    for s in shape:
        inter += [1, s]
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    tiled = broadcast_to(reshape(x, tuple(inter)), tuple(big))
    return reshape(tiled, tuple(r * s for r, s in zip(reps, shape)))


def setitem_mask(x: Tensor, mask: Tensor, value: Any) -> None:
    """x[mask] = value in place (value broadcast to x[mask]'s shape), with our kernels:
    a `where` into x's buffer, or (one value per selected row) a scatter of the rows."""
    k = mask.ndim
    if mask.shape != x.shape[:k]:
        raise IndexError(f"__setitem__: boolean index of shape {mask.shape} does not match "
                         f"the array's leading dimensions {x.shape[:k]}")
    rest = x.shape[k:]
    if isinstance(value, Tensor):
        src = value.data
    elif isinstance(value, (bool, numbers.Number, np.generic)):
        src = scalar_array(value, x.dtype, "__setitem__")
    else:
        src = as_tensor(value).data
    src = cast(src, x.dtype)
    count = _count_true(mask.data)
    target = (count,) + rest
    if broadcast_shapes("__setitem__", src.shape, target) != target:
        raise ValueError(f"__setitem__: value of shape {src.shape} does not broadcast to "
                         f"the selection's shape {target}")
    if src.ndim <= len(rest) or src.shape[0] == 1:
        core = src.reshape(src.shape[1:]) if src.ndim > len(rest) else src
        mask_full = expand(mask.data.reshape(mask.shape + (1,) * len(rest)), x.shape)
        backend().where(mask_full, expand(core, x.shape), x.data, x.data)
        return
    # one value row per selected row: scatter the rows into a contiguous buffer
    work = contiguous(x.data)
    width = int(np.prod(rest, dtype=np.int64))
    rows = mask_positions(mask, x.shape, "__setitem__")
    values = contiguous(expand(src, target)).reshape(-1)
    positions = np.empty((count, width), np.int64)
    if values.size:
        backend().binary("multiply", expand(rows.reshape(-1, 1), positions.shape),
                         expand(np.asarray(width, np.int64), positions.shape), positions)
        backend().binary("add", positions, expand(np.arange(width, dtype=np.int64).reshape(
            1, -1), positions.shape), positions)
        # clear the selected elements (-0.0 keeps the sign of a written -0.0), then add
        flat = work.reshape(-1)
        fill = np.asarray(-0.0 if x.dtype.kind == "f" else 0, x.dtype)
        mask_full = expand(mask.data.reshape(mask.shape + (1,) * len(rest)), x.shape)
        backend().where(mask_full, expand(fill, x.shape), work, work)
        if x.dtype == dtypes.bool_:
            as_int = cast(flat, dtypes.int64)
            backend().scatter_add(as_int, positions.reshape(-1), cast(values, dtypes.int64))
            backend().copy(as_int, flat)
        else:
            backend().scatter_add(flat, positions.reshape(-1), values)
    if work is not x.data:
        backend().copy(work, x.data)
