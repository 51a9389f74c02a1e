"""Indexing: ints, slices, None, Ellipsis (views) and integer/bool arrays (gather), with
a scatter-add backward so repeated indices accumulate."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._dispatch import check_target, contiguous
from ._tape import attach, needs_grad
from .backend import current as backend
from .ops_sort import getitem_mask, setitem_mask
from .tensor import Tensor


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


def getitem(t: Tensor, key: Any) -> Tensor:
    """t[key]: a view for basic keys, a gathered copy for integer/bool array keys."""
    mask = _sole_mask(key)
    if mask is not None:
        return getitem_mask(t, mask)
    norm, advanced = _normalize_key(key, "__getitem__")
    data = _apply(t.data, norm, "__getitem__")
    if not advanced and not isinstance(data, np.ndarray):
        data = np.asarray(data)
    if not advanced and data.ndim == 0 and data.base is None:
        # Integer indexing to a scalar: keep a 0-d view so writes stay visible.
        data = _apply(t.data, norm + (Ellipsis,), "__getitem__")
    result = Tensor._wrap(data)
    if needs_grad(t):
        shape = t.shape
        attach(result, (t,), lambda g, _o: (_index_backward(g, shape, norm, advanced),),
               "index")
    return result


def _index_backward(g: Tensor, shape: tuple, key: tuple, advanced: bool) -> Tensor:
    """Zeros of `shape` with g added at `key` (repeated indices accumulate)."""
    out = np.zeros(shape, g.dtype)
    if g.size:
        if advanced:
            positions = np.arange(out.size, dtype=np.int64).reshape(shape)[key]
            flat = out.reshape(-1)
            backend().scatter_add(flat, contiguous(positions).reshape(-1),
                                  contiguous(g.data).reshape(-1))
        else:
            backend().copy(g.data, out[key])
    result = Tensor._wrap(out)
    if needs_grad(g):
        attach(result, (g,), lambda gg, _o: (getitem(gg, key),), "index_backward")
    return result


def setitem_advanced(t: Tensor, key: Any, value: Any) -> None:
    """t[key] = value for integer/bool array keys (last write wins, as NumPy)."""
    check_target("__setitem__", t.data)
    mask = _sole_mask(key)
    if mask is not None:
        setitem_mask(t, mask, value)
        return
    norm, _ = _normalize_key(key, "__setitem__")
    check_target("__setitem__", t.data)
    src = value.data if isinstance(value, Tensor) else value
    try:
        t.data[norm] = src
    except IndexError as exc:
        raise IndexError(f"__setitem__: {exc} (tensor shape {t.shape})") from None
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"__setitem__: cannot store {value!r} in a "
                         f"{t.dtype} tensor: {exc}") from None
