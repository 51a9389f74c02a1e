"""Batched strided matrix multiply for the Numba backend.

Operands arrive as (flat base, offset, strides) so transposed or sliced operands are read
through their strides (only the packing step reads them). Batch dims are walked with
``walk.seek``; zero batch strides broadcast.

Float path (BLIS-like, Goto's loop order). A work item is one MC x NC block of one matrix of
the batch. For each KC slice of K: pack B[KC, NC] into NR-wide column panels and each
MC-row block of A into MR-tall row panels (both zero-padded to whole panels), then run the
register-tiled micro-kernel on every MR x NR tile: B's micro-panel (KC x NR) stays in L1
while the A panels stream from L2.

The micro-kernel keeps its MR x NR accumulators in local variables. Numba has no vector
types, so the kernel is generated as straight-line scalar code (one statement per
accumulator) and compiled with LLVM's SLP vectorizer switched on (Numba leaves it off by
default; ``run`` enables it while these kernels compile) and with ``contract`` fast-math so
the multiply-adds fuse; LLVM then packs each row of NR accumulators into vector registers.
The tile is chosen from the CPU's vector width (see ``_TILES``). Full tiles with unit column
stride update the output in place (the first KC slice writes without reading it); edge tiles
and strided outputs go through a small tile buffer.

Integer path: simple loops (wrapping arithmetic), no packing.
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

from ._jit import jit, prange
from .walk import seek

# (MR, NR) per vector ISA and float width. LLVM loads the NR/lanes B vectors and hoists all MR
# broadcasts of A before the multiply-adds, so MR * NR/lanes accumulators + NR/lanes + MR must
# fit the register file: 16 + 2 + 8 of 32 zmm (AVX-512); 8 + 2 + 4 of 16 ymm (AVX2). The
# earlier AVX2 tile, 6 x 16 (12 + 2 + 6 = 20), spilled accumulators to the stack in the
# k loop: 1024^3 float32 on one Zen 3 core went from 0.32 of OpenBLAS to 0.57-0.70.
_TILES = {
    "avx512": {32: (8, 32), 64: (8, 16)},
    "avx2": {32: (4, 16), 64: (4, 8)},
    "sse": {32: (4, 8), 64: (4, 4)},
}


def _vector_isa() -> str:
    """The widest vector ISA Numba compiles for here: 'avx512', 'avx2' or 'sse'.

    ``TENSORCORE_NUMBA_GEMM_ISA`` overrides it (picks that ISA's tile; for tests and tuning).
    """
    forced = os.environ.get("TENSORCORE_NUMBA_GEMM_ISA", "")
    if forced in _TILES:
        return forced
    if numba.config.CPU_NAME not in (None, "", "host"):
        return "sse"  # a portable target (NUMBA_CPU_NAME=generic, ...): assume the least
    try:
        from llvmlite import binding as llvm

        features = llvm.get_host_cpu_features()
    except Exception:  # no feature query on this platform
        return "sse"
    if features.get("avx512f"):
        return "avx512"
    if features.get("avx2") and features.get("fma"):
        return "avx2"
    return "sse"


ISA = _vector_isa()
# Measured on a 2-core Zen 4 (1 MiB L2): with MC 256 rows of A (256 KiB packed) stay in L2
# and B's 256 x 32 micro-panel (32 KiB) in L1; a smaller MC repacks B more often.
MC_ROWS = 256
KC = 256
NC = 256


def blocking(dtype: np.dtype) -> tuple:
    """Return (MR, NR, MC, KC, NC) for a float dtype on this CPU."""
    mr, nr = _TILES[ISA][np.dtype(dtype).itemsize * 8]
    return mr, nr, mr * (MC_ROWS // mr), KC, NC


def _micro_source(name: str, mr: int, nr: int) -> str:
    """Source of a micro-kernel for an mr x nr tile (see the module docstring)."""
    acc = [[f"c{r}_{j}" for j in range(nr)] for r in range(mr)]
    cidx = [[f"c[co + np.uint64({r}) * ldc + np.uint64({j})]" for j in range(nr)]
            for r in range(mr)]
    lines = [
        f"def {name}(ap, ao, bp, bo, kc, c, co, ldc, first, zero):",
        f'    """c[co + r*ldc + j] (=, or += unless first) sum_p ap[ao + p*{mr} + r] * '
        f'bp[bo + p*{nr} + j]."""',
        "    if first:",
    ]
    lines += ["        " + "; ".join(f"{v} = zero" for v in row) for row in acc]
    lines.append("    else:")
    lines += ["        " + "; ".join(f"{v} = {x}" for v, x in zip(row, xs))
              for row, xs in zip(acc, cidx)]
    lines.append("    for _ in range(kc):")
    lines.append("        " + "; ".join(f"b{j} = bp[bo + np.uint64({j})]" for j in range(nr)))
    for r in range(mr):
        lines.append(f"        a = ap[ao + np.uint64({r})]")
        lines.append("        " + "; ".join(f"{acc[r][j]} += a * b{j}" for j in range(nr)))
    lines.append(f"        ao += np.uint64({mr})")
    lines.append(f"        bo += np.uint64({nr})")
    lines += ["    " + "; ".join(f"{x} = {v}" for v, x in zip(row, xs))
              for row, xs in zip(acc, cidx)]
    return "\n".join(lines) + "\n"


