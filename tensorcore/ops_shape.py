"""Movement ops: reshape, transpose/permute_dims, flatten, expand_dims, squeeze,
broadcast_to, concatenate, stack. Views whenever NumPy's memory layout allows; copies
are made by our strided copy kernel."""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ._dispatch import (broadcast_shapes, contiguous, expand, normalize_axis,
                        normalize_shape)
from ._tape import attach, needs_grad
from .backend import current as backend
from .tensor import Tensor
from .ops_elementwise import _tensor


def _input(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return _tensor(x, op)


def _resolve_shape(op: str, size: int, old: tuple, shape: Any) -> tuple:
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a sequence of ints, "
                        f"received {shape!r}") from None
    unknown = [i for i, n in enumerate(items) if isinstance(n, (int, np.integer)) and n == -1]
    if len(unknown) > 1:
        raise ValueError(f"{op}: only one dimension can be -1, received {items}")
    known = normalize_shape(op, [1 if i in unknown else n for i, n in enumerate(items)])
    product = 1
    for n in known:
        product *= n
    if unknown:
        if product == 0 or size % product:
            raise ValueError(f"{op}: cannot reshape a tensor of shape {old} ({size} elements) "
                             f"into {items}")
        known = tuple(size // product if i in unknown else n for i, n in enumerate(known))
    elif product != size:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {old} ({size} elements) "
                         f"into {items} ({product} elements)")
    return known


def _reshape_data(data: np.ndarray, shape: tuple) -> np.ndarray:
    try:
        return np.reshape(data, shape, copy=False)
    except ValueError:
        return np.reshape(contiguous(data), shape)


def reshape(x: Any, *shape: Any, _op: str = "reshape") -> Tensor:
    """x with a new shape of the same size (-1 infers one dimension); a view when possible."""
    tx = _input(x, _op)
    if len(shape) == 1:
        shape = shape[0]
    new = _resolve_shape(_op, tx.size, tx.shape, shape)
    if new == tx.shape:
        data = tx.data
    else:
        data = _reshape_data(tx.data, new)
    result = Tensor._wrap(data)
    if needs_grad(tx):
        old = tx.shape
        attach(result, (tx,), lambda g, _o: (reshape(g, old),), "reshape")
    return result


def flatten(x: Any) -> Tensor:
    """x as a 1-D tensor (a view when possible)."""
    return reshape(x, -1, _op="flatten")


def _check_perm(op: str, axes: Sequence, ndim: int) -> tuple:
    if len(axes) != ndim:
        raise ValueError(f"{op}: axes {tuple(axes)} do not match a tensor of rank {ndim}; "
                         f"expected a permutation of 0..{ndim - 1}")
    perm = tuple(normalize_axis(op, a, ndim) for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"{op}: axes {tuple(axes)} repeat an axis; expected a permutation")
    return perm


def permute_dims(x: Any, axes: Sequence, _op: str = "permute_dims") -> Tensor:
    """x with its axes reordered (a view)."""
    tx = _input(x, _op)
    try:
        axes = tuple(axes)
    except TypeError:
        message = f"{_op}: axes must be a sequence of ints, received {axes!r}"
        raise TypeError(message) from None
    perm = _check_perm(_op, axes, tx.ndim)
    result = Tensor._wrap(tx.data.transpose(perm))
    if needs_grad(tx):
        inverse = tuple(np.argsort(perm).tolist())
        attach(result, (tx,), lambda g, _o: (permute_dims(g, inverse),), "permute")
    return result


