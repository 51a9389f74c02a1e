"""Batched strided matrix multiply.

Operands arrive as (flat base, offset, strides) so transposed or sliced operands are read
through their strides (only the packing step reads them). Batch dims are walked with
``walk.seek``/``step``; zero batch strides broadcast.

Float path (BLIS-like): for each KC x NC panel of B, pack it once into a contiguous buffer;
for each MC block of the call's rows of A, pack the block (MC x KC, row-major); the macro
kernel then updates that block's contiguous MC x NC accumulators with long unit-stride rows
that LLVM vectorises; finally the accumulators are written to the output through its
strides. Integer path: simple loops.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, prange
from .walk import seek

MC = 128
KC = 512
NC = 256


@jit
def _pack_b(b, pb, sbk, sbn, k0, kc, n0, nc, buf):
    """buf[p*nc + j] = B[k0 + p, n0 + j] for p < kc, j < nc."""
    usk = np.uint64(sbk)
    usn = np.uint64(sbn)
    for p in range(kc):
        row = np.uint64(pb) + np.uint64(k0 + p) * usk + np.uint64(n0) * usn
        dst = buf[p * nc:(p + 1) * nc]
        if sbn == 1:
            for j in range(nc):
                dst[j] = b[row + np.uint64(j)]
        else:
            for j in range(nc):
                dst[j] = b[row + np.uint64(j) * usn]


@jit
def _pack_a(a, pa, sam, sak, m0, mc, k0, kc, buf):
    """buf[i*kc + p] = A[m0 + i, k0 + p] for i < mc, p < kc."""
    usm = np.uint64(sam)
    usk = np.uint64(sak)
    for i in range(mc):
        row = np.uint64(pa) + np.uint64(m0 + i) * usm + np.uint64(k0) * usk
        dst = buf[i * kc:(i + 1) * kc]
        for p in range(kc):
            dst[p] = a[row + np.uint64(p) * usk]


@jit
def _macro(apack, bpack, acc, mc, kc, nc):
    """acc[i*nc + j] += sum_p apack[i*kc + p] * bpack[p*nc + j] (rows of 4 share B loads)."""
    i = 0
    while i + 4 <= mc:
        r0 = acc[i * nc:(i + 1) * nc]
        r1 = acc[(i + 1) * nc:(i + 2) * nc]
        r2 = acc[(i + 2) * nc:(i + 3) * nc]
        r3 = acc[(i + 3) * nc:(i + 4) * nc]
        for p in range(kc):
            a0 = apack[i * kc + p]
            a1 = apack[(i + 1) * kc + p]
            a2 = apack[(i + 2) * kc + p]
            a3 = apack[(i + 3) * kc + p]
            brow = bpack[p * nc:(p + 1) * nc]
            for j in range(nc):
                bv = brow[j]
                r0[j] += a0 * bv
                r1[j] += a1 * bv
                r2[j] += a2 * bv
                r3[j] += a3 * bv
        i += 4
    while i < mc:
        r0 = acc[i * nc:(i + 1) * nc]
        for p in range(kc):
            a0 = apack[i * kc + p]
            brow = bpack[p * nc:(p + 1) * nc]
            for j in range(nc):
                r0[j] += a0 * brow[j]
        i += 1


@jit
def _gemm_rows(a, pa, sam, sak, b, pb, sbk, sbn, o, po, som, son, m0, m1, k, n, zero):
    """out[m0:m1, :] = A[m0:m1, :] @ B for one matrix of the batch.

    Each KC x NC panel of B is packed once per call and reused by every MC row block of
    the call's rows (their accumulators, rows x NC, stay resident between K blocks).
    """
    rows = m1 - m0
    apack = np.empty(MC * KC, a.dtype)
    bpack = np.empty(KC * NC, a.dtype)
    acc = np.empty(rows * NC, a.dtype)
    uso = np.uint64(son)
    for n0 in range(0, n, NC):
        nc = min(NC, n - n0)
        for x in range(rows * nc):
            acc[x] = zero
        for k0 in range(0, k, KC):
            kc = min(KC, k - k0)
            _pack_b(b, pb, sbk, sbn, k0, kc, n0, nc, bpack)
            for mb in range(m0, m1, MC):
                mc = min(MC, m1 - mb)
                _pack_a(a, pa, sam, sak, mb, mc, k0, kc, apack)
                base = (mb - m0) * nc
                _macro(apack, bpack, acc[base:base + mc * nc], mc, kc, nc)
        for i in range(rows):
            row = np.uint64(po) + np.uint64(m0 + i) * np.uint64(som) + np.uint64(n0) * uso
            src = acc[i * nc:(i + 1) * nc]
            for j in range(nc):
                o[row + np.uint64(j) * uso] = src[j]


@jit
def _int_rows(a, pa, sam, sak, b, pb, sbk, sbn, o, po, som, son, m0, m1, k, n, zero):
    """Integer out[m0:m1, :] = A @ B with simple loops (wrapping arithmetic)."""
    row_acc = np.empty(n, o.dtype)
    for i in range(m0, m1):
        for j in range(n):
            row_acc[j] = zero
        for p in range(k):
            av = a[np.uint64(pa + i * sam + p * sak)]
            brow = np.uint64(pb + p * sbk)
            for j in range(n):
                row_acc[j] += av * b[brow + np.uint64(j * sbn)]
        for j in range(n):
            o[np.uint64(po + i * som + j * son)] = row_acc[j]


@jit
def matmul_range(a, b, o, offsets, bstrides, bshape, mats, start, stop, is_float, zero):
    """Compute work items [start, stop): item w = (batch w // row_blocks, row block)."""
    m = mats[0]
    k = mats[1]
    n = mats[2]
    blocks = (m + MC - 1) // MC
    idx = np.empty(bshape.size, np.int64)
    pos = np.empty(3, np.int64)
    w = start
    while w < stop:
        batch = w // blocks
        seek(bshape, bstrides, offsets, batch, idx, pos)
        blk = w - batch * blocks
        last = min(stop - batch * blocks, blocks)
        m0 = blk * MC
        m1 = min(last * MC, m)
        if is_float:
            _gemm_rows(a, pos[0], mats[3], mats[4], b, pos[1], mats[5], mats[6],
                       o, pos[2], mats[7], mats[8], m0, m1, k, n, zero)
        else:
            _int_rows(a, pos[0], mats[3], mats[4], b, pos[1], mats[5], mats[6],
                      o, pos[2], mats[7], mats[8], m0, m1, k, n, zero)
        w = batch * blocks + last


@jit(parallel=True)
def matmul_parallel(a, b, o, offsets, bstrides, bshape, mats, total, chunks, is_float, zero):
    """matmul_range over all work items in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        matmul_range(a, b, o, offsets, bstrides, bshape, mats,
                     total * c // chunks, total * (c + 1) // chunks, is_float, zero)
