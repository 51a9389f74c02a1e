"""Generic strided kernels for where, clip, casting copy and scatter_add."""

from __future__ import annotations

import numpy as np

from ._jit import jit, prange
from .scalar import maximum, minimum
from .walk import line_length, seek, step

# ---------------------------------------------------------------- where


@jit
def _where_line(c, pc, sc, a, pa, sa, b, pb, sb, o, po, so, n):
    """o = c ? a : b along one line."""
    uc = np.uint64(pc)
    ua = np.uint64(pa)
    ub = np.uint64(pb)
    uo = np.uint64(po)
    un = np.uint64(n)
    if so == 1 and sc == 1 and sa == 1 and sb == 1:
        for i in range(un):
            o[uo + i] = a[ua + i] if c[uc + i] else b[ub + i]
    else:
        usc = np.uint64(sc)
        usa = np.uint64(sa)
        usb = np.uint64(sb)
        uso = np.uint64(so)
        for i in range(un):
            o[uo + i * uso] = a[ua + i * usa] if c[uc + i * usc] else b[ub + i * usb]


@jit
def where_range(c, a, b, o, offsets, strides, shape, start, stop):
    """where over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(4, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _where_line(c, pos[0], strides[0, last], a, pos[1], strides[1, last],
                    b, pos[2], strides[2, last], o, pos[3], strides[3, last], count)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def where_parallel(c, a, b, o, offsets, strides, shape, total, chunks):
    """where over all ``total`` elements in ``chunks`` parallel pieces."""
    for k in prange(chunks):
        where_range(c, a, b, o, offsets, strides, shape,
                    total * k // chunks, total * (k + 1) // chunks)


# ---------------------------------------------------------------- clip


@jit
def _clip_value(x, lo, hi, has_lo, has_hi):
    """min(max(x, lo), hi) with NaN propagation; a missing bound is skipped."""
    if has_lo:
        x = maximum(x, lo)
    if has_hi:
        x = minimum(x, hi)
    return x


@jit
def _clip_line(a, pa, sa, o, po, so, n, lo, hi, has_lo, has_hi):
    """Clip one line."""
    ua = np.uint64(pa)
    uo = np.uint64(po)
    un = np.uint64(n)
    if so == 1 and sa == 1:
        for i in range(un):
            o[uo + i] = _clip_value(a[ua + i], lo, hi, has_lo, has_hi)
    else:
        usa = np.uint64(sa)
        uso = np.uint64(so)
        for i in range(un):
            o[uo + i * uso] = _clip_value(a[ua + i * usa], lo, hi, has_lo, has_hi)


@jit
def clip_range(a, o, offsets, strides, shape, start, stop, lo, hi, has_lo, has_hi):
    """Clip over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(2, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _clip_line(a, pos[0], strides[0, last], o, pos[1], strides[1, last], count,
                   lo, hi, has_lo, has_hi)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def clip_parallel(a, o, offsets, strides, shape, total, chunks, lo, hi, has_lo, has_hi):
    """Clip over all ``total`` elements in ``chunks`` parallel pieces."""
    for k in prange(chunks):
        clip_range(a, o, offsets, strides, shape, total * k // chunks,
                   total * (k + 1) // chunks, lo, hi, has_lo, has_hi)


# ---------------------------------------------------------------- casting copy


@jit
def _copy_line(a, pa, sa, o, po, so, n, to_bool):
    """Copy one line with a C cast (to_bool: store x != 0)."""
    ua = np.uint64(pa)
    uo = np.uint64(po)
    un = np.uint64(n)
    usa = np.uint64(sa)
    uso = np.uint64(so)
    if to_bool:
        for i in range(un):
            o[uo + i * uso] = a[ua + i * usa] != 0
    elif so == 1 and sa == 1:
        for i in range(un):
            o[uo + i] = a[ua + i]
    else:
        for i in range(un):
            o[uo + i * uso] = a[ua + i * usa]


@jit
def copy_range(a, o, offsets, strides, shape, start, stop, to_bool):
    """Casting copy over flat elements [start, stop)."""
    idx = np.empty(shape.size, np.int64)
    pos = np.empty(2, np.int64)
    seek(shape, strides, offsets, start, idx, pos)
    last = shape.size - 1
    done = start
    while done < stop:
        count = line_length(shape, idx, done, stop)
        _copy_line(a, pos[0], strides[0, last], o, pos[1], strides[1, last], count, to_bool)
        done += count
        step(shape, strides, idx, pos, count)


@jit(parallel=True)
def copy_parallel(a, o, offsets, strides, shape, total, chunks, to_bool):
    """Casting copy over all ``total`` elements in ``chunks`` parallel pieces."""
    for k in prange(chunks):
        copy_range(a, o, offsets, strides, shape, total * k // chunks,
                   total * (k + 1) // chunks, to_bool)


@jit
def copy_tiled_2d(a, pa, sa0, sa1, o, po, so0, so1, rows, cols, to_bool):
    """2-D casting copy in 32x32 tiles (for transposes: one side walks rows, the other columns)."""
    tile = 32
    for r0 in range(0, rows, tile):
        r1 = min(r0 + tile, rows)
        for c0 in range(0, cols, tile):
            c1 = min(c0 + tile, cols)
            for r in range(r0, r1):
                _copy_line(a, pa + r * sa0 + c0 * sa1, sa1, o, po + r * so0 + c0 * so1, so1,
                           c1 - c0, to_bool)


# ---------------------------------------------------------------- scatter_add


@jit
def scatter_add(out, index, src):
    """Sequentially out[index[i]] += src[i] (repeated indices accumulate)."""
    for i in range(index.size):
        out[np.uint64(index[i])] += src[i]
