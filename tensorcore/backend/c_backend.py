"""The C backend: docs/backend-interface.md implemented on the compiled core tensorcore._C.

Arrays are passed to C as a data pointer plus their shape and NumPy BYTE strides (the
``tc_py_*`` shims in csrc/python/tc_py.c convert them to element strides in C). Data
pointers come from ``ffi.from_buffer`` for C-contiguous arrays (cheap, ~0.2 us) and
from ``ndarray.ctypes.data`` otherwise (~1 us). The dispatch layer has validated
everything, so a nonzero status here is an internal error and raises RuntimeError.
"""

from __future__ import annotations

import math
import sys

import numpy as np

import tensorcore._optable as optable
from tensorcore._C import ffi, lib

_DTYPE_CODES = {
    np.dtype(np.float32): lib.TC_FLOAT32,
    np.dtype(np.float64): lib.TC_FLOAT64,
    np.dtype(np.int32): lib.TC_INT32,
    np.dtype(np.int64): lib.TC_INT64,
    np.dtype(np.bool_): lib.TC_BOOL,
}
_SCALAR_CTYPES = {
    lib.TC_FLOAT32: ("float *", float),
    lib.TC_FLOAT64: ("double *", float),
    lib.TC_INT32: ("int32_t *", int),
    lib.TC_INT64: ("int64_t *", int),
}
# Op codes of the op table's rows (tensorcore/_optable.py): TC_<NAME> from csrc/tensorcore.h.
_BINARY_OPS = {op.name: getattr(lib, op.c_name) for op in optable.family(optable.BINARY)}
_UNARY_OPS = {op.name: getattr(lib, op.c_name) for op in optable.family(optable.UNARY)}
_REDUCE_OPS = {
    "sum": lib.TC_REDUCE_SUM, "max": lib.TC_REDUCE_MAX, "min": lib.TC_REDUCE_MIN,
    "mean": lib.TC_REDUCE_MEAN, "var": lib.TC_REDUCE_VAR,
    "logsumexp": lib.TC_REDUCE_LOGSUMEXP,
}
_ARG_OPS = {"argmax": lib.TC_ARGMAX, "argmin": lib.TC_ARGMIN}

_from_buffer = ffi.from_buffer
_binary_flat = lib.tc_py_binary_flat
_cast = ffi.cast
_NULL = ffi.NULL


def _ptr(a: np.ndarray):
    """Return a cffi pointer to a's element at index 0 (any strides)."""
    flags = a.flags
    if flags.c_contiguous:
        return _from_buffer(a)
    if flags.f_contiguous:
        # a transposed C-contiguous array (x.T, W.T in the backward GEMMs): its transpose
        # is C-contiguous and starts at the same element, and from_buffer costs far less
        # than ctypes
        return _from_buffer(a.T)
    return _cast("char *", a.ctypes.data)


def _fail(name: str, status: int) -> None:
    message = ffi.string(lib.tc_last_error()).decode("utf-8", "replace")
    raise RuntimeError(f"tensorcore C backend: {name} failed with status {status}: {message}")


# ---- elementwise ---------------------------------------------------------------------

