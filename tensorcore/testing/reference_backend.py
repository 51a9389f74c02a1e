"""A NumPy implementation of the backend interface: the test oracle, never a default path."""

from __future__ import annotations

import numpy as np

_BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum, "equal": np.equal,
    "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
}


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x))
                        / (1 + np.exp(-np.abs(x)))).astype(x.dtype)


_UNARY = {
    "negative": np.negative, "abs": np.abs, "square": np.square, "sign": np.sign,
    "relu": lambda x: np.where(x > 0, x, np.where(np.isnan(x), x, 0)).astype(x.dtype)
    if x.dtype.kind == "f" else np.maximum(x, 0),
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "sigmoid": _sigmoid,
    "reciprocal": np.reciprocal,
}


def binary(op, a, b, out):
    with np.errstate(all="ignore"):
        if a.dtype == np.bool_ and op in ("add", "multiply"):
            out[...] = np.logical_or(a, b) if op == "add" else np.logical_and(a, b)
        else:
            out[...] = _BINARY[op](a, b)


def unary(op, a, out):
    with np.errstate(all="ignore"):
        out[...] = _UNARY[op](a)


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


def set_num_threads(n):
    pass


def get_num_threads():
    return 1


def info():
    return {"backend": "reference"}
