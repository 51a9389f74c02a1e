"""Reductions over axis=None|int|tuple with keepdims: sum, mean, max, min, var,
argmax, argmin, logsumexp."""

from __future__ import annotations

import builtins
import math

from typing import Any

import numpy as np

from . import dtypes
from ._dispatch import cast, contiguous, normalize_axes, normalize_axis
from ._tape import attach, needs_grad
from .backend import current as backend
from .tensor import Tensor
from .ops_elementwise import _tensor, equal, exp, where
from .ops_shape import broadcast_to as _broadcast_to


def _input(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return _tensor(x, op)


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _drop_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reduce_kernel(op: str, data: np.ndarray, axes: tuple, out_dtype: np.dtype,
                   ddof: int = 0) -> np.ndarray:
    out = np.empty(_keep_shape(data.shape, axes), out_dtype)
    if out.size:
        backend().reduce(op, data, axes, out, ddof) if op == "var" else \
            backend().reduce(op, data, axes, out)
    return out


def _finish(out: np.ndarray, shape: tuple, axes: tuple, keepdims: bool) -> np.ndarray:
    return out if keepdims else out.reshape(_drop_shape(shape, axes))


def _float_reduce(op: str, tx: Tensor, axes: tuple, keepdims: bool, ddof: int = 0) -> Tensor:
    """Run a float-only reduction (integers are reduced in float64, as NumPy does)."""
    data = tx.data if tx.dtype.kind == "f" else cast(tx.data, dtypes.float64)
    out = _reduce_kernel(op, data, axes, data.dtype, ddof)
    return Tensor._wrap(_finish(out, tx.shape, axes, keepdims))


def _count(shape: tuple, axes: tuple) -> int:
    """Number of elements reduced into each output element."""
    return math.prod(shape[a] for a in axes)


def _grad_to_input(g: Tensor, shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """The output gradient reshaped to keepdims form, ready to broadcast over the input."""
    return g if keepdims else g.reshape(_keep_shape(shape, axes))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over the given axes (ints and bools sum to int64)."""
    tx = _input(x, "sum")
    axes = normalize_axes("sum", axis, tx.ndim)
    out_dtype = tx.dtype if tx.dtype.kind == "f" else dtypes.int64
    data = _reduce_kernel("sum", tx.data, axes, out_dtype)
    result = Tensor._wrap(_finish(data, tx.shape, axes, keepdims))
    if needs_grad(tx):
        shape = tx.shape
        attach(result, (tx,), lambda g, _o: (
            broadcast_to(_grad_to_input(g, shape, axes, keepdims), shape),), "sum")
    return result


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over the given axes (integers give float64)."""
    tx = _input(x, "mean")
    axes = normalize_axes("mean", axis, tx.ndim)
    result = _float_reduce("mean", tx, axes, keepdims)
    if needs_grad(tx):
        shape = tx.shape
        count = _count(shape, axes)

        def rule(g, _o):
            return (broadcast_to(_grad_to_input(g, shape, axes, keepdims) / builtins.max(count, 1),
                                 shape),)
        attach(result, (tx,), rule, "mean")
    return result


def _extreme(op: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    tx = _input(x, op)
    axes = normalize_axes(op, axis, tx.ndim)
    for a in axes:
        if tx.shape[a] == 0:
            raise ValueError(f"{op}: cannot reduce over axis {a} of size 0 (shape {tx.shape}); "
                             "the operation has no identity")
    out = _reduce_kernel(op, tx.data, axes, tx.dtype)
    result = Tensor._wrap(_finish(out, tx.shape, axes, keepdims))
    if needs_grad(tx):
        shape = tx.shape
        kept = Tensor._wrap(out)

        def rule(g, _o):
            # Ties share the gradient evenly (as PyTorch's amax/amin).
            mask = equal(tx, kept)
            count = sum(mask, axis=axes, keepdims=True).astype(g.dtype)
            share = _grad_to_input(g, shape, axes, keepdims) / count
            return (where(mask, broadcast_to(share, shape), 0),)
        attach(result, (tx,), rule, op)
    return result


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over the given axes (NaN propagates)."""
    return _extreme("max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over the given axes (NaN propagates)."""
    return _extreme("min", x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over the given axes (population variance unless ddof is given)."""
    tx = _input(x, "var")
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ValueError(f"var: ddof must be a non-negative int, received {ddof!r}")
    axes = normalize_axes("var", axis, tx.ndim)
    result = _float_reduce("var", tx, axes, keepdims, int(ddof))
    if needs_grad(tx):
        shape = tx.shape
        count = _count(shape, axes)

        def rule(g, _o):
            centered = tx - mean(tx, axis=axes, keepdims=True)
            scale = 2.0 / (count - ddof) if count - ddof > 0 else float("nan")
            return (_grad_to_input(g, shape, axes, keepdims) * centered * scale,)
        attach(result, (tx,), rule, "var")
    return result


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over the given axes, computed stably."""
    tx = _input(x, "logsumexp")
    axes = normalize_axes("logsumexp", axis, tx.ndim)
    result = _float_reduce("logsumexp", tx, axes, keepdims)
    if needs_grad(tx):
        shape = tx.shape

        def rule(g, _o):
            lse = _grad_to_input(_o, shape, axes, keepdims)
            return (_grad_to_input(g, shape, axes, keepdims) * exp(tx - lse),)
        attach(result, (tx,), rule, "logsumexp")
    return result


def _argreduce(op: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    tx = _input(x, op)
    if axis is None:
        if tx.size == 0:
            raise ValueError(f"{op}: attempt to get {op} of an empty tensor")
        data = contiguous(tx.data).reshape(-1)
        out = np.empty((), np.int64)
        backend().argreduce(op, data, 0, out)
        if keepdims:
            out = out.reshape((1,) * tx.ndim)
        return Tensor._wrap(out)
    if tx.ndim == 0:
        normalize_axis(op, axis, 1)
        out = np.zeros((), np.int64)
        return Tensor._wrap(out)
    ax = normalize_axis(op, axis, tx.ndim)
    if tx.shape[ax] == 0:
        raise ValueError(f"{op}: attempt to get {op} of an empty axis {ax} (shape {tx.shape})")
    out = np.empty(_drop_shape(tx.shape, (ax,)), np.int64)
    if out.size:
        backend().argreduce(op, tx.data, ax, out)
    if keepdims:
        out = out.reshape(_keep_shape(tx.shape, (ax,)))
    return Tensor._wrap(out)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (first occurrence; axis=None indexes the flattened tensor)."""
    return _argreduce("argmax", x, axis, keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (first occurrence; axis=None indexes the flattened tensor)."""
    return _argreduce("argmin", x, axis, keepdims)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """x viewed with `shape` by broadcasting (imported here for the reduce rules)."""
    return _broadcast_to(x, shape)


__all__ = ["sum", "mean", "max", "min", "var", "logsumexp", "argmax", "argmin"]