def binary(op: str, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a <op> b elementwise (inputs already broadcast to out.shape)."""
    code = _BINARY_OPS[op]
    dtype = _DTYPE_CODES[a.dtype]
    try:
        # One flat loop when all three are C-contiguous: from_buffer refuses (ValueError)
        # any array that is not, which costs less than asking each array's flags first.
        status = _binary_flat(code, dtype, out.size, _from_buffer(out), _from_buffer(a),
                              _from_buffer(b))
    except ValueError:
        status = lib.tc_py_binary(code, dtype, out.ndim, out.shape, _ptr(out), out.strides,
                                  _ptr(a), a.strides, _ptr(b), b.strides)
    if status:
        _fail("binary " + op, status)


def unary(op: str, a: np.ndarray, out: np.ndarray) -> None:
    """out = op(a) elementwise."""
    code = _UNARY_OPS[op]
    dtype = _DTYPE_CODES[a.dtype]
    if a.flags.c_contiguous and out.flags.c_contiguous:
        status = lib.tc_py_unary_flat(code, dtype, out.size, _from_buffer(out),
                                      _from_buffer(a))
    else:
        status = lib.tc_py_unary(code, dtype, out.ndim, out.shape, _ptr(out), out.strides,
                                 _ptr(a), a.strides)
    if status:
        _fail("unary " + op, status)


def where(cond: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = cond ? a : b elementwise."""
    status = lib.tc_py_where(_DTYPE_CODES[a.dtype], out.ndim, out.shape, _ptr(out),
                             out.strides, _ptr(cond), cond.strides, _ptr(a), a.strides,
                             _ptr(b), b.strides)
    if status:
        _fail("where", status)


def _scalar(dtype: int, value):
    if value is None:
        return _NULL
    ctype, convert = _SCALAR_CTYPES[dtype]
    return ffi.new(ctype, convert(value))


def clip(a: np.ndarray, lo, hi, out: np.ndarray) -> None:
    """out = minimum(maximum(a, lo), hi); a bound of None is absent."""
    dtype = _DTYPE_CODES[a.dtype]
    status = lib.tc_py_clip(dtype, out.ndim, out.shape, _ptr(out), out.strides, _ptr(a),
                            a.strides, _scalar(dtype, lo), _scalar(dtype, hi))
    if status:
        _fail("clip", status)


def copy(src: np.ndarray, out: np.ndarray) -> None:
    """out[...] = src cast to out.dtype (NumPy unsafe casting)."""
    status = lib.tc_py_copy(_DTYPE_CODES[src.dtype], _DTYPE_CODES[out.dtype], out.ndim,
                            out.shape, _ptr(out), out.strides, _ptr(src), src.strides)
    if status:
        _fail("copy", status)


# ---- reductions ----------------------------------------------------------------------

def reduce(op: str, a: np.ndarray, axes: tuple[int, ...], out: np.ndarray,
           ddof: int = 0) -> None:
    """Reduce a over axes into out (keepdims shape)."""
    mask = 0
    for axis in axes:
        mask |= 1 << axis
    status = lib.tc_py_reduce(_REDUCE_OPS[op], _DTYPE_CODES[a.dtype], a.ndim, a.shape, mask,
                              _ptr(out), out.strides, _ptr(a), a.strides, int(ddof))
    if status:
        _fail("reduce " + op, status)


def argreduce(op: str, a: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Index of the first max/min of a along axis into out (int64)."""
    status = lib.tc_py_argreduce(_ARG_OPS[op], _DTYPE_CODES[a.dtype], a.ndim, a.shape, axis,
                                 _ptr(out), out.strides, _ptr(a), a.strides)
    if status:
        _fail(op, status)


def softmax(a: np.ndarray, axis: int, out: np.ndarray, log: bool) -> None:
    """Stable softmax (or log-softmax when log) of a along axis into out."""
    status = lib.tc_py_softmax(_DTYPE_CODES[a.dtype], a.ndim, a.shape, axis, 1 if log else 0,
                               _ptr(out), out.strides, _ptr(a), a.strides)
    if status:
        _fail("softmax", status)


def scatter_add(out: np.ndarray, index: np.ndarray, src: np.ndarray) -> None:
    """Sequentially out[index[i]] += src[i] for 1-D arrays."""
    isz, xsz, osz = index.itemsize, src.itemsize, out.itemsize
    status = lib.tc_scatter_add(_DTYPE_CODES[out.dtype], out.size, _ptr(out),
                                out.strides[0] // osz, index.size,
                                _cast("int64_t *", _ptr(index)),
                                index.strides[0] // isz if index.ndim else 1, _ptr(src),
                                src.strides[0] // xsz if src.ndim else 1)
    if status:
        _fail("scatter_add", status)


def _row_bytes(a: np.ndarray) -> int:
    """Bytes in one row (one index along the first axis) of a C-contiguous array."""
    return a.itemsize * math.prod(a.shape[1:])


def _fail_rows(name: str, status: int) -> None:
    """Raise for a failed row gather/scatter: IndexError for an index out of range (the C
    core's message names the index, its position and the range), else as _fail."""
    message = ffi.string(lib.tc_last_error()).decode("utf-8", "replace")
    if "out of range" in message:
        raise IndexError(f"tensorcore C backend: {name}: {message}")
    _fail(name, status)


def take_rows(src: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """out[i] = src[index[i]] along the first axis (optional interface function).

    src is C-contiguous with ndim >= 1, index a 1-D int64 array, out C-contiguous with shape
    (len(index),) + src.shape[1:] and src's dtype (any dtype: rows are copied as bytes).
    The C core checks every index against [0, len(src)) before writing; one outside raises
    IndexError.
    """
    row_bytes = _row_bytes(src)
    status = lib.tc_take_rows(src.shape[0], row_bytes, _ptr(src), row_bytes, index.size,
                              _cast("int64_t *", _ptr(index)), _ptr(out))
    if status:
        _fail_rows("take_rows", status)


def put_rows(out: np.ndarray, index: np.ndarray, src: np.ndarray) -> None:
    """out[index[i]] = src[i] along the first axis, in order (a repeated index keeps the last
    row). out and src C-contiguous of one dtype, src of shape (len(index),) + out.shape[1:].
    The C core checks every index against [0, len(out)) before writing; one outside raises
    IndexError and leaves out unchanged."""
    row_bytes = _row_bytes(out)
    status = lib.tc_put_rows(out.shape[0], row_bytes, _ptr(out), row_bytes, index.size,
                             _cast("int64_t *", _ptr(index)), _ptr(src))
    if status:
        _fail_rows("put_rows", status)


# ---- matrix --------------------------------------------------------------------------

def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b over matching (possibly zero-stride) batch dims."""
    ndim = out.ndim
    batch = ndim - 2
    ash, ast, bst, ost = a.shape, a.strides, b.strides, out.strides
    status = lib.tc_py_matmul(
        _DTYPE_CODES[a.dtype], batch, out.shape[:batch], ast[:batch], bst[:batch],
        ost[:batch], out.shape[ndim - 2], out.shape[ndim - 1], ash[ndim - 1],
        _ptr(a), ast[ndim - 2], ast[ndim - 1], _ptr(b), bst[ndim - 2], bst[ndim - 1],
        _ptr(out), ost[ndim - 2], ost[ndim - 1])
    if status:
        _fail("matmul", status)


# ---- fused training kernels (optional interface functions) ----------------------------
# Every array is C-contiguous and of one float dtype (the callers check); scalars are
# Python floats. See docs/backend-interface.md, "Optional fused functions".

_ACTIVATION_CODES = {None: 0, "linear": 0, "relu": 1}


def _opt(a):
    """Pointer to a, or NULL for None."""
    return _NULL if a is None else _from_buffer(a)


def bias_act(out: np.ndarray, bias: np.ndarray, activation: str | None) -> None:
    """In place on the 2-D out: out = activation(out + bias) ("relu" or None)."""
    status = lib.tc_bias_act(_DTYPE_CODES[out.dtype], out.shape[0], out.shape[1],
                             _from_buffer(out), _from_buffer(bias),
                             _ACTIVATION_CODES[activation])
    if status:
        _fail("bias_act", status)


def relu_backward(grad: np.ndarray, output: np.ndarray, out: np.ndarray) -> None:
    """out = grad where output > 0 else 0 (output is the relu result)."""
    status = lib.tc_relu_backward(_DTYPE_CODES[out.dtype], out.size, _from_buffer(out),
                                  _from_buffer(grad), _from_buffer(output))
    if status:
        _fail("relu_backward", status)


def relu_backward_colsum(grad: np.ndarray, output: np.ndarray, out: np.ndarray,
                         colsum: np.ndarray) -> None:
    """relu_backward on the 2-D (m, n) arrays and, in the same pass, colsum (n,) = the sum
    of out over axis 0 (the same values as reduce "sum" over axis 0)."""
    rows, cols = out.shape
    status = lib.tc_relu_backward_colsum(_DTYPE_CODES[out.dtype], rows, cols,
                                         _from_buffer(out), _from_buffer(grad),
                                         _from_buffer(output), _from_buffer(colsum))
    if status:
        _fail("relu_backward_colsum", status)


def softmax_crossentropy(logits: np.ndarray, labels: np.ndarray, loss: np.ndarray,
                         grad: np.ndarray | None, probs: np.ndarray | None) -> None:
    """Per-row loss = -sum(labels * log_softmax(logits)); grad = softmax * sum(labels) -
    labels and probs = softmax when given (2-D logits/labels/grad/probs, 1-D loss)."""
    rows, classes = logits.shape
    status = lib.tc_softmax_xent(_DTYPE_CODES[logits.dtype], rows, classes,
                                 _from_buffer(logits), _from_buffer(labels),
                                 _from_buffer(loss), _opt(grad), _opt(probs))
    if status:
        _fail("softmax_crossentropy", status)


_hits_out = ffi.new("int64_t *")


def argmax_hits(a: np.ndarray, b: np.ndarray) -> int:
    """Number of rows of the 2-D a and b (same shape and float dtype, C-contiguous, at least
    one column) whose first argmax agrees; a row's first NaN is its argmax."""
    rows, cols = a.shape
    status = lib.tc_argmax_hits(_DTYPE_CODES[a.dtype], rows, cols, _from_buffer(a),
                                _from_buffer(b), _hits_out)
    if status:
        _fail("argmax_hits", status)
    return int(_hits_out[0])


def sgd_update(var: np.ndarray, grad: np.ndarray, momentum: np.ndarray | None, lr: float,
               mu: float, nesterov: bool) -> None:
    """One SGD step in place (momentum None: plain gradient descent)."""
    status = lib.tc_sgd_update(_DTYPE_CODES[var.dtype], var.size, _from_buffer(var),
                               _from_buffer(grad), _opt(momentum), lr, mu,
                               1 if nesterov else 0)
    if status:
        _fail("sgd_update", status)


def rmsprop_update(var: np.ndarray, grad: np.ndarray, velocity: np.ndarray,
                   momentum: np.ndarray | None, average: np.ndarray | None, lr: float,
                   rho: float, mom: float, eps: float) -> None:
    """One RMSprop step in place (momentum / centered average state optional)."""
    status = lib.tc_rmsprop_update(_DTYPE_CODES[var.dtype], var.size, _from_buffer(var),
                                   _from_buffer(grad), _from_buffer(velocity),
                                   _opt(momentum), _opt(average), lr, rho, mom, eps)
    if status:
        _fail("rmsprop_update", status)


def adam_update(var: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray,
                alpha: float, beta_1: float, beta_2: float, eps: float) -> None:
    """One Adam step in place with the bias-corrected step size alpha."""
    status = lib.tc_adam_update(_DTYPE_CODES[var.dtype], var.size, _from_buffer(var),
                                _from_buffer(grad), _from_buffer(m), _from_buffer(v),
                                alpha, beta_1, beta_2, eps)
    if status:
        _fail("adam_update", status)


# ---- convolution and pooling (channels-last; docs/backend-interface.md) ---------------

_POOL_KINDS = {"max": lib.TC_POOL_MAX, "avg": lib.TC_POOL_AVG}


def _geom(geom) -> object:
    return ffi.new("int64_t[]", [int(v) for v in geom])


def conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, geom) -> None:
    """out (N, OH, OW, O) = conv of x (N, H, W, C) with the HWIO kernel w."""
    status = lib.tc_conv2d(_DTYPE_CODES[x.dtype], _geom(geom), _from_buffer(x),
                           _from_buffer(w), _from_buffer(out))
    if status:
        _fail("conv2d", status)


def conv2d_grad_input(dy: np.ndarray, w: np.ndarray, dx: np.ndarray, geom) -> None:
    """dx (N, H, W, C) from the output gradient dy and the kernel w."""
    status = lib.tc_conv2d_grad_input(_DTYPE_CODES[dy.dtype], _geom(geom), _from_buffer(dy),
                                      _from_buffer(w), _from_buffer(dx))
    if status:
        _fail("conv2d_grad_input", status)


def conv2d_grad_filter(x: np.ndarray, dy: np.ndarray, dw: np.ndarray, geom) -> None:
    """dw (KH, KW, C / groups, O) from the input x and the output gradient dy."""
    status = lib.tc_conv2d_grad_filter(_DTYPE_CODES[x.dtype], _geom(geom), _from_buffer(x),
                                       _from_buffer(dy), _from_buffer(dw))
    if status:
        _fail("conv2d_grad_filter", status)


def pool2d(kind: str, x: np.ndarray, out: np.ndarray, argmax, geom) -> None:
    """Max ("max", argmax int32 filled) or average ("avg", argmax None) pooling."""
    arg = _NULL if argmax is None else _cast("int32_t *", _from_buffer(argmax))
    status = lib.tc_pool2d(_POOL_KINDS[kind], _DTYPE_CODES[x.dtype], _geom(geom),
                           _from_buffer(x), _from_buffer(out), arg)
    if status:
        _fail("pool2d " + kind, status)


def pool2d_grad(kind: str, dy: np.ndarray, argmax, dx: np.ndarray, geom) -> None:
    """dx of pooling from dy (and, for "max", the forward's argmax)."""
    arg = _NULL if argmax is None else _cast("int32_t *", _from_buffer(argmax))
    status = lib.tc_pool2d_grad(_POOL_KINDS[kind], _DTYPE_CODES[dy.dtype], _geom(geom),
                                _from_buffer(dy), arg, _from_buffer(dx))
    if status:
        _fail("pool2d_grad " + kind, status)


# ---- runtime -------------------------------------------------------------------------

def set_num_threads(n: int) -> None:
    """Set the number of threads of the C core's pool (n >= 1)."""
    lib.tc_set_num_threads(int(n))


def get_num_threads() -> int:
    """Return the number of threads the C core uses."""
    return int(lib.tc_get_num_threads())


def _string(pointer) -> str:
    return ffi.string(pointer).decode("utf-8", "replace") if pointer != _NULL else ""


def _blocks(dtype: int) -> str:
    """'MR=.. NR=.. KC=.. MC=.. NC=..' of the C GEMM kernel used for dtype."""
    out = ffi.new("int64_t[5]")
    status = lib.tc_gemm_blocks(dtype, out)
    if status != 0:
        _fail("gemm_blocks", status)
    return " ".join(f"{name}={value}" for name, value in zip(("MR", "NR", "KC", "MC", "NC"), out))


def _caches() -> str:
    """'L1d=32K L2=512K L3=32768K' as detected by the C core (CPUID, sysfs or defaults)."""
    out = ffi.new("int64_t[3]")
    status = lib.tc_cache_sizes(out)
    if status != 0:
        _fail("cache_sizes", status)
    return " ".join(f"{name}={value // 1024}K" for name, value in zip(("L1d", "L2", "L3"), out))


def info() -> dict:
    """Describe the compiled core: module path, SIMD level, GEMM kernels, threads, version."""
    return {
        "backend": "c",
        "compiled": True,
        "compiled_module": sys.modules["tensorcore._C"].__file__,
        "simd": _string(lib.tc_simd_level()),
        "gemm_kernel_f32": _string(lib.tc_gemm_kernel_name(lib.TC_FLOAT32)),
        "gemm_kernel_f64": _string(lib.tc_gemm_kernel_name(lib.TC_FLOAT64)),
        "gemm_kernel": _string(lib.tc_gemm_kernel_name(lib.TC_FLOAT32)),
        "gemm_blocks_f32": _blocks(lib.TC_FLOAT32),
        "gemm_blocks_f64": _blocks(lib.TC_FLOAT64),
        "caches": _caches(),
        "threads": get_num_threads(),
        "version": _string(lib.tc_version()),
    }


# ---- sorting, scanning, searching (optional interface functions; csrc/sort.c) ----------

def sort(a: np.ndarray, values: np.ndarray | None, index: np.ndarray | None,
         descending: bool) -> None:
    """Stable sort of each row of the C-contiguous (rows, n) array a (NaN last): sorted
    values into `values` and/or int64 positions into `index` (C-contiguous, a's shape)."""
    rows, n = a.shape
    status = lib.tc_sort(_DTYPE_CODES[a.dtype], rows, n, _ptr(a),
                         _NULL if values is None else _ptr(values),
                         _NULL if index is None else _cast("int64_t *", _ptr(index)),
                         1 if descending else 0)
    if status:
        _fail("sort", status)


def cumsum(a: np.ndarray, out: np.ndarray) -> None:
    """Inclusive cumulative sum along axis 1 of the C-contiguous (outer, n, inner) array a
    into out (a's dtype for floats, int64 otherwise)."""
    outer, n, inner = a.shape
    status = lib.tc_cumsum(_DTYPE_CODES[a.dtype], outer, n, inner, _ptr(a), _ptr(out))
    if status:
        _fail("cumsum", status)


def nonzero(mask: np.ndarray, out: np.ndarray) -> None:
    """Coordinates of the true elements of the C-contiguous bool array mask (ndim >= 1)
    into out, a C-contiguous int64 (ndim, count) array."""
    status = lib.tc_nonzero(mask.ndim, mask.shape, _cast("uint8_t *", _ptr(mask)),
                            out.shape[1], _cast("int64_t *", _ptr(out)))
    if status:
        _fail("nonzero", status)


def searchsorted(sorted_: np.ndarray, values: np.ndarray, out: np.ndarray,
                 right: bool) -> None:
    """Insertion positions of the C-contiguous values in the sorted 1-D sorted_ (same dtype)
    into the C-contiguous int64 out of values' shape."""
    status = lib.tc_searchsorted(_DTYPE_CODES[values.dtype], sorted_.size, _ptr(sorted_),
                                 values.size, _ptr(values), _cast("int64_t *", _ptr(out)),
                                 1 if right else 0)
    if status:
        _fail("searchsorted", status)


def svdvals(a: np.ndarray, out: np.ndarray) -> None:
    """Singular values, descending, of each matrix of the C-contiguous float a (..., m, n)
    into the C-contiguous out (..., min(m, n)) of a's dtype."""
    m, n = a.shape[-2:]
    batch = out.size // max(1, min(m, n))
    status = lib.tc_svdvals(_DTYPE_CODES[a.dtype], batch, m, n, _ptr(a), _ptr(out))
    if status:
        _fail("svdvals", status)
