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


def _check_rows(op, index, rows):
    """IndexError for the first index outside [0, rows), as the C core's and Numba's."""
    bad = np.flatnonzero((index < 0) | (index >= rows))
    if bad.size:
        raise IndexError(f"reference backend: {op}: index {int(index[bad[0]])} at position "
                         f"{int(bad[0])} is out of range [0, {rows})")


def take_rows(src, index, out):
    _check_rows("take_rows", index, src.shape[0])
    out[...] = src[index]


def put_rows(out, index, src):
    _check_rows("put_rows", index, out.shape[0])   # before any write
    for i, row in enumerate(index):  # in order: a repeated index keeps the last row
        out[row] = src[i]


def set_num_threads(n):
    pass


def get_num_threads():
    return 1


def info():
    return {"backend": "reference"}


# ---- convolution and pooling (channels-last; docs/backend-interface.md) -----------------
# One NumPy slice per kernel position: the oracle the C and Numba kernels are tested against.

def _geometry(geom):
    """The 16 ints of geom as a dict, plus the bottom/right padding they imply."""
    names = ("n", "h", "w", "c", "kh", "kw", "o", "oh", "ow", "sh", "sw", "pt", "pl", "dh",
             "dw", "groups")
    g = dict(zip(names, (int(v) for v in geom)))
    g["pb"] = max((g["oh"] - 1) * g["sh"] + (g["kh"] - 1) * g["dh"] + 1 - g["h"] - g["pt"], 0)
    g["pr"] = max((g["ow"] - 1) * g["sw"] + (g["kw"] - 1) * g["dw"] + 1 - g["w"] - g["pl"], 0)
    return g


def _padded(a, g, value=0):
    return np.pad(a, ((0, 0), (g["pt"], g["pb"]), (g["pl"], g["pr"]), (0, 0)),
                  constant_values=value)


def _window(g, i, j):
    """Index of kernel position (i, j) in a padded array: (N, OH, OW, C) strided slices."""
    return (slice(None),
            slice(i * g["dh"], i * g["dh"] + (g["oh"] - 1) * g["sh"] + 1, g["sh"]),
            slice(j * g["dw"], j * g["dw"] + (g["ow"] - 1) * g["sw"] + 1, g["sw"]))


def _groups(g):
    cg, og = g["c"] // g["groups"], g["o"] // g["groups"]
    return [(slice(k * cg, (k + 1) * cg), slice(k * og, (k + 1) * og))
            for k in range(g["groups"])]


def conv2d(x, w, out, geom):
    g = _geometry(geom)
    xp = _padded(x, g)
    result = np.zeros(out.shape, out.dtype)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            patch = xp[_window(g, i, j)]
            for cs, os in _groups(g):
                result[..., os] += patch[..., cs] @ w[i, j][:, os]
    out[...] = result


def conv2d_grad_input(dy, w, dx, geom):
    g = _geometry(geom)
    dxp = _padded(np.zeros(dx.shape, dx.dtype), g)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            window = dxp[_window(g, i, j)]
            for cs, os in _groups(g):
                window[..., cs] += dy[..., os] @ w[i, j][:, os].T
    dx[...] = dxp[:, g["pt"]:g["pt"] + g["h"], g["pl"]:g["pl"] + g["w"]]


def conv2d_grad_filter(x, dy, dw, geom):
    g = _geometry(geom)
    xp = _padded(x, g)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            patch = xp[_window(g, i, j)]
            for cs, os in _groups(g):
                rows = patch[..., cs].reshape(-1, cs.stop - cs.start)
                dw[i, j, :, os] = rows.T @ dy[..., os].reshape(-1, os.stop - os.start)


def pool2d(kind, x, out, argmax, geom):
    g = _geometry(geom)
    inside = _padded(np.ones(x.shape, bool), g, False)
    positions = _padded(np.broadcast_to(
        np.arange(g["h"] * g["w"]).reshape(1, g["h"], g["w"], 1), x.shape), g, -1)
    xp = _padded(x, g)
    best = np.full(out.shape, -np.inf, out.dtype)
    at = np.full(out.shape, -1, np.int64)
    total = np.zeros(out.shape, out.dtype)
    count = np.zeros(out.shape, np.int64)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            index = _window(g, i, j)
            v, valid = xp[index], inside[index]
            # the first position inside the window starts; a later one takes over when it
            # is larger, or NaN over a number (NaN propagates as in NumPy's max)
            take = valid & ((at < 0) | (v > best) | (np.isnan(v) & ~np.isnan(best)))
            best = np.where(take, v, best)
            at = np.where(take, positions[index], at)
            total += np.where(valid, v, 0)
            count += valid
    if kind == "max":
        out[...] = best
        argmax[...] = at
    else:
        with np.errstate(all="ignore"):
            out[...] = total / count


def pool2d_grad(kind, dy, argmax, dx, geom):
    g = _geometry(geom)
    if kind == "max":
        flat = np.zeros((g["n"], g["h"] * g["w"], g["c"]), dx.dtype)
        n, _, _, c = np.indices(dy.shape)
        keep = argmax >= 0
        np.add.at(flat, (n[keep], argmax[keep], c[keep]), dy[keep])
        dx[...] = flat.reshape(dx.shape)
        return
    inside = _padded(np.ones(dx.shape, bool), g, False)
    count = sum(inside[_window(g, i, j)].astype(np.int64)
                for i in range(g["kh"]) for j in range(g["kw"]))
    share = dy / np.maximum(count, 1)
    dxp = _padded(np.zeros(dx.shape, dx.dtype), g)
    for i in range(g["kh"]):
        for j in range(g["kw"]):
            dxp[_window(g, i, j)] += share
    dx[...] = dxp[:, g["pt"]:g["pt"] + g["h"], g["pl"]:g["pl"] + g["w"]]
