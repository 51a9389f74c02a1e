"""Matrix products and the softmax family."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from ._dispatch import broadcast_shapes, cast, check_dtype, expand, normalize_axis
from ._tape import attach, needs_grad
from .backend import current as backend
from .tensor import Tensor
from .ops_elementwise import _source_dtype, _tensor, exp
from .ops_reduce import sum as reduce_sum
from .ops_shape import swapaxes

_MATMUL_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64)


def _input(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return _tensor(x, op)


def _matmul_nd(a: Tensor, b: Tensor, dtype: np.dtype) -> Tensor:
    """(..., M, K) @ (..., K, N) with broadcast batch dimensions (both operands >= 2-D)."""
    m, k = a.shape[-2:]
    k2, n = b.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                         f"({k} != {k2}); expected a.shape[-1] == b.shape[-2]")
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    out = np.empty(batch + (m, n), dtype)
    if out.size:
        backend().matmul(expand(cast(a.data, dtype), batch + (m, k)),
                         expand(cast(b.data, dtype), batch + (k, n)), out)
    result = Tensor._wrap(out)
    if needs_grad(a, b):
        def rule(g, _o):
            ga = _matmul_nd(g, swapaxes(b, -1, -2), g.dtype) if a.requires_grad else None
            gb = _matmul_nd(swapaxes(a, -1, -2), g, g.dtype) if b.requires_grad else None
            return ga, gb
        attach(result, (a, b), rule, "matmul")
    return result


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules: 2-D, batched (broadcast batch dims), 1-D vectors."""
    ta, tb = _input(a, "matmul"), _input(b, "matmul")
    if ta.ndim == 0 or tb.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, received shapes "
                         f"{ta.shape} and {tb.shape}; use * for scalars")
    dtype = dtypes.storage_dtype(np.result_type(_source_dtype(a, ta), _source_dtype(b, tb)),
                                 "matmul")
    if dtype == dtypes.bool_:
        dtype = dtypes.int64
    check_dtype("matmul", dtype, _MATMUL_DTYPES)
    a2 = ta if ta.ndim >= 2 else ta.reshape(1, ta.shape[0])
    b2 = tb if tb.ndim >= 2 else tb.reshape(tb.shape[0], 1)
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ: {ta.shape} @ {tb.shape} "
                         f"({a2.shape[-1]} != {b2.shape[-2]}); expected matching sizes")
    result = _matmul_nd(a2, b2, dtype)
    if ta.ndim == 1 and tb.ndim == 1:
        return result.reshape(())
    if ta.ndim == 1:
        return result.reshape(result.shape[:-2] + result.shape[-1:])
    if tb.ndim == 1:
        return result.reshape(result.shape[:-1])
    return result


def _softmax(x: Any, axis: int, log: bool) -> Tensor:
    op = "log_softmax" if log else "softmax"
    tx = _input(x, op)
    if tx.ndim == 0:
        raise ValueError(f"{op}: expected a tensor with at least one dimension, received a "
                         "0-d tensor")
    ax = normalize_axis(op, axis, tx.ndim)
    data = tx.data if tx.dtype.kind == "f" else cast(tx.data, dtypes.float64)
    out = np.empty(data.shape, data.dtype)
    if out.size:
        backend().softmax(data, ax, out, log)
    result = Tensor._wrap(out)
    if needs_grad(tx):

        if log:
            def rule(g, _o):
                return (g - exp(_o) * reduce_sum(g, axis=ax, keepdims=True),)
        else:
            def rule(g, _o):
                y = _o
                return (y * (g - reduce_sum(g * y, axis=ax, keepdims=True)),)
        attach(result, (tx,), rule, op)
    return result


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, computed stably."""
    return _softmax(x, axis, False)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along axis, computed stably."""
    return _softmax(x, axis, True)
