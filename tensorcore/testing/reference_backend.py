"""A NumPy implementation of the backend interface: the test oracle, never a default path."""

from __future__ import annotations

import numpy as np

from .. import _optable as optable


def binary(op, a, b, out):
    with np.errstate(all="ignore"):
        out[...] = optable.get(op).reference(a, b)


def unary(op, a, out):
    with np.errstate(all="ignore"):
        out[...] = optable.get(op).reference(a)


def where(cond, a, b, out):
    out[...] = np.where(cond, a, b)


def clip(a, lo, hi, out):
    res = a
    if lo is not None:
        res = np.maximum(res, np.asarray(lo, dtype=a.dtype))
    if hi is not None:
        res = np.minimum(res, np.asarray(hi, dtype=a.dtype))
    out[...] = res


def copy(src, out):
    with np.errstate(all="ignore"):
        out[...] = src.astype(out.dtype)


def reduce(op, a, axes, out, ddof=0):
    with np.errstate(all="ignore"):
        if op == "sum":
            res = np.sum(a, axis=axes, keepdims=True, dtype=out.dtype)
        elif op == "max":
            res = np.max(a, axis=axes, keepdims=True)
        elif op == "min":
            res = np.min(a, axis=axes, keepdims=True)
        elif op == "mean":
            res = np.mean(a, axis=axes, keepdims=True)
        elif op == "var":
            res = np.var(a, axis=axes, keepdims=True, ddof=ddof)
        elif op == "logsumexp":
            m = np.max(a, axis=axes, keepdims=True) if a.size else np.full(out.shape, -np.inf)
            m_safe = np.where(np.isfinite(m), m, 0)
            res = np.log(np.sum(np.exp(a - m_safe), axis=axes, keepdims=True)) + m_safe
        else:
            raise ValueError(op)
        out[...] = res


def argreduce(op, a, axis, out):
    fn = np.argmax if op == "argmax" else np.argmin
    out[...] = fn(a, axis=axis)


def matmul(a, b, out):
    out[...] = np.matmul(a, b)


def softmax(a, axis, out, log):
    with np.errstate(all="ignore"):
        shifted = a - np.max(a, axis=axis, keepdims=True) if a.size else a
        if log:
            out[...] = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        else:
            e = np.exp(shifted)
            out[...] = e / np.sum(e, axis=axis, keepdims=True)


def scatter_add(out, index, src):
    np.add.at(out, index, src)


def take_rows(src, index, out):
    out[...] = src[index]


def put_rows(out, index, src):
    for i, row in enumerate(index):  # in order: a repeated index keeps the last row
        out[row] = src[i]


def set_num_threads(n):
    pass


def get_num_threads():
    return 1


def info():
    return {"backend": "reference"}
