"""Generic strided elementwise kernels: binary arithmetic, comparisons and unary math.

One compiled kernel per (family, dtype) serves every op of the family (the op is an integer
code, see ``scalar``), every rank and every stride pattern. Each family has a line kernel
(unit-stride, scalar-broadcast and general-stride loops), a serial range worker over a flat
element range, and a ``prange`` wrapper that splits the range into chunks.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, prange
from .scalar import arith, compare, unary
from .walk import line_length, seek, step

# ---------------------------------------------------------------- binary arithmetic


@jit
def _arith_line(code, a, pa, sa, b, pb, sb, o, po, so, n):
    """o[po + i*so] = a[...] op b[...] for i < n."""
    ua = np.uint64(pa)
    ub = np.uint64(pb)
    uo = np.uint64(po)
    un = np.uint64(n)
    if so == 1 and sa == 1 and sb == 1:
        for i in range(un):
            o[uo + i] = arith(code, a[ua + i], b[ub + i])
    elif so == 1 and sa == 1 and sb == 0:
        y = b[ub]
        for i in range(un):
            o[uo + i] = arith(code, a[ua + i], y)
    elif so == 1 and sa == 0 and sb == 1:
        x = a[ua]
        for i in range(un):
            o[uo + i] = arith(code, x, b[ub + i])
    else:
        usa = np.uint64(sa)
        usb = np.uint64(sb)
        uso = np.uint64(so)
        for i in range(un):
            o[uo + i * uso] = arith(code, a[ua + i * usa], b[ub + i * usb])


@jit
def arith_range(code, a, b, o, offsets, strides, shape, start, stop):
    """Binary arithmetic over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(3, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _arith_line(code, a, pos[0], strides[0, last], b, pos[1], strides[1, last],
                    o, pos[2], strides[2, last], count)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def arith_parallel(code, a, b, o, offsets, strides, shape, total, chunks):
    """Binary arithmetic over all ``total`` elements in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        arith_range(code, a, b, o, offsets, strides, shape,
                    total * c // chunks, total * (c + 1) // chunks)


# ---------------------------------------------------------------- comparisons


@jit
def _compare_line(code, a, pa, sa, b, pb, sb, o, po, so, n):
    """o[po + i*so] = a[...] cmp b[...] for i < n."""
    ua = np.uint64(pa)
    ub = np.uint64(pb)
    uo = np.uint64(po)
    un = np.uint64(n)
    if so == 1 and sa == 1 and sb == 1:
        for i in range(un):
            o[uo + i] = compare(code, a[ua + i], b[ub + i])
    elif so == 1 and sa == 1 and sb == 0:
        y = b[ub]
        for i in range(un):
            o[uo + i] = compare(code, a[ua + i], y)
    else:
        usa = np.uint64(sa)
        usb = np.uint64(sb)
        uso = np.uint64(so)
        for i in range(un):
            o[uo + i * uso] = compare(code, a[ua + i * usa], b[ub + i * usb])


@jit
def compare_range(code, a, b, o, offsets, strides, shape, start, stop):
    """Comparison over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(3, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _compare_line(code, a, pos[0], strides[0, last], b, pos[1], strides[1, last],
                      o, pos[2], strides[2, last], count)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def compare_parallel(code, a, b, o, offsets, strides, shape, total, chunks):
    """Comparison over all ``total`` elements in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        compare_range(code, a, b, o, offsets, strides, shape,
                      total * c // chunks, total * (c + 1) // chunks)


# ---------------------------------------------------------------- unary math


@jit
def _unary_line(code, a, pa, sa, o, po, so, n):
    """o[po + i*so] = op(a[pa + i*sa]) for i < n."""
    ua = np.uint64(pa)
    uo = np.uint64(po)
    un = np.uint64(n)
    if so == 1 and sa == 1:
        for i in range(un):
            o[uo + i] = unary(code, a[ua + i])
    else:
        usa = np.uint64(sa)
        uso = np.uint64(so)
        for i in range(un):
            o[uo + i * uso] = unary(code, a[ua + i * usa])


@jit
def unary_range(code, a, o, offsets, strides, shape, start, stop):
    """Unary op over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(2, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _unary_line(code, a, pos[0], strides[0, last], o, pos[1], strides[1, last], count)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def unary_parallel(code, a, o, offsets, strides, shape, total, chunks):
    """Unary op over all ``total`` elements in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        unary_range(code, a, o, offsets, strides, shape,
                    total * c // chunks, total * (c + 1) // chunks)