def _make_micro(mr: int, nr: int):
    """Compile-ready dispatcher of the mr x nr micro-kernel."""
    name = f"_micro_{mr}x{nr}"
    namespace = {"np": np, "__name__": __name__}
    # Compiled with this file's name so Numba's disk cache can locate it (keyed by this file).
    exec(compile(_micro_source(name, mr, nr), __file__, "exec"), namespace)
    return jit(namespace[name], fastmath={"contract"})


_MICRO = {bits: _make_micro(*_TILES[ISA][bits]) for bits in (32, 64)}


def _micro(ap, ao, bp, bo, kc, c, co, ldc, first, zero):  # pragma: no cover - typing stub
    """Call the micro-kernel of ``ap``'s dtype (resolved at compile time)."""
    raise NotImplementedError("only callable from jitted code")


@overload(_micro)
def _micro_for_dtype(ap, ao, bp, bo, kc, c, co, ldc, first, zero):
    """Pick the micro-kernel compiled for the operands' float width."""
    if not isinstance(ap.dtype, types.Float):
        return None
    kernel = _MICRO[ap.dtype.bitwidth]

    def call(ap, ao, bp, bo, kc, c, co, ldc, first, zero):
        kernel(ap, ao, bp, bo, kc, c, co, ldc, first, zero)

    return call


