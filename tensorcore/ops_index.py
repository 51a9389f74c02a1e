"""Indexing: ints, slices, None, Ellipsis (views) and integer/bool arrays (gather), with
a scatter-add backward so repeated indices accumulate."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._dispatch import broadcast_shapes, cast, check_target, contiguous, expand, scalar_array
from ._tape import attach, needs_grad
from .backend import current as backend
from .ops_sort import _count_true, _nonzero_data, checked_index, getitem_mask, setitem_mask
from .tensor import Tensor, as_tensor


def _slice_of_ints(item: slice, op: str) -> slice:
    """A slice whose bounds that are one-element integer tensors become Python ints."""
    parts = []
    for part in (item.start, item.stop, item.step):
        if isinstance(part, Tensor):
            if part.dtype.kind not in "iu" or part.size != 1:
                raise TypeError(f"{op}: slice bounds must be ints or None, received a "
                                f"tensor of dtype {part.dtype} and shape {part.shape}")
            part = int(part.item())
        parts.append(part)
    return slice(*parts)


def _normalize_key(key: Any, op: str) -> tuple[tuple, bool]:
    """The key as a tuple of NumPy-understood items, and whether it is advanced."""
    items = key if isinstance(key, tuple) else (key,)
    result = []
    advanced = False
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            if isinstance(item, slice):
                if any(isinstance(part, Tensor) for part in (item.start, item.stop,
                                                             item.step)):
                    item = _slice_of_ints(item, op)
                for part in (item.start, item.stop, item.step):
                    if part is not None and (isinstance(part, bool) or
                                             not isinstance(part, (numbers.Integral,
                                                                   np.integer))):
                        raise TypeError(f"{op}: slice bounds must be ints or None, "
                                        f"received {item!r}")
                if item.step == 0:
                    raise ValueError(f"{op}: slice step cannot be zero")
            result.append(item)
        elif isinstance(item, (bool, np.bool_)):
            raise TypeError(f"{op}: a bool scalar is not a valid index; use an int, slice, "
                            "None, Ellipsis or an integer array")
        elif isinstance(item, (numbers.Integral, np.integer)):
            result.append(int(item))
        elif isinstance(item, (Tensor, np.ndarray, list)):
            array = item.data if isinstance(item, Tensor) else np.asarray(item)
            if array.dtype == np.bool_:
                pass
            elif array.dtype.kind in "iu" or (array.size == 0 and array.dtype.kind == "f"):
                array = array.astype(np.int64, copy=False)
            else:
                raise TypeError(f"{op}: index arrays must hold integers or bools, received "
                                f"dtype {array.dtype}")
            result.append(array)
            advanced = True
        else:
            raise TypeError(f"{op}: invalid index {item!r} of type {type(item).__name__}; "
                            "expected int, slice, None, Ellipsis or an integer array")
    if sum(1 for item in result if item is Ellipsis) > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    return tuple(result), advanced


def _apply(data: np.ndarray, key: tuple, op: str) -> np.ndarray:
    try:
        return data[key]
    except IndexError as exc:
        raise IndexError(f"{op}: {exc} (tensor shape {data.shape})") from None


def index_view(t: Tensor, key: Any, op: str = "__getitem__") -> np.ndarray | None:
    """The NumPy view selected by a basic key, or None when the key is advanced."""
    norm, advanced = _normalize_key(key, op)
    if advanced:
        return None
    view = _apply(t.data, norm, op)
    if not isinstance(view, np.ndarray) or (view.ndim == 0 and view.base is None):
        # Integers in every position give a NumPy scalar; an Ellipsis keeps a 0-d view.
        view = _apply(t.data, norm + (Ellipsis,), op)
    return view


def _sole_mask(key: Any) -> Tensor | None:
    """The bool array when `key` is one boolean array (alone or with a trailing Ellipsis)."""
    if isinstance(key, tuple) and len(key) == 2 and key[1] is Ellipsis:
        key = key[0]
    if isinstance(key, Tensor) and key.dtype == np.bool_:
        return key
    if isinstance(key, np.ndarray) and key.dtype == np.bool_:
        return Tensor._wrap(key)
    return None


# ---------------------------------------------------------------------- advanced keys
# An advanced key (integer or bool arrays, possibly with ints, slices, None, Ellipsis) is
# computed as a table of element positions, one per result element, built with our kernels
# (index checks, negative wrap, coordinate * stride sums); the gather (getitem), its
# scatter-add backward and the scatter (setitem) then move elements with take_rows /
# scatter_add / put_rows. NumPy only allocates and makes views here, as everywhere.


class _Plan:
    """Where each element of t[key] comes from, for an advanced key on an array of `shape`.

    `terms` are (values, axes) pairs: int64 coordinate arrays and the result axes their dims
    map to, one per indexed dimension of t (`dims`); positions(strides) sums coordinate *
    stride over them, broadcast to `shape_out`."""

    def __init__(self, shape_out: tuple, terms: list, rows: np.ndarray | None) -> None:
        self.shape_out = shape_out
        self.terms = terms          # (dim of t, coordinates, axes of the result they span)
        self.rows = rows            # the checked 1-D index when the key selects whole rows

    def positions(self, strides: tuple) -> np.ndarray:
        """int64 array of shape_out: sum over dims of coordinate * strides[dim]."""
        out = np.zeros(self.shape_out, np.int64)
        if out.size == 0:
            return out
        ndim = len(self.shape_out)
        for dim, coords, axes in self.terms:
            if strides[dim] == 0:
                continue
            shape = [1] * ndim
            for axis, size in zip(axes, coords.shape):
                shape[axis] = size
            term = np.empty(coords.shape, np.int64)
            backend().binary("multiply", coords, expand(np.asarray(strides[dim], np.int64),
                                                        coords.shape), term)
            backend().binary("add", out, expand(term.reshape(shape), self.shape_out), out)
        return out


def _plan(shape: tuple, key: tuple, op: str) -> _Plan:
    """The _Plan of an advanced key (already normalized by _normalize_key) on `shape`."""
    # bool arrays become the integer arrays of their true positions (our nonzero kernel)
    items = []
    for item in key:
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            items.append(("bool", item))
        else:
            items.append(("item", item))
    used = sum(item.ndim if kind == "bool" else
               (0 if item is None or item is Ellipsis else 1) for kind, item in items)
    if used > len(shape):
        raise IndexError(f"{op}: too many indices for a tensor of shape {shape}: {used} "
                         f"dimensions indexed, {len(shape)} available")
    expanded = []
    for kind, item in items:
        if kind == "item" and item is Ellipsis:
            # An Ellipsis separates advanced indices even where it stands for no dimension
            # (NumPy: x[:, [0, 2], ..., [1, 3]] on 3-d x puts the broadcast axes first).
            expanded += [("item", slice(None))] * (len(shape) - used) or [("gap", None)]
        else:
            expanded.append((kind, item))
    if not any(kind == "item" and item is Ellipsis for kind, item in items):
        expanded += [("item", slice(None))] * (len(shape) - used)
    # walk the key: basic entries give result axes, advanced ones share the broadcast shape
    basic = []      # (dim or None for a new axis, coordinates)
    advanced = []   # (dim, int64 index array), in key order
    full_slices = 0         # slices that keep a whole dimension
    first_advanced = None   # how many basic result axes precede the first advanced index
    runs = 0                # separate runs of advanced indices (1: they are adjacent)
    previous_advanced = False
    dim = 0
    for kind, item in expanded:
        if kind == "gap":
            previous_advanced = False
            continue
        is_advanced = kind == "bool" or isinstance(item, (int, np.ndarray))
        if is_advanced and not previous_advanced:
            runs += 1
            if first_advanced is None:
                first_advanced = len(basic)
        previous_advanced = is_advanced
        if kind == "bool":
            if item.shape != shape[dim:dim + item.ndim]:
                raise IndexError(f"{op}: boolean index of shape {item.shape} does not match "
                                 f"the indexed dimensions {shape[dim:dim + item.ndim]} of the "
                                 f"tensor of shape {shape}")
            if item.ndim == 0:
                advanced.append((None, np.zeros(_count_true(item.reshape(1)), np.int64)))
            else:
                for row in _nonzero_data(item):
                    advanced.append((dim, row))
                    dim += 1
        elif item is None:
            basic.append((None, np.zeros(1, np.int64)))
        elif isinstance(item, slice):
            r = range(*item.indices(shape[dim]))
            full_slices += r == range(shape[dim])
            coords = np.arange(r.start, r.start + len(r) * r.step, r.step, dtype=np.int64) \
                if len(r) else np.zeros(0, np.int64)
            basic.append((dim, coords))
            dim += 1
        elif isinstance(item, int):
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(f"{op}: index {item} is out of bounds for axis {dim} with "
                                 f"size {shape[dim]}")
            advanced.append((dim, np.asarray(item % shape[dim], np.int64)))
            dim += 1
        else:  # an integer array
            advanced.append((dim, checked_index(item, shape[dim], op, dim)))
            dim += 1
    bshape = broadcast_shapes(op, *(index.shape for _, index in advanced))
    start = first_advanced if runs == 1 else 0
    shape_out = (tuple(len(c) for _, c in basic[:start]) + bshape +
                 tuple(len(c) for _, c in basic[start:]))
    terms = []
    for j, (d, coords) in enumerate(basic):
        if d is not None:
            terms.append((d, coords, (j if j < start else j + len(bshape),)))
    for d, index in advanced:
        if d is not None:
            lead = len(bshape) - index.ndim
            axes = tuple(start + lead + k for k in range(index.ndim))
            terms.append((d, index, axes))
    # x[index] with a 1-D index (and full slices after it): whole rows, one memcpy each
    whole_rows = (len(advanced) == 1 and advanced[0][0] == 0 and advanced[0][1].ndim == 1
                  and full_slices == len(basic) == len(shape) - 1)
    return _Plan(shape_out, terms, advanced[0][1] if whole_rows else None)


def _flat(data: np.ndarray) -> tuple[np.ndarray, tuple] | None:
    """A 1-D view over the memory span of `data` and its element strides, when every stride
    is a non-negative multiple of the item size (else None: the caller copies first)."""
    item = data.itemsize
    if data.size == 0 or any(s < 0 or s % item for s in data.strides):
        return None
    strides = tuple(s // item for s in data.strides)
    span = 1 + sum((n - 1) * s for n, s in zip(data.shape, strides))
    flat = np.lib.stride_tricks.as_strided(data, shape=(span,), strides=(item,),
                                           writeable=data.flags.writeable)
    return flat, strides


def _c_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _gather(data: np.ndarray, plan: _Plan) -> np.ndarray:
    """data[key] for the key of `plan`, with our gather kernel."""
    out = np.empty(plan.shape_out, data.dtype)
    if out.size == 0:
        return out
    if plan.rows is not None and data.flags.c_contiguous:
        backend().take_rows(data, plan.rows, out)
        return out
    view = _flat(data)
    if view is None:
        data = contiguous(data)
        view = data.reshape(-1), _c_strides(data.shape)
    flat, strides = view
    backend().take_rows(flat, plan.positions(strides).reshape(-1), out.reshape(-1))
    return out


def gather_array(data: np.ndarray, key: Any, op: str) -> np.ndarray:
    """data[key] for an advanced key on a NumPy array of any dtype and layout (no autodiff),
    with our kernels; errors name `op`."""
    norm, _ = _normalize_key(key, op)
    return _gather(data, _plan(data.shape, norm, op))


def getitem(t: Tensor, key: Any) -> Tensor:
    """t[key]: a view for basic keys, a gathered copy for integer/bool array keys."""
    mask = _sole_mask(key)
    if mask is not None:
        return getitem_mask(t, mask)
    norm, advanced = _normalize_key(key, "__getitem__")
    if advanced:
        plan = _plan(t.shape, norm, "__getitem__")
        result = Tensor._wrap(_gather(t.data, plan))
        if needs_grad(t):
            shape = t.shape
            attach(result, (t,), lambda g, _o: (_gather_backward(g, shape, plan, norm),),
                   "index")
        return result
    data = _apply(t.data, norm, "__getitem__")
    if not isinstance(data, np.ndarray):
        data = np.asarray(data)
    if data.ndim == 0 and data.base is None:
        # Integer indexing to a scalar: keep a 0-d view so writes stay visible, and keep
        # that key for the backward (out[norm] there would be a NumPy scalar, a copy, and
        # the gradient written into it would be lost: x[0] of a 1-d x got a zero gradient).
        norm = norm + (Ellipsis,)
        data = _apply(t.data, norm, "__getitem__")
    result = Tensor._wrap(data)
    if needs_grad(t):
        shape = t.shape
        attach(result, (t,), lambda g, _o: (_slice_backward(g, shape, norm),), "index")
    return result


def _gather_backward(g: Tensor, shape: tuple, plan: _Plan, key: tuple) -> Tensor:
    """Zeros of `shape` with g added at the gathered positions (repeats accumulate)."""
    out = np.zeros(shape, g.dtype)
    if g.size:
        positions = plan.positions(_c_strides(shape)).reshape(-1)
        backend().scatter_add(out.reshape(-1), positions, contiguous(g.data).reshape(-1))
    result = Tensor._wrap(out)
    if needs_grad(g):
        attach(result, (g,), lambda gg, _o: (getitem(gg, key),), "index_backward")
    return result


def _slice_backward(g: Tensor, shape: tuple, key: tuple) -> Tensor:
    """Zeros of `shape` with g copied into the basic view `key`."""
    out = np.zeros(shape, g.dtype)
    if g.size:
        backend().copy(g.data, out[key])
    result = Tensor._wrap(out)
    if needs_grad(g):
        attach(result, (g,), lambda gg, _o: (getitem(gg, key),), "index_backward")
    return result


def _copy_of(array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, array.dtype)
    backend().copy(array, out)
    return out


def setitem_advanced(t: Tensor, key: Any, value: Any) -> None:
    """t[key] = value for integer/bool array keys (last write wins, as NumPy), with our
    scatter kernel."""
    check_target("__setitem__", t.data)
    mask = _sole_mask(key)
    if mask is not None:
        setitem_mask(t, mask, value)
        return
    norm, _ = _normalize_key(key, "__setitem__")
    plan = _plan(t.shape, norm, "__setitem__")
    if isinstance(value, Tensor):
        src = value.data
    elif isinstance(value, (bool, numbers.Number, np.generic)):
        try:
            src = scalar_array(value, t.dtype, "__setitem__")
        except ValueError as exc:
            raise ValueError(f"__setitem__: cannot store {value!r} in a {t.dtype} tensor: "
                             f"{exc}") from None
    else:
        src = as_tensor(value).data
    target = plan.shape_out
    while src.ndim > len(target) and src.shape[0] == 1:   # NumPy drops leading 1s
        src = src.reshape(src.shape[1:])
    if src.ndim > len(target) or \
            broadcast_shapes("__setitem__", src.shape, target) != target:
        raise ValueError(f"__setitem__: value of shape {src.shape} does not broadcast to "
                         f"the selection's shape {target}")
    if t.size == 0 or math.prod(target) == 0:
        return
    values = expand(cast(src, t.dtype), target)
    if values.flags.c_contiguous and np.may_share_memory(values, t.data):
        values = _copy_of(values)  # the scatter kernel reads and writes separate memory
    values = contiguous(values).reshape(-1)
    view = _flat(t.data)
    work = t.data if view is not None else contiguous(t.data)
    flat, strides = view if view is not None else (work.reshape(-1), _c_strides(t.shape))
    backend().put_rows(flat, plan.positions(strides).reshape(-1), values)
    if work is not t.data:
        backend().copy(work, t.data)
