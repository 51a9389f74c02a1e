"""Convolution and pooling kernels for the Numba backend (channels-last, flat C-order arrays).

Same plan as the C core (csrc/conv.c): the output is an M = N*OH*OW by O matrix cut into row
tiles; each tile's im2col rows are built in a per-piece buffer (never the whole im2col
matrix) and multiplied by the HWIO kernel, used in place as a (KH*KW*Cg) x O matrix, with the
packed, register-tiled GEMM block of ``kernels.gemm``. The input gradient runs per image
(images never share dx): dcol = dy_tile @ W^T, then col2im adds it into dx. The filter
gradient gives each parallel piece its own K x O accumulator, summed in piece order.
Pooling runs per image with the channel loop innermost; max pooling records the argmax
position (ih * W + iw) and its gradient routes each dy there.

``g`` is the int64 geometry vector of ``tensorcore.ops_conv``: N, H, W, C, KH, KW, O, OH,
OW, SH, SW, pad top, pad left, DH, DW, groups.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, prange
from .gemm import _gemm_block

TILE_BYTES = 192 << 10
MAX_TILE_ROWS = 4096
MIN_TILE_ROWS = 32


def tile_rows(k: int, itemsize: int, rows: int, pieces: int) -> int:
    """Rows per im2col tile: within TILE_BYTES and leaving each piece a few tiles."""
    t = min(TILE_BYTES // (k * itemsize), MAX_TILE_ROWS, -(-rows // (4 * pieces)))
    return max(t, MIN_TILE_ROWS)


@jit
def _origin(g, r):
    """(image offset, ih0, iw0) of global output row r."""
    per_image = g[7] * g[8]
    n = r // per_image
    rem = r - n * per_image
    oh = rem // g[8]
    ow = rem - oh * g[8]
    return n * g[1] * g[2] * g[3], oh * g[9] - g[11], ow * g[10] - g[12]


@jit
def _im2col(g, x, r0, r1, gi, col):
    """col[(r - r0) * K + (kh*KW + kw)*Cg + c] = x[n, ih, iw, gi*Cg + c] (0 outside)."""
    h, w, c, kh_, kw_ = g[1], g[2], g[3], g[4], g[5]
    dh, dw = g[13], g[14]
    cg = c // g[15]
    c0 = gi * cg
    zero = col.dtype.type(0)
    d = 0
    for r in range(r0, r1):
        base, ih0, iw0 = _origin(g, r)
        for kh in range(kh_):
            ih = ih0 + kh * dh
            for kw in range(kw_):
                iw = iw0 + kw * dw
                if ih < 0 or ih >= h or iw < 0 or iw >= w:
                    for q in range(cg):
                        col[d + q] = zero
                else:
                    src = base + (ih * w + iw) * c + c0
                    for q in range(cg):
                        col[d + q] = x[src + q]
                d += cg


@jit
def _col2im(g, col, r0, r1, gi, dx):
    """Adds the dcol rows [r0, r1) of group gi into dx (positions outside are dropped)."""
    h, w, c, kh_, kw_ = g[1], g[2], g[3], g[4], g[5]
    dh, dw = g[13], g[14]
    cg = c // g[15]
    c0 = gi * cg
    s = 0
    for r in range(r0, r1):
        base, ih0, iw0 = _origin(g, r)
        for kh in range(kh_):
            ih = ih0 + kh * dh
            for kw in range(kw_):
                iw = iw0 + kw * dw
                if ih >= 0 and ih < h and iw >= 0 and iw < w:
                    dst = base + (ih * w + iw) * c + c0
                    for q in range(cg):
                        dx[dst + q] += col[s + q]
                s += cg


@jit
def _gemm(a, pa, sam, sak, b, pb, sbk, sbn, o, po, som, m, n, k, blk, apack, bpack, tile):
    """o[po + i*som + j] = sum_p a[pa + i*sam + p*sak] * b[pb + p*sbk + j*sbn], i < m, j < n."""
    zero = o.dtype.type(0)
    for n0 in range(0, n, blk[2]):
        _gemm_block(a, pa, sam, sak, b, pb, sbk, sbn, o, po, som, 1, 0, m, n0,
                    min(n0 + blk[2], n), k, blk[0], blk[1], apack, bpack, tile, zero)


@jit
def _buffers(blk, nr, mr, dtype_of):
    apack = np.empty(blk[0] * blk[1], dtype_of.dtype)
    bpack = np.empty(blk[1] * ((blk[2] + nr - 1) // nr) * nr, dtype_of.dtype)
    tile = np.empty(mr * nr, dtype_of.dtype)
    return apack, bpack, tile


@jit
def forward_range(x, w, y, g, blk, tiles, t0, t1):
    """y rows of tiles [t0, t1) (tiles = (tile rows, MR, NR))."""
    c, o, groups = g[3], g[6], g[15]
    cg = c // groups
    og = o // groups
    k = g[4] * g[5] * cg
    m = g[0] * g[7] * g[8]
    rows = tiles[0]
    col = np.empty(rows * k, y.dtype)
    apack, bpack, tile = _buffers(blk, tiles[2], tiles[1], y)
    for t in range(t0, t1):
        r0 = t * rows
        r1 = min(r0 + rows, m)
        for gi in range(groups):
            _im2col(g, x, r0, r1, gi, col)
            _gemm(col, 0, k, 1, w, gi * og, o, 1, y, r0 * o + gi * og, o, r1 - r0, og, k,
                  blk, apack, bpack, tile)


@jit(parallel=True)
def forward_parallel(x, w, y, g, blk, tiles, ntiles, chunks):
    for p in prange(chunks):
        forward_range(x, w, y, g, blk, tiles, ntiles * p // chunks, ntiles * (p + 1) // chunks)


@jit
def grad_input_range(dy, w, dx, g, blk, tiles, n0, n1):
    """dx of images [n0, n1)."""
    h, wd, c, o, groups = g[1], g[2], g[3], g[6], g[15]
    cg = c // groups
    og = o // groups
    k = g[4] * g[5] * cg
    per_image = g[7] * g[8]
    rows = tiles[0]
    col = np.empty(rows * k, dx.dtype)
    apack, bpack, tile = _buffers(blk, tiles[2], tiles[1], dx)
    zero = dx.dtype.type(0)
    for n in range(n0, n1):
        for i in range(n * h * wd * c, (n + 1) * h * wd * c):
            dx[i] = zero
        for r0 in range(n * per_image, (n + 1) * per_image, rows):
            r1 = min(r0 + rows, (n + 1) * per_image)
            for gi in range(groups):
                _gemm(dy, r0 * o + gi * og, o, 1, w, gi * og, 1, o, col, 0, k, r1 - r0, k, og,
                      blk, apack, bpack, tile)
                _col2im(g, col, r0, r1, gi, dx)


@jit(parallel=True)
def grad_input_parallel(dy, w, dx, g, blk, tiles, chunks):
    n = g[0]
    for p in prange(chunks):
        grad_input_range(dy, w, dx, g, blk, tiles, n * p // chunks, n * (p + 1) // chunks)


@jit
def grad_filter_range(x, dy, acc, g, blk, tiles, ntiles, pieces, p):
    """acc[p] = sum over the tiles of piece p of col^T @ dy_tile (K x O, HWIO order)."""
    c, o, groups = g[3], g[6], g[15]
    cg = c // groups
    og = o // groups
    k = g[4] * g[5] * cg
    m = g[0] * g[7] * g[8]
    rows = tiles[0]
    col = np.empty(rows * k, acc.dtype)
    part = np.empty(k * og, acc.dtype)
    apack, bpack, tile = _buffers(blk, tiles[2], tiles[1], acc)
    base = p * k * o
    zero = acc.dtype.type(0)
    for i in range(k * o):
        acc[base + i] = zero
    for t in range(ntiles * p // pieces, ntiles * (p + 1) // pieces):
        r0 = t * rows
        r1 = min(r0 + rows, m)
        for gi in range(groups):
            _im2col(g, x, r0, r1, gi, col)
            _gemm(col, 0, 1, k, dy, r0 * o + gi * og, o, 1, part, 0, og, k, og, r1 - r0,
                  blk, apack, bpack, tile)
            for i in range(k):
                for j in range(og):
                    acc[base + i * o + gi * og + j] += part[i * og + j]


@jit(parallel=True)
def grad_filter_parallel(x, dy, acc, g, blk, tiles, ntiles, pieces):
    for p in prange(pieces):
        grad_filter_range(x, dy, acc, g, blk, tiles, ntiles, pieces, p)


@jit
def sum_pieces(acc, pieces, length, out):
    """out[i] = sum over pieces of acc[p * length + i], in piece order."""
    for i in range(length):
        out[i] = acc[i]
    for p in range(1, pieces):
        for i in range(length):
            out[i] += acc[p * length + i]


@jit
def _window(g, oh, ow):
    h0 = oh * g[9] - g[11]
    w0 = ow * g[10] - g[12]
    return max(h0, 0), min(h0 + g[4], g[1]), max(w0, 0), min(w0 + g[5], g[2])


@jit
def pool_range(kind, x, y, arg, g, n0, n1):
    """Pooling of images [n0, n1): kind 0 = max (arg filled), 1 = average."""
    h, w, c, oh_, ow_ = g[1], g[2], g[3], g[7], g[8]
    for n in range(n0, n1):
        xb = n * h * w * c
        yo = n * oh_ * ow_ * c
        for oh in range(oh_):
            for ow in range(ow_):
                ih0, ih1, iw0, iw1 = _window(g, oh, ow)
                if kind == 0:
                    if ih0 >= ih1 or iw0 >= iw1:
                        for q in range(c):
                            y[yo + q] = -np.inf
                            arg[yo + q] = -1
                    else:
                        first = ih0 * w + iw0
                        for q in range(c):
                            y[yo + q] = x[xb + first * c + q]
                            arg[yo + q] = first
                        for ih in range(ih0, ih1):
                            for iw in range(iw0, iw1):
                                pos = ih * w + iw
                                if pos == first:
                                    continue
                                src = xb + pos * c
                                for q in range(c):
                                    v = x[src + q]
                                    cur = y[yo + q]
                                    if v > cur or (np.isnan(v) and not np.isnan(cur)):
                                        y[yo + q] = v
                                        arg[yo + q] = pos
                else:
                    for q in range(c):
                        y[yo + q] = 0
                    for ih in range(ih0, ih1):
                        for iw in range(iw0, iw1):
                            src = xb + (ih * w + iw) * c
                            for q in range(c):
                                y[yo + q] += x[src + q]
                    count = (ih1 - ih0) * (iw1 - iw0)
                    scale = y.dtype.type(1.0 / count) if count > 0 else y.dtype.type(np.nan)
                    for q in range(c):
                        y[yo + q] *= scale
                yo += c


@jit(parallel=True)
def pool_parallel(kind, x, y, arg, g, chunks):
    n = g[0]
    for p in prange(chunks):
        pool_range(kind, x, y, arg, g, n * p // chunks, n * (p + 1) // chunks)


@jit
def pool_grad_range(kind, dy, arg, dx, g, n0, n1):
    """dx of images [n0, n1) from dy (and arg for max pooling)."""
    h, w, c, oh_, ow_ = g[1], g[2], g[3], g[7], g[8]
    zero = dx.dtype.type(0)
    for n in range(n0, n1):
        xb = n * h * w * c
        for i in range(xb, xb + h * w * c):
            dx[i] = zero
        yo = n * oh_ * ow_ * c
        for oh in range(oh_):
            for ow in range(ow_):
                if kind == 0:
                    for q in range(c):
                        pos = arg[yo + q]
                        if pos >= 0:
                            dx[xb + pos * c + q] += dy[yo + q]
                else:
                    ih0, ih1, iw0, iw1 = _window(g, oh, ow)
                    count = (ih1 - ih0) * (iw1 - iw0)
                    if count > 0:
                        scale = dx.dtype.type(1.0 / count)
                        for ih in range(ih0, ih1):
                            for iw in range(iw0, iw1):
                                dst = xb + (ih * w + iw) * c
                                for q in range(c):
                                    dx[dst + q] += dy[yo + q] * scale
                yo += c


@jit(parallel=True)
def pool_grad_parallel(kind, dy, arg, dx, g, chunks):
    n = g[0]
    for p in prange(chunks):
        pool_grad_range(kind, dy, arg, dx, g, n * p // chunks, n * (p + 1) // chunks)