def transpose(x: Any, axes: Any = None, *more: Any) -> Tensor:
    """Axes permuted (NumPy semantics: no axes reverses them)."""
    tx = _input(x, "transpose")
    if more:
        axes = (axes, *more)
    if axes is None:
        axes = tuple(range(tx.ndim - 1, -1, -1))
    elif isinstance(axes, (numbers.Integral, np.integer)):
        axes = (axes,)
    return permute_dims(tx, axes, "transpose")


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """x with two axes exchanged (a view)."""
    tx = _input(x, "swapaxes")
    a = normalize_axis("swapaxes", axis1, tx.ndim)
    b = normalize_axis("swapaxes", axis2, tx.ndim)
    perm = list(range(tx.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return permute_dims(tx, perm, "swapaxes")


def expand_dims(x: Any, axis: Any) -> Tensor:
    """x with new size-1 axes inserted at the given positions (a view)."""
    tx = _input(x, "expand_dims")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = tx.ndim + len(axes)
    positions = [normalize_axis("expand_dims", a, ndim) for a in axes]
    if len(set(positions)) != len(positions):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    shape = iter(tx.shape)
    new = tuple(1 if i in positions else next(shape) for i in range(ndim))
    return reshape(tx, new, _op="expand_dims")


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """x without size-1 axes (all of them, or the given ones, which must have size 1)."""
    tx = _input(x, "squeeze")
    if axis is None:
        axes = tuple(i for i, n in enumerate(tx.shape) if n == 1)
    else:
        raw = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(normalize_axis("squeeze", a, tx.ndim) for a in raw)
        for a in axes:
            if tx.shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {tx.shape[a]} "
                                 f"(shape {tx.shape}); expected size 1")
    return reshape(tx, tuple(n for i, n in enumerate(tx.shape) if i not in axes), _op="squeeze")


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only view of x broadcast to `shape` (NumPy rules)."""
    tx = _input(x, "broadcast_to")
    shape = normalize_shape("broadcast_to", shape)
    if len(shape) < tx.ndim or broadcast_shapes("broadcast_to", tx.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {tx.shape} to {shape}")
    result = Tensor._wrap(expand(tx.data, shape))
    if needs_grad(tx):
        # The engine sums the gradient back to tx's shape.
        attach(result, (tx,), lambda g, _o: (g,), "broadcast_to")
    return result


def _sequence(op: str, tensors: Any) -> list:
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a sequence of tensors, received "
                        f"{type(tensors).__name__}")
    items = [_input(t, op) for t in tensors]
    if not items:
        raise ValueError(f"{op}: need at least one tensor, received an empty sequence")
    return items


def concatenate(tensors: Sequence, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    items = _sequence("concatenate", tensors)
    ndim = items[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    ax = normalize_axis("concatenate", axis, ndim)
    for i, t in enumerate(items):
        if t.ndim != ndim or any(n != m for d, (n, m) in enumerate(zip(t.shape, items[0].shape))
                                 if d != ax):
            raise ValueError(f"concatenate: tensor {i} has shape {t.shape} but tensor 0 has "
                             f"shape {items[0].shape}; all dimensions except axis {ax} must "
                             "match")
    dtype = np.result_type(*[t.dtype for t in items])
    shape = list(items[0].shape)
    shape[ax] = sum(t.shape[ax] for t in items)
    out = np.empty(tuple(shape), dtype)
    offsets = []
    start = 0
    index = [slice(None)] * ndim
    for t in items:
        index[ax] = slice(start, start + t.shape[ax])
        offsets.append((start, start + t.shape[ax]))
        if t.size:
            backend().copy(t.data, out[tuple(index)])
        start += t.shape[ax]
    result = Tensor._wrap(out)
    if needs_grad(*items):
        def rule(g, _o):
            grads = []
            for t, (lo, hi) in zip(items, offsets):
                key = [slice(None)] * ndim
                key[ax] = slice(lo, hi)
                grads.append(g[tuple(key)] if t.requires_grad else None)
            return tuple(grads)
        attach(result, tuple(items), rule, "concatenate")
    return result


def stack(tensors: Sequence, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    items = _sequence("stack", tensors)
    for i, t in enumerate(items):
        if t.shape != items[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{items[0].shape}; all tensors must have the same shape")
    ax = normalize_axis("stack", axis, items[0].ndim + 1)
    return concatenate([expand_dims(t, ax) for t in items], axis=ax)


def copy_of(x: Tensor) -> Tensor:
    """A fresh contiguous copy of x (our copy kernel) that stays in the graph: the gradient
    passes through unchanged (a copy made with Tensor._owned_copy is cut from the graph)."""
    result = x._owned_copy(force=True)
    if needs_grad(x):
        attach(result, (x,), lambda g, _o: (g,), "copy")
    return result


__all__ = ["reshape", "flatten", "permute_dims", "transpose", "swapaxes", "expand_dims",
           "squeeze", "broadcast_to", "concatenate", "stack"]