@jit
def _pack_a(a, pa, sam, sak, m0, mc, k0, kc, buf, mr):
    """A[m0:m0+mc, k0:k0+kc] into mr-tall panels: buf[(i//mr)*kc*mr + p*mr + i%mr].

    Rows past ``mc`` in the last panel are zero.
    """
    usm = np.uint64(sam)
    usk = np.uint64(sak)
    zero = a.dtype.type(0)
    for ip in range((mc + mr - 1) // mr):
        base = ip * kc * mr
        for r in range(mr):
            i = ip * mr + r
            if i < mc:
                src = np.uint64(pa) + np.uint64(m0 + i) * usm + np.uint64(k0) * usk
                for p in range(kc):
                    buf[base + p * mr + r] = a[src + np.uint64(p) * usk]
            else:
                for p in range(kc):
                    buf[base + p * mr + r] = zero


@jit
def _pack_b(b, pb, sbk, sbn, k0, kc, n0, nc, buf, nr):
    """B[k0:k0+kc, n0:n0+nc] into nr-wide panels: buf[(j//nr)*kc*nr + p*nr + j%nr].

    Columns past ``nc`` in the last panel are zero.
    """
    usk = np.uint64(sbk)
    usn = np.uint64(sbn)
    zero = b.dtype.type(0)
    for jp in range((nc + nr - 1) // nr):
        j0 = jp * nr
        width = min(nr, nc - j0)
        base = jp * kc * nr
        for p in range(kc):
            src = np.uint64(pb) + np.uint64(k0 + p) * usk + np.uint64(n0 + j0) * usn
            dst = base + p * nr
            if sbn == 1:
                for j in range(width):
                    buf[dst + j] = b[src + np.uint64(j)]
            else:
                for j in range(width):
                    buf[dst + j] = b[src + np.uint64(j) * usn]
            for j in range(width, nr):
                buf[dst + j] = zero


def _tile_of(zero):  # pragma: no cover - typing stub
    raise NotImplementedError("only callable from jitted code")


@overload(_tile_of)
def _tile_of_dtype(zero):
    """Constant (MR, NR) for a float scalar type."""
    if not isinstance(zero, types.Float):
        return None
    mr, nr = _TILES[ISA][zero.bitwidth]

    def sizes(zero):
        return mr, nr

    return sizes


@jit
def _gemm_block(a, pa, sam, sak, b, pb, sbk, sbn, o, po, som, son,
                m0, m1, n0, n1, k, mc_max, kc_max, apack, bpack, tile, zero):
    """out[m0:m1, n0:n1] = A[m0:m1, :] @ B[:, n0:n1] for one matrix of the batch."""
    mr, nr = _tile_of(zero)
    nc = n1 - n0
    uso = np.uint64(son)
    if k == 0:
        for i in range(m0, m1):
            row = np.uint64(po + i * som)
            for j in range(n0, n1):
                o[row + np.uint64(j) * uso] = zero
        return
    npanels = (nc + nr - 1) // nr
    for k0 in range(0, k, kc_max):
        kc = min(kc_max, k - k0)
        first = k0 == 0
        _pack_b(b, pb, sbk, sbn, k0, kc, n0, nc, bpack, nr)
        for mb in range(m0, m1, mc_max):
            mc = min(mc_max, m1 - mb)
            _pack_a(a, pa, sam, sak, mb, mc, k0, kc, apack, mr)
            mpanels = (mc + mr - 1) // mr
            for jp in range(npanels):
                j0 = n0 + jp * nr
                w = min(nr, n1 - j0)
                bo = np.uint64(jp * kc * nr)
                for ip in range(mpanels):
                    i0 = mb + ip * mr
                    h = min(mr, mb + mc - i0)
                    ao = np.uint64(ip * kc * mr)
                    if h == mr and w == nr and son == 1:
                        _micro(apack, ao, bpack, bo, kc, o, np.uint64(po + i0 * som + j0),
                               np.uint64(som), first, zero)
                    else:  # edge tile or strided output: through the tile buffer
                        _micro(apack, ao, bpack, bo, kc, tile, np.uint64(0), np.uint64(nr),
                               True, zero)
                        for r in range(h):
                            row = np.uint64(po + (i0 + r) * som) + np.uint64(j0) * uso
                            for j in range(w):
                                dst = row + np.uint64(j) * uso
                                if first:
                                    o[dst] = tile[r * nr + j]
                                else:
                                    o[dst] += tile[r * nr + j]


@jit
def matmul_range(a, b, o, offsets, bstrides, bshape, mats, blk, start, stop, zero):
    """Float work items [start, stop); item w = (batch, column block, row block), row fastest.

    ``mats`` = (m, k, n, A strides, B strides, out strides); ``blk`` = (MC, KC, NC).
    """
    m = mats[0]
    k = mats[1]
    n = mats[2]
    mc_max = blk[0]
    kc_max = blk[1]
    nc_max = blk[2]
    mr, nr = _tile_of(zero)
    mblocks = (m + mc_max - 1) // mc_max
    nblocks = (n + nc_max - 1) // nc_max
    apack = np.empty(mc_max * kc_max, o.dtype)
    bpack = np.empty(kc_max * ((nc_max + nr - 1) // nr) * nr, o.dtype)
    tile = np.empty(mr * nr, o.dtype)
    idx = np.empty(bshape.size, np.int64)
    pos = np.empty(3, np.int64)
    for w in range(start, stop):
        batch = w // (mblocks * nblocks)
        rest = w - batch * mblocks * nblocks
        nb = rest // mblocks
        mb = rest - nb * mblocks
        seek(bshape, bstrides, offsets, batch, idx, pos)
        _gemm_block(a, pos[0], mats[3], mats[4], b, pos[1], mats[5], mats[6],
                    o, pos[2], mats[7], mats[8],
                    mb * mc_max, min((mb + 1) * mc_max, m), nb * nc_max,
                    min((nb + 1) * nc_max, n), k, mc_max, kc_max, apack, bpack, tile, zero)


@jit(parallel=True)
def matmul_parallel(a, b, o, offsets, bstrides, bshape, mats, blk, total, chunks, zero):
    """matmul_range over all float work items in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        matmul_range(a, b, o, offsets, bstrides, bshape, mats, blk,
                     total * c // chunks, total * (c + 1) // chunks, zero)


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
def int_matmul_range(a, b, o, offsets, bstrides, bshape, mats, rows, start, stop, zero):
    """Integer work items [start, stop): item w = (batch, block of ``rows`` rows)."""
    m = mats[0]
    blocks = (m + rows - 1) // rows
    idx = np.empty(bshape.size, np.int64)
    pos = np.empty(3, np.int64)
    for w in range(start, stop):
        batch = w // blocks
        blk = w - batch * blocks
        seek(bshape, bstrides, offsets, batch, idx, pos)
        _int_rows(a, pos[0], mats[3], mats[4], b, pos[1], mats[5], mats[6],
                  o, pos[2], mats[7], mats[8], blk * rows, min((blk + 1) * rows, m),
                  mats[1], mats[2], zero)


@jit(parallel=True)
def int_matmul_parallel(a, b, o, offsets, bstrides, bshape, mats, rows, total, chunks, zero):
    """int_matmul_range over all integer work items in ``chunks`` parallel pieces."""
    for c in prange(chunks):
        int_matmul_range(a, b, o, offsets, bstrides, bshape, mats, rows,
                         total * c // chunks, total * (c + 1) // chunks, zero)


# ---------------------------------------------------------------- first compile with SLP

_SLP_LOCK = threading.Lock()
_SLP_READY: set = set()
_CHECKED: set = set()
# TENSORCORE_NUMBA_GEMM_SLP=0 compiles the GEMM without the SLP vectorizer (correct, slower).
USE_SLP = os.environ.get("TENSORCORE_NUMBA_GEMM_SLP", "1") != "0"


@jit
def _reference_gemm(a, b, out):
    """Plain triple loop (float64 sums) used by the self-check; compiled without SLP."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            total = 0.0
            for p in range(k):
                total += np.float64(a[i, p]) * np.float64(b[p, j])
            out[i, j] = total


def _self_check(dtype: np.dtype) -> None:
    """Compare the packed GEMM with the plain loop on a problem with full and edge tiles, two
    K slices and a strided output. Numba switched SLP off by default after LLVM
    miscompilations, so a wrong build of these kernels must fail loudly, not silently."""
    mr, nr, mc, kc, nc = blocking(dtype)
    m, k, n = 2 * mr + 1, kc + 3, nr + 3
    a = np.array([[(5 * i + 3 * p) % 13 - 6 for p in range(k)] for i in range(m)], dtype)
    b = np.array([[(3 * p + 7 * j) % 11 - 5 for j in range(n)] for p in range(k)], dtype)
    expected = np.empty((m, n), np.float64)
    _reference_gemm(a, b, expected)  # small integers: every sum is exact in float32 too
    for out in (np.empty((m, n), dtype), np.empty((n, m), dtype).T):
        mats = np.array([m, k, n, k, 1, n, 1, out.strides[0] // out.itemsize,
                         out.strides[1] // out.itemsize], dtype=np.int64)
        total = ((m + mc - 1) // mc) * ((n + nc - 1) // nc)
        flat = out.T.reshape(-1) if out.strides[0] < out.strides[1] else out.reshape(-1)
        matmul_range(a.reshape(-1), b.reshape(-1), flat, np.zeros(3, np.int64),
                     np.zeros((3, 0), np.int64), np.zeros(0, np.int64), mats,
                     np.array([mc, kc, nc], np.int64), 0, total, dtype.type(0))
        for i in range(m):
            for j in range(n):
                if float(out[i, j]) != expected[i, j]:
                    raise RuntimeError(
                        f"tensorcore: the Numba GEMM self-check failed for {dtype} "
                        f"(element [{i}, {j}]: {float(out[i, j])} != {expected[i, j]}); "
                        "LLVM's SLP vectorizer may have miscompiled it on this system. "
                        "Set TENSORCORE_NUMBA_GEMM_SLP=0 to compile it without SLP.")


def run(kernel, args: tuple) -> None:
    """Call a float GEMM entry point; its first call per dtype compiles with SLP vectorizing.

    Numba reads ``config.SLP_VECTORIZE`` when it optimizes a freshly compiled module, so the
    flag is switched on only around the call that compiles (or loads from cache) ``kernel``
    for this dtype; other kernels keep Numba's default. The first use of a dtype also runs
    ``_self_check``. Later calls go straight through.
    """
    dtype = args[2].dtype
    key = (kernel, dtype)
    if key in _SLP_READY:
        kernel(*args)
        return
    if dtype not in _CHECKED:
        _reference_gemm(np.zeros((1, 1), dtype), np.zeros((1, 1), dtype),
                        np.zeros((1, 1), np.float64))  # compiled before SLP is switched on
    with _SLP_LOCK:
        previous = numba.config.SLP_VECTORIZE
        numba.config.SLP_VECTORIZE = 1 if USE_SLP else previous
        try:
            if dtype not in _CHECKED:
                _self_check(dtype)
                _CHECKED.add(dtype)
            kernel(*args)
        finally:
            numba.config.SLP_VECTORIZE = previous
        _SLP_READY.add(key)
