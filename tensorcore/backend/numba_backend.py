"""The Numba backend: docs/backend-interface.md implemented with lazily compiled @njit kernels.

Importing this module imports Numba (and nothing is compiled until a kernel is first called).
Every operand is handed to the kernels in the generic form of ``kernels.layout`` so one compiled
kernel per (op family, dtype) serves all ranks and stride patterns.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numba
import numpy as np

from .. import _optable as optable
from ..kernels import _jit
from ..kernels import conv as _conv
from ..kernels import elementwise as _ew
from ..kernels import gemm as _gemm
from ..kernels import reduce as _red
from ..kernels import select as _sel
from ..kernels import sort as _sort
from ..kernels import svd as _svd
from ..kernels.layout import coalesce, flat_base, operand_table

__all__ = [
    "binary", "unary", "where", "clip", "copy", "reduce", "argreduce", "matmul", "softmax",
    "scatter_add", "sort", "cumsum", "nonzero", "searchsorted", "svdvals", "take_rows",
    "put_rows", "argmax_hits",
    "conv2d",
    "conv2d_grad_input", "conv2d_grad_filter", "pool2d", "pool2d_grad", "set_num_threads",
    "get_num_threads", "info",
]

# Below these sizes a call runs serially: launching a parallel region on Numba's workqueue
# layer costs about 0.15-0.25 ms here, so it pays only for calls that take longer than about
# 0.5 ms serially. Measured (2 threads vs 1): an add of 2**20 float32 was slower in parallel
# (558 vs 438 us), of 2**22 faster (1086 vs 1832 us); exp of 2**20 faster (1372 vs 3306 us);
# a 512x128 @ 128x10 matmul slower (204 vs 87 us), 128x784 @ 784x512 faster (898 vs 1254 us).
PARALLEL_MIN_ELEMENTS = 1 << 21        # memory-bound elementwise ops, copies, reductions
PARALLEL_MIN_MATH = 1 << 17            # transcendental ops (exp, log, tanh, ...)
PARALLEL_MIN_FLOPS = 1 << 23           # matmul multiply-adds
# ops of the table's MATH cost class, and the transcendental reduction
_MATH_OPS = {op.name for op in optable.primitives() if op.cost == optable.MATH} | {"logsumexp"}


def _min_elements(op: str) -> int:
    """Parallel threshold (elements) for an elementwise op or reduction named ``op``."""
    return PARALLEL_MIN_MATH if op in _MATH_OPS else PARALLEL_MIN_ELEMENTS


# op codes of the op table's rows (the same codes kernels/scalar.py branches on)
_ARITH = {op.name: op.code for op in optable.family(optable.BINARY) if not op.bool_result}
_COMPARE = {op.name: op.code for op in optable.family(optable.BINARY) if op.bool_result}
_UNARY = {op.name: op.code for op in optable.family(optable.UNARY)}
_REDUCE = {
    "sum": _red.SUM, "max": _red.MAX, "min": _red.MIN, "mean": _red.MEAN, "var": _red.VAR,
    "logsumexp": _red.LOGSUMEXP,
}

_threads = numba.get_num_threads()


def _chunks(work: int, threshold: Optional[int] = None) -> int:
    """Return how many parallel pieces to split ``work`` into (1 means run serially)."""
    if threshold is None:
        threshold = PARALLEL_MIN_ELEMENTS
    if _threads <= 1 or work < threshold:
        return 1
    return _threads


def _element_strides(a: np.ndarray, dims: Sequence[int]) -> list:
    """Return a's strides along ``dims`` in elements."""
    item = a.itemsize
    return [a.strides[d] // item for d in dims]


def _base_or_dummy(a: np.ndarray) -> Tuple[np.ndarray, int]:
    """flat_base for non-empty arrays; a 1-element dummy base (never read) for empty ones."""
    if a.size == 0:
        return np.zeros(1, dtype=a.dtype), 0
    return flat_base(a)


def _zero(dtype: np.dtype):
    """Return the accumulator zero (float64 for floats, int64 otherwise)."""
    return np.float64(0.0) if dtype.kind == "f" else np.int64(0)


# ---------------------------------------------------------------- elementwise


def binary(op: str, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a <op> b elementwise (inputs already broadcast to out's shape)."""
    total = out.size
    if total == 0:
        return
    (ba, bb, bo), offsets, strides, shape = operand_table((a, b, out))
    chunks = _chunks(total, _min_elements(op))
    code = _COMPARE.get(op)
    if code is not None:
        if chunks == 1:
            _ew.compare_range(code, ba, bb, bo, offsets, strides, shape, 0, total)
        else:
            _ew.compare_parallel(code, ba, bb, bo, offsets, strides, shape, total, chunks)
        return
    code = _ARITH[op]
    if chunks == 1:
        _ew.arith_range(code, ba, bb, bo, offsets, strides, shape, 0, total)
    else:
        _ew.arith_parallel(code, ba, bb, bo, offsets, strides, shape, total, chunks)


def unary(op: str, a: np.ndarray, out: np.ndarray) -> None:
    """out = op(a) elementwise."""
    total = out.size
    if total == 0:
        return
    (ba, bo), offsets, strides, shape = operand_table((a, out))
    code = _UNARY[op]
    chunks = _chunks(total, _min_elements(op))
    if chunks == 1:
        _ew.unary_range(code, ba, bo, offsets, strides, shape, 0, total)
    else:
        _ew.unary_parallel(code, ba, bo, offsets, strides, shape, total, chunks)


def where(cond: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = cond ? a : b elementwise."""
    total = out.size
    if total == 0:
        return
    (bc, ba, bb, bo), offsets, strides, shape = operand_table((cond, a, b, out))
    chunks = _chunks(total)
    if chunks == 1:
        _sel.where_range(bc, ba, bb, bo, offsets, strides, shape, 0, total)
    else:
        _sel.where_parallel(bc, ba, bb, bo, offsets, strides, shape, total, chunks)


def clip(a: np.ndarray, lo: Optional[float], hi: Optional[float], out: np.ndarray) -> None:
    """out = min(max(a, lo), hi) with NaN propagation; a None bound is skipped."""
    total = out.size
    if total == 0:
        return
    cast = a.dtype.type
    lo_value = cast(0) if lo is None else cast(lo)
    hi_value = cast(0) if hi is None else cast(hi)
    (ba, bo), offsets, strides, shape = operand_table((a, out))
    chunks = _chunks(total)
    if chunks == 1:
        _sel.clip_range(ba, bo, offsets, strides, shape, 0, total, lo_value, hi_value,
                        lo is not None, hi is not None)
    else:
        _sel.clip_parallel(ba, bo, offsets, strides, shape, total, chunks, lo_value, hi_value,
                           lo is not None, hi is not None)


def copy(src: np.ndarray, out: np.ndarray) -> None:
    """out = src cast to out.dtype (NumPy unsafe casting: truncation, x != 0 for bool)."""
    total = out.size
    if total == 0:
        return
    to_bool = out.dtype == np.bool_ and src.dtype != np.bool_
    (bs, bo), offsets, strides, shape = operand_table((src, out))
    if (shape.size == 2 and shape[0] >= 32 and shape[1] >= 32
            and (strides[0, 1] != 1) != (strides[1, 1] != 1)):
        _sel.copy_tiled_2d(bs, offsets[0], strides[0, 0], strides[0, 1], bo, offsets[1],
                           strides[1, 0], strides[1, 1], shape[0], shape[1], to_bool)
        return
    chunks = _chunks(total)
    if chunks == 1:
        _sel.copy_range(bs, bo, offsets, strides, shape, 0, total, to_bool)
    else:
        _sel.copy_parallel(bs, bo, offsets, strides, shape, total, chunks, to_bool)


def scatter_add(out: np.ndarray, index: np.ndarray, src: np.ndarray) -> None:
    """Sequentially out[index[i]] += src[i]."""
    if index.size == 0:
        return
    _sel.scatter_add(out, index, src)


# ---------------------------------------------------------------- reductions


def _split_dims(a: np.ndarray, reduced: Sequence[int]):
    """Return (kept dims, kept shape/strides coalesced, reduced shape/strides coalesced)."""
    reduced_set = set(reduced)
    kept = [d for d in range(a.ndim) if d not in reduced_set]
    kshape, (kstrides,) = coalesce([a.shape[d] for d in kept], [_element_strides(a, kept)])
    rshape, (rstrides,) = coalesce([a.shape[d] for d in reduced],
                                   [_element_strides(a, reduced)])
    return kept, kshape, kstrides, rshape, rstrides


def reduce(op: str, a: np.ndarray, axes: Tuple[int, ...], out: np.ndarray,
           ddof: int = 0) -> None:
    """Reduce ``a`` over ``axes`` into the keepdims-shaped C-contiguous ``out``."""
    n_out = out.size
    if n_out == 0:
        return
    if a.size == 0:
        base, offset = np.zeros(1, dtype=a.dtype), 0
        kshape, kstrides, rshape, rstrides = [n_out], [0], [0], [0]
    else:
        base, offset = flat_base(a)
        _, kshape, kstrides, rshape, rstrides = _split_dims(a, axes)
    if (op in ("sum", "mean", "max", "min") and a.size and kstrides[-1] == 1
            and rstrides[-1] != 1 and kshape[-1] >= 8):
        width = kshape[-1]
        _red.reduce_outer(_REDUCE[op], base, np.array([offset], dtype=np.int64),
                          np.array([kstrides], dtype=np.int64), np.array(kshape, dtype=np.int64),
                          np.array(rshape, dtype=np.int64), np.array([rstrides], dtype=np.int64),
                          out.reshape(-1), np.zeros(width, dtype=_zero(a.dtype).dtype),
                          np.empty(width, dtype=a.dtype), _zero(a.dtype))
        return
    args = (_REDUCE[op], base, np.array([offset], dtype=np.int64),
            np.array([kstrides], dtype=np.int64), np.array(kshape, dtype=np.int64),
            np.array(rshape, dtype=np.int64), np.array(rstrides, dtype=np.int64),
            out.reshape(-1), ddof, _zero(a.dtype))
    chunks = min(_chunks(a.size, _min_elements(op)), n_out)
    if chunks <= 1:
        _red.reduce_range(*args, 0, n_out)
    else:
        _red.reduce_parallel(*args, chunks)


def argreduce(op: str, a: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Index of the first max/min along ``axis`` (first NaN wins) into int64 ``out``."""
    n_out = out.size
    if n_out == 0:
        return
    base, offset = flat_base(a)
    _, kshape, kstrides, _, _ = _split_dims(a, (axis,))
    _red.argreduce_range(op == "argmax", base, np.array([offset], dtype=np.int64),
                         np.array([kstrides], dtype=np.int64), np.array(kshape, dtype=np.int64),
                         a.shape[axis], a.strides[axis] // a.itemsize, out.reshape(-1), 0, n_out)


def argmax_hits(a: np.ndarray, b: np.ndarray) -> int:
    """Number of rows of the 2-D a and b (same shape and float dtype, C-contiguous, at least
    one column) whose first argmax agrees; a row's first NaN is its argmax."""
    rows, cols = a.shape
    return int(_red.argmax_hits(a.reshape(-1), b.reshape(-1), rows, cols))


def softmax(a: np.ndarray, axis: int, out: np.ndarray, log: bool) -> None:
    """Stable softmax (log_softmax when ``log``) along ``axis`` into ``out``."""
    if a.size == 0:
        return
    n = a.shape[axis]
    rows = a.size // n
    kept = [d for d in range(a.ndim) if d != axis]
    kshape, strides = coalesce([a.shape[d] for d in kept],
                               [_element_strides(a, kept), _element_strides(out, kept)])
    ba, offset_a = flat_base(a)
    bo, offset_o = flat_base(out)
    args = (ba, bo, np.array([offset_a, offset_o], dtype=np.int64),
            np.array(strides, dtype=np.int64), np.array(kshape, dtype=np.int64), n,
            a.strides[axis] // a.itemsize, out.strides[axis] // out.itemsize, bool(log))
    chunks = min(_chunks(a.size, PARALLEL_MIN_MATH), rows)   # exp per element
    if chunks <= 1:
        _red.softmax_range(*args, 0, rows)
    else:
        _red.softmax_parallel(*args, rows, chunks)


# ---------------------------------------------------------------- matmul


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out[..., M, N] = a[..., M, K] @ b[..., K, N] with broadcast (zero-stride) batch dims."""
    if out.size == 0:
        return
    m, k = a.shape[-2], a.shape[-1]
    n = b.shape[-1]
    nbatch = out.ndim - 2
    ba, offset_a = _base_or_dummy(a)
    bb, offset_b = _base_or_dummy(b)
    bo, offset_o = flat_base(out)
    if k == 0:
        sa = sb = [0] * (nbatch + 2)
    else:
        sa = _element_strides(a, range(a.ndim))
        sb = _element_strides(b, range(b.ndim))
    so = _element_strides(out, range(out.ndim))
    bshape, bstrides = coalesce(out.shape[:nbatch], [sa[:nbatch], sb[:nbatch], so[:nbatch]])
    mats = np.array([m, k, n, sa[-2], sa[-1], sb[-2], sb[-1], so[-2], so[-1]], dtype=np.int64)
    nmats = out.size // (m * n)
    zero = a.dtype.type(0)
    args = (ba, bb, bo, np.array([offset_a, offset_b, offset_o], dtype=np.int64),
            np.array(bstrides, dtype=np.int64), np.array(bshape, dtype=np.int64), mats)
    if a.dtype.kind == "f":
        _mr, _nr, mc, kc, nc = _gemm.blocking(a.dtype)
        total = nmats * ((m + mc - 1) // mc) * ((n + nc - 1) // nc)
        blk = np.array([mc, kc, nc], dtype=np.int64)
        chunks = min(_chunks(nmats * m * n * max(k, 1), PARALLEL_MIN_FLOPS), total)
        if chunks <= 1:
            _gemm.run(_gemm.matmul_range, args + (blk, 0, total, zero))
        else:
            _gemm.run(_gemm.matmul_parallel, args + (blk, total, chunks, zero))
        return
    rows = 128
    total = nmats * ((m + rows - 1) // rows)
    chunks = min(_chunks(nmats * m * n * max(k, 1), PARALLEL_MIN_FLOPS), total)
    if chunks <= 1:
        _gemm.int_matmul_range(*args, rows, 0, total, zero)
    else:
        _gemm.int_matmul_parallel(*args, rows, total, chunks, zero)


# ---------------------------------------------------------------- runtime


# ---- convolution and pooling (kernels/conv.py; arrays C-contiguous, geom as ops_conv) ----

_POOL_KINDS = {"max": 0, "avg": 1}


def _conv_setup(dtype: np.dtype, geom, rows: int) -> tuple:
    g = np.array(geom, dtype=np.int64)
    mr, nr, mc, kc, nc = _gemm.blocking(dtype)
    k = int(g[4] * g[5] * (g[3] // g[15]))
    tiles = np.array([_conv.tile_rows(k, np.dtype(dtype).itemsize, rows, max(_threads, 1)),
                      mr, nr], dtype=np.int64)
    return g, np.array([mc, kc, nc], dtype=np.int64), tiles, k


def conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, geom) -> None:
    """out (N, OH, OW, O) = conv of x (N, H, W, C) with the HWIO kernel w."""
    m = out.size // out.shape[-1]
    g, blk, tiles, k = _conv_setup(x.dtype, geom, m)
    ntiles = -(-m // int(tiles[0]))
    chunks = min(_chunks(out.size * k, PARALLEL_MIN_FLOPS), ntiles)
    args = (x.reshape(-1), w.reshape(-1), out.reshape(-1), g, blk, tiles)
    if chunks <= 1:
        _gemm.run(_conv.forward_range, args + (0, ntiles))
    else:
        _gemm.run(_conv.forward_parallel, args + (ntiles, chunks))


def conv2d_grad_input(dy: np.ndarray, w: np.ndarray, dx: np.ndarray, geom) -> None:
    """dx (N, H, W, C) from the output gradient dy and the kernel w."""
    n = dx.shape[0]
    g, blk, tiles, k = _conv_setup(dx.dtype, geom, max(dy.size // dy.shape[-1] // max(n, 1), 1)
                                   * max(_threads, 1))
    chunks = min(_chunks(dy.size * k, PARALLEL_MIN_FLOPS), n)
    args = (dy.reshape(-1), w.reshape(-1), dx.reshape(-1), g, blk, tiles)
    if chunks <= 1:
        _gemm.run(_conv.grad_input_range, args + (0, n))
    else:
        _gemm.run(_conv.grad_input_parallel, args + (chunks,))


def conv2d_grad_filter(x: np.ndarray, dy: np.ndarray, dw: np.ndarray, geom) -> None:
    """dw (KH, KW, C / groups, O) from the input x and the output gradient dy."""
    m = dy.size // dy.shape[-1]
    g, blk, tiles, k = _conv_setup(x.dtype, geom, m)
    ntiles = -(-m // int(tiles[0]))
    pieces = min(_chunks(dy.size * k, PARALLEL_MIN_FLOPS), ntiles)
    acc = np.empty(pieces * dw.size, dw.dtype)
    args = (x.reshape(-1), dy.reshape(-1), acc, g, blk, tiles, ntiles, pieces)
    if pieces <= 1:
        _gemm.run(_conv.grad_filter_range, args + (0,))
    else:
        _gemm.run(_conv.grad_filter_parallel, args)
    _conv.sum_pieces(acc, pieces, dw.size, dw.reshape(-1))


def _pool_args(argmax, like: np.ndarray) -> np.ndarray:
    return argmax.reshape(-1) if argmax is not None else np.zeros(1, np.int32)


def pool2d(kind: str, x: np.ndarray, out: np.ndarray, argmax, geom) -> None:
    """Max ("max", argmax int32 filled) or average ("avg", argmax None) pooling."""
    g = np.array(geom, dtype=np.int64)
    chunks = min(_chunks(x.size), x.shape[0])
    args = (_POOL_KINDS[kind], x.reshape(-1), out.reshape(-1), _pool_args(argmax, out), g)
    if chunks <= 1:
        _conv.pool_range(*args, 0, x.shape[0])
    else:
        _conv.pool_parallel(*args, chunks)


def pool2d_grad(kind: str, dy: np.ndarray, argmax, dx: np.ndarray, geom) -> None:
    """dx of pooling from dy (and, for "max", the forward's argmax)."""
    g = np.array(geom, dtype=np.int64)
    chunks = min(_chunks(dx.size), dx.shape[0])
    args = (_POOL_KINDS[kind], dy.reshape(-1), _pool_args(argmax, dy), dx.reshape(-1), g)
    if chunks <= 1:
        _conv.pool_grad_range(*args, 0, dx.shape[0])
    else:
        _conv.pool_grad_parallel(*args, chunks)


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (capped at Numba's pool size) for parallel kernels."""
    global _threads
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    _threads = n


def get_num_threads() -> int:
    """Return the number of threads parallel kernels use."""
    return _threads


def info() -> dict:
    """Describe this backend: versions, threading layer, threads, cache directory."""
    return {
        "backend": "numba",
        "numba_version": numba.__version__,
        "threading_layer": _jit.threading_layer(),
        "threads": _threads,
        "cache_dir": _jit.cache_dir(),
        "gemm_kernel": "numba packed, %s micro-kernel %dx%d f32, blocks MC=%d KC=%d NC=%d"
                       % ((_gemm.ISA,) + _gemm.blocking(np.float32)),
        "compiled": True,
    }


# ---------------------------------------------------------------- sorting, scanning, searching


def sort(a: np.ndarray, values: Optional[np.ndarray], index: Optional[np.ndarray],
         descending: bool) -> None:
    """Stable sort of each row of the C-contiguous (rows, n) array a (NaN last)."""
    rows, n = a.shape
    if a.size == 0:
        return
    flat = a.reshape(-1)
    # Without values (argsort) the kernel still types its values argument as a target:
    # a one-element scratch array, never the input (a read-only input failed to compile).
    vals = np.empty(1, a.dtype) if values is None else values.reshape(-1)
    idx = np.empty(1, np.int64) if index is None else index.reshape(-1)
    args = (flat, vals, idx, n, bool(descending), values is not None, index is not None)
    chunks = min(_chunks(a.size * 8, PARALLEL_MIN_MATH), rows)
    if chunks <= 1:
        _sort.sort_range(*args, rows)
    else:
        _sort.sort_parallel(*args, rows, chunks)


def cumsum(a: np.ndarray, out: np.ndarray) -> None:
    """Inclusive cumulative sum along axis 1 of the C-contiguous (outer, n, inner) array a."""
    if a.size:
        _sort.cumsum(a.reshape(-1), out.reshape(-1), *a.shape)


def nonzero(mask: np.ndarray, out: np.ndarray) -> None:
    """Coordinates of the true elements of a C-contiguous bool array into (ndim, count) out."""
    if out.size:
        _sort.nonzero(mask.reshape(-1), np.array(mask.shape, np.int64), out.shape[1], out)


def searchsorted(sorted_: np.ndarray, values: np.ndarray, out: np.ndarray,
                 right: bool) -> None:
    """Insertion positions of values in the sorted 1-D sorted_ (C-contiguous arrays)."""
    if values.size:
        _sort.searchsorted(sorted_, values.reshape(-1), out.reshape(-1), bool(right))


def svdvals(a: np.ndarray, out: np.ndarray) -> None:
    """Singular values, descending, of each matrix of the C-contiguous float a (..., m, n)
    into the C-contiguous out (..., min(m, n)) of a's dtype (one-sided Jacobi, as the C
    core's csrc/svdvals.c)."""
    m, n = a.shape[-2:]
    if out.size:
        _svd.svdvals(a.reshape(-1, m, n), out.reshape(-1, min(m, n)))


def _row_index_error(op: str, index: np.ndarray, position: int, rows: int) -> IndexError:
    return IndexError(f"tensorcore numba backend: {op}: index {int(index[position])} at "
                      f"position {position} is out of range [0, {rows})")


def put_rows(out: np.ndarray, index: np.ndarray, src: np.ndarray) -> None:
    """out[index[i]] = src[i] along the first axis, in order (out and src C-contiguous,
    index int64; an index outside [0, len(out)) raises IndexError before anything is
    written)."""
    if index.size and src.size:
        rows = out.shape[0]
        bad = _sort.put_rows(out.reshape(rows, -1), index, src.reshape(index.size, -1))
        if bad >= 0:
            raise _row_index_error("put_rows", index, bad, rows)


def take_rows(src: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """out[i] = src[index[i]] along the first axis (src and out C-contiguous, index int64;
    an index outside [0, len(src)) raises IndexError; rows before it may be copied)."""
    if out.size:
        rows = src.shape[0]
        bad = _sort.take_rows(src.reshape(rows, -1), index, out.reshape(index.size, -1))
        if bad >= 0:
            raise _row_index_error("take_rows", index, bad, rows)
