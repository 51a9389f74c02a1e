"""Reductions (sum, max, min, mean, var, logsumexp), argmax/argmin and softmax.

The caller permutes the input so the reduced dims come last and coalesces the kept dims and
the reduced dims separately. Kept dims are walked with ``walk.seek``/``step`` (one operand, or
two for softmax); each output element then reduces its reduced region line by line. Float
sums accumulate in float64 with 8 independent partial sums (vectorisable, accurate).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload

from ._jit import jit, prange
from .scalar import maximum, minimum, widen
from .walk import seek, step

SUM, MAX, MIN, MEAN, VAR, LOGSUMEXP = range(6)
_TERM_X, _TERM_SQDEV, _TERM_EXP = range(3)


def term(kind, x, shift):
    """Return the summand for ``x``: x, (x - shift)**2 or exp(x - shift), widened."""
    raise NotImplementedError  # compiled through the overload below


@overload(term, jit_options={"error_model": "numpy"})
def _term_overload(kind, x, shift):
    if isinstance(x, types.Float):
        def float_impl(kind, x, shift):
            v = np.float64(x)
            if kind == _TERM_X:
                return v
            d = v - shift
            if kind == _TERM_SQDEV:
                return d * d
            return math.exp(d)

        return float_impl
    return lambda kind, x, shift: np.int64(x)  # only plain sums reach integer inputs


@jit
def _line_sum(kind, a, p, s, n, shift, zero):
    """Sum of term(kind, a[p + i*s], shift) for i < n, with 8 partial sums."""
    up = np.uint64(p)
    us = np.uint64(s)
    un = np.uint64(n)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    i = np.uint64(0)
    eight = np.uint64(8)
    while i + eight <= un:
        q = up + i * us
        s0 += term(kind, a[q], shift)
        s1 += term(kind, a[q + us], shift)
        s2 += term(kind, a[q + np.uint64(2) * us], shift)
        s3 += term(kind, a[q + np.uint64(3) * us], shift)
        s4 += term(kind, a[q + np.uint64(4) * us], shift)
        s5 += term(kind, a[q + np.uint64(5) * us], shift)
        s6 += term(kind, a[q + np.uint64(6) * us], shift)
        s7 += term(kind, a[q + np.uint64(7) * us], shift)
        i += eight
    while i < un:
        s0 += term(kind, a[up + i * us], shift)
        i += np.uint64(1)
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@jit
def _line_extreme(is_max, a, p, s, n):
    """NaN-propagating max (or min) of a[p + i*s] for 0 <= i < n (n >= 1)."""
    up = np.uint64(p)
    us = np.uint64(s)
    best = a[up]
    for i in range(1, n):
        v = a[up + np.uint64(i) * us]
        if v != v:
            return v
        if is_max:
            if v > best:
                best = v
        elif v < best:
            best = v
    return best


@jit
def _region_sum(kind, a, p, rshape, rstrides, ridx, shift, zero):
    """Sum of term(kind, x, shift) over the reduced region starting at p."""
    nr = rshape.size
    last = nr - 1
    lines = 1
    for d in range(last):
        lines *= rshape[d]
        ridx[d] = 0
    total = zero
    q = p
    for _ in range(lines):
        total += _line_sum(kind, a, q, rstrides[last], rshape[last], shift, zero)
        d = last - 1
        while d >= 0:
            ridx[d] += 1
            q += rstrides[d]
            if ridx[d] < rshape[d]:
                break
            q -= rshape[d] * rstrides[d]
            ridx[d] = 0
            d -= 1
    return total


@jit
def _region_extreme(is_max, a, p, rshape, rstrides, ridx):
    """NaN-propagating max (or min) over the non-empty reduced region starting at p."""
    nr = rshape.size
    last = nr - 1
    lines = 1
    for d in range(last):
        lines *= rshape[d]
        ridx[d] = 0
    best = a[np.uint64(p)]
    q = p
    for _ in range(lines):
        v = _line_extreme(is_max, a, q, rstrides[last], rshape[last])
        best = maximum(best, v) if is_max else minimum(best, v)
        d = last - 1
        while d >= 0:
            ridx[d] += 1
            q += rstrides[d]
            if ridx[d] < rshape[d]:
                break
            q -= rshape[d] * rstrides[d]
            ridx[d] = 0
            d -= 1
    return best


def float_stats(code, a, p, rshape, rstrides, ridx, count, ddof, zero):
    """mean / var / logsumexp of the region starting at p (float inputs only)."""
    raise NotImplementedError  # compiled through the overload below


@overload(float_stats, jit_options={"error_model": "numpy"})
def _float_stats_overload(code, a, p, rshape, rstrides, ridx, count, ddof, zero):
    if not isinstance(zero, types.Float):
        # never sent for integer inputs; keeps the integer kernels' result type int64
        return lambda code, a, p, rshape, rstrides, ridx, count, ddof, zero: zero

    def impl(code, a, p, rshape, rstrides, ridx, count, ddof, zero):
        if code == LOGSUMEXP:
            if count == 0:
                return -np.inf
            top = np.float64(_region_extreme(True, a, p, rshape, rstrides, ridx))
            if top != top or top == np.inf or top == -np.inf:
                return top
            ssum = _region_sum(_TERM_EXP, a, p, rshape, rstrides, ridx, top, zero)
            return top + math.log(ssum)
        total = _region_sum(_TERM_X, a, p, rshape, rstrides, ridx, 0.0, zero)
        mean = total / count
        if code == MEAN or count == 0:
            return mean
        ssd = _region_sum(_TERM_SQDEV, a, p, rshape, rstrides, ridx, mean, zero)
        dof = count - ddof
        return ssd / (dof if dof > 0 else 0)

    return impl


@jit
def _reduce_one(code, a, p, rshape, rstrides, ridx, count, ddof, zero):
    """Reduce the region starting at p with op ``code`` (result widened for sums)."""
    if code == SUM:
        return _region_sum(_TERM_X, a, p, rshape, rstrides, ridx, 0.0, zero)
    if code == MAX:
        return widen(_region_extreme(True, a, p, rshape, rstrides, ridx))
    if code == MIN:
        return widen(_region_extreme(False, a, p, rshape, rstrides, ridx))
    return float_stats(code, a, p, rshape, rstrides, ridx, count, ddof, zero)


@jit
def reduce_range(code, a, koffs, kstrides, kshape, rshape, rstrides, out, ddof, zero,
                 start, stop):
    """Write out[start:stop] (flat, C order over the kept dims)."""
    idx = np.empty(kshape.size, np.int64)
    pos = np.empty(1, np.int64)
    ridx = np.empty(rshape.size, np.int64)
    count = 1
    for d in range(rshape.size):
        count *= rshape[d]
    seek(kshape, kstrides, koffs, start, idx, pos)
    for o in range(start, stop):
        out[o] = _reduce_one(code, a, pos[0], rshape, rstrides, ridx, count, ddof, zero)
        step(kshape, kstrides, idx, pos, 1)


@jit(parallel=True)
def reduce_parallel(code, a, koffs, kstrides, kshape, rshape, rstrides, out, ddof, zero,
                    chunks):
    """reduce_range over all outputs in ``chunks`` parallel pieces."""
    total = out.size
    for c in prange(chunks):
        reduce_range(code, a, koffs, kstrides, kshape, rshape, rstrides, out, ddof, zero,
                     total * c // chunks, total * (c + 1) // chunks)


@jit
def reduce_outer(code, a, koffs, kstrides, kshape, rshape, rstrides, out, acc, ext, zero):
    """sum/mean/max/min when the kept innermost dim is unit-stride (e.g. sum over axis 0).

    Whole kept lines (length kshape[-1]) are combined at once into the scratch line ``acc``
    (widened, for sums) or ``ext`` (input dtype, for max/min): unit-stride, vectorisable.
    """
    nk = kshape.size
    width = kshape[nk - 1]
    lines = 1
    for d in range(nk - 1):
        lines *= kshape[d]
    count = 1
    for d in range(rshape.size):
        count *= rshape[d]
    kidx = np.empty(nk, np.int64)
    kpos = np.empty(1, np.int64)
    ridx = np.empty(rshape.size, np.int64)
    rpos = np.empty(1, np.int64)
    rzero = np.zeros(1, np.int64)
    seek(kshape, kstrides, koffs, 0, kidx, kpos)
    is_sum = code == SUM or code == MEAN
    for line in range(lines):
        first = np.uint64(kpos[0])
        if is_sum:
            for j in range(width):
                acc[j] = zero
        else:
            for j in range(width):
                ext[j] = a[first + np.uint64(j)]
        seek(rshape, rstrides, rzero, 0, ridx, rpos)
        for _ in range(count):
            src = a[first + np.uint64(rpos[0]):]
            if is_sum:
                for j in range(width):
                    acc[j] += widen(src[j])
            elif code == MAX:
                for j in range(width):
                    ext[j] = maximum(ext[j], src[j])
            else:
                for j in range(width):
                    ext[j] = minimum(ext[j], src[j])
            step(rshape, rstrides, ridx, rpos, 1)
        dst = out[line * width:(line + 1) * width]
        if code == MEAN:
            for j in range(width):
                dst[j] = acc[j] / count
        elif is_sum:
            for j in range(width):
                dst[j] = acc[j]
        else:
            for j in range(width):
                dst[j] = ext[j]
        step(kshape, kstrides, kidx, kpos, width)


# ---------------------------------------------------------------- argmax / argmin


@jit
def _arg_line(is_max, a, p, s, n):
    """Index of the first max (min) of a[p + i*s]; the first NaN wins."""
    up = np.uint64(p)
    us = np.uint64(s)
    best = a[up]
    if best != best:
        return 0
    where = 0
    for i in range(1, n):
        v = a[up + np.uint64(i) * us]
        if v != v:
            return i
        if is_max:
            if v > best:
                best = v
                where = i
        elif v < best:
            best = v
            where = i
    return where


@jit
def argreduce_range(is_max, a, koffs, kstrides, kshape, n, s, out, start, stop):
    """out[o] = arg-extreme along the last (length n, stride s) axis for o in [start, stop)."""
    idx = np.empty(kshape.size, np.int64)
    pos = np.empty(1, np.int64)
    seek(kshape, kstrides, koffs, start, idx, pos)
    for o in range(start, stop):
        out[o] = _arg_line(is_max, a, pos[0], s, n)
        step(kshape, kstrides, idx, pos, 1)


@jit
def argmax_hits(a, b, rows, n):
    """Rows i < rows of the flat row-major (rows, n) a and b whose first argmax agrees."""
    hits = 0
    for i in range(rows):
        if _arg_line(True, a, i * n, 1, n) == _arg_line(True, b, i * n, 1, n):
            hits += 1
    return hits


# ---------------------------------------------------------------- softmax


@jit
def _softmax_line(a, pa, sa, o, po, so, n, log):
    """Stable softmax (or log_softmax) of one line of length n >= 1."""
    ua = np.uint64(pa)
    uo = np.uint64(po)
    usa = np.uint64(sa)
    uso = np.uint64(so)
    top = _line_extreme(True, a, pa, sa, n)
    total = 0.0
    for i in range(np.uint64(n)):
        total += math.exp(np.float64(a[ua + i * usa]) - top)
    if log:
        shift = top + math.log(total)
        for i in range(np.uint64(n)):
            o[uo + i * uso] = np.float64(a[ua + i * usa]) - shift
    else:
        scale = 1.0 / total
        for i in range(np.uint64(n)):
            o[uo + i * uso] = math.exp(np.float64(a[ua + i * usa]) - top) * scale


@jit
def softmax_range(a, o, offsets, strides, kshape, n, sa, so, log, start, stop):
    """Softmax along the last axis for kept (row) indices in [start, stop)."""
    idx = np.empty(kshape.size, np.int64)
    pos = np.empty(2, np.int64)
    seek(kshape, strides, offsets, start, idx, pos)
    for _ in range(start, stop):
        _softmax_line(a, pos[0], sa, o, pos[1], so, n, log)
        step(kshape, strides, idx, pos, 1)


@jit(parallel=True)
def softmax_parallel(a, o, offsets, strides, kshape, n, sa, so, log, rows, chunks):
    """softmax_range over all ``rows`` in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        softmax_range(a, o, offsets, strides, kshape, n, sa, so, log,
                      rows * c // chunks, rows * (c + 1) // chunks)
