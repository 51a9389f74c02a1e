"""Call tensorcore's compiled C kernels from your own Numba `@njit` code (nopython mode).

    import numba, numpy as np
    from tensorcore import numba_interop as tci

    @numba.njit
    def power_iteration(a, x, steps):
        y = np.empty_like(x)
        for _ in range(steps):
            tci.matmul(a, x, y)          # tensorcore's packed GEMM, no Python in between
            x[:] = y / np.sqrt((y * y).sum())
        return x

Two levels are offered, both usable inside `@njit` functions:

- jitted entry points that take NumPy arrays and raise ValueError on bad shapes/dtypes:
  `matmul(a, b, out)`, `binary(op, a, b, out)`, `unary(op, a, out)`, `copy(src, out)`,
  with op codes `ADD`, `MULTIPLY`, `EXP`, ...;
- the raw C functions as ctypes function pointers (`tc_gemm`, `tc_matmul`, `tc_binary`,
  `tc_unary`, `tc_where`, `tc_copy`, `tc_reduce`): pass `array.ctypes.data` for data
  pointers and strides IN ELEMENTS (see csrc/tensorcore.h); they return a status code.

Layout and aliasing rules (checked by the jitted entry points, ValueError otherwise; the raw
C functions do NOT check them, see csrc/tensorcore.h):

- every byte stride and the address must be a multiple of the item size (views of
  structured arrays such as rec['a'] are not: pass np.ascontiguousarray(view));
  negative strides are fine, and zero strides are fine for inputs;
- `out` must not have zero or overlapping strides (no np.broadcast_to views);
- `matmul`: `out` must not overlap `a` or `b` at all;
- `binary`, `unary`, `copy`: `out` may be exactly an input (in place) but must not
  partially overlap one (the overlap test is by address range, so interleaved views of
  one buffer count as overlapping).

The pointers come from the already loaded `tensorcore._C` extension, so Python and jitted
code share one library (and its thread pool). Importing this module imports Numba;
`import tensorcore` never does. Functions calling these pointers cannot use
`@njit(cache=True)` (Numba does not cache code holding raw function addresses).
"""

from __future__ import annotations

import ctypes

import numba
import numpy as np
from numba.core.errors import TypingError
from numba.extending import overload

from . import _C, _optable

# ---------------------------------------------------------------------- codes (tensorcore.h)
FLOAT32, FLOAT64, INT32, INT64, BOOL = 0, 1, 2, 3, 4
OK = 0
# Elementwise op codes: every row of the op table as <NAME> = TC_<NAME> of the compiled core
# (ADD, EQUAL, EXP, LOG1P, ...), so a new op is usable here without editing this file.
globals().update({op.name.upper(): getattr(_C.lib, op.c_name) for op in _optable.primitives()})
REDUCE_SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_MEAN, REDUCE_VAR = 0, 1, 2, 3, 4

_DTYPE_CODES = {"float32": FLOAT32, "float64": FLOAT64, "int32": INT32, "int64": INT64,
                "bool": BOOL}

# ---------------------------------------------------------------------- raw C functions
_P, _I, _I64, _U64, _F64 = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_uint64,
                            ctypes.c_double)


def _function(name: str, *argtypes) -> ctypes._CFuncPtr:
    """A ctypes pointer (int return) to the function `name` of the loaded tensorcore._C."""
    address = int(_C.ffi.cast("uintptr_t", _C.ffi.addressof(_C.lib, name)))
    return ctypes.CFUNCTYPE(_I, *argtypes)(address)


tc_gemm = _function("tc_gemm", _I, _I64, _I64, _I64, _F64, _P, _I64, _I64, _P, _I64, _I64,
                    _F64, _P, _I64, _I64)
tc_matmul = _function("tc_matmul", _I, _I, _P, _P, _P, _P, _I64, _I64, _I64, _P, _I64, _I64,
                      _P, _I64, _I64, _P, _I64, _I64)
tc_binary = _function("tc_binary", _I, _I, _I, _P, _P, _P, _P, _P, _P, _P)
tc_binary_result_dtype = _function("tc_binary_result_dtype", _I, _I)
tc_unary = _function("tc_unary", _I, _I, _I, _P, _P, _P, _P, _P)
tc_unary_result_dtype = _function("tc_unary_result_dtype", _I, _I)
tc_where = _function("tc_where", _I, _I, _P, _P, _P, _P, _P, _P, _P, _P, _P)
tc_copy = _function("tc_copy", _I, _I, _I, _P, _P, _P, _P, _P)
tc_reduce = _function("tc_reduce", _I, _I, _I, _P, _U64, _P, _P, _P, _P, _I64)


# ---------------------------------------------------------------------- jitted helpers
def dtype_code(array):
    """The tensorcore dtype code of an array (compile-time constant inside @njit)."""
    return _DTYPE_CODES[str(array.dtype)]


@overload(dtype_code)
def _dtype_code_overload(array):
    code = _DTYPE_CODES.get(str(getattr(array, "dtype", None)))
    if code is None:
        raise TypingError(f"tensorcore.numba_interop: unsupported array type {array}; "
                          "expected float32, float64, int32, int64 or bool arrays")
    return lambda array: code


@numba.njit
def _shape(a):
    shape = np.empty(max(a.ndim, 1), np.int64)
    for d in range(a.ndim):
        shape[d] = a.shape[d]
    return shape


@numba.njit
def _check_layout(a):
    """ValueError unless the address and every byte stride of `a` are multiples of its
    item size (views of structured arrays such as rec['a'] are not)."""
    if a.ctypes.data % a.itemsize != 0:
        raise ValueError("tensorcore.numba_interop: an array's address is not a multiple "
                         "of its item size; pass np.ascontiguousarray(a)")
    for d in range(a.ndim):
        if a.strides[d] % a.itemsize != 0:
            raise ValueError("tensorcore.numba_interop: an array's byte strides are not "
                             "multiples of its item size (a view of a structured array?); "
                             "pass np.ascontiguousarray(a)")


@numba.njit
def _byte_range(a):
    """[first, last] byte addresses an array touches (first > last when it is empty)."""
    lo = a.ctypes.data
    hi = lo
    for d in range(a.ndim):
        if a.shape[d] == 0:
            return 1, 0
        step = a.strides[d] * (a.shape[d] - 1)
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize - 1


@numba.njit
def _overlap(a, b):
    """True when the byte ranges of a and b intersect (conservative alias test)."""
    alo, ahi = _byte_range(a)
    blo, bhi = _byte_range(b)
    return alo <= ahi and blo <= bhi and alo <= bhi and blo <= ahi


@numba.njit
def _same_view(a, out):
    """True when a is exactly the array out (same address, shape and strides)."""
    if a.ctypes.data != out.ctypes.data or a.ndim != out.ndim or a.itemsize != out.itemsize:
        return False
    for d in range(a.ndim):
        if a.shape[d] != out.shape[d] or a.strides[d] != out.strides[d]:
            return False
    return True


@numba.njit
def _check_out(out):
    """ValueError when out would have one element written twice (zero or overlapping
    strides, as in np.broadcast_to views)."""
    _check_layout(out)
    n = 0
    for d in range(out.ndim):
        if out.shape[d] > 1:
            n += 1
    sizes = np.empty(n, np.int64)
    steps = np.empty(n, np.int64)
    i = 0
    for d in range(out.ndim):
        if out.shape[d] > 1:
            sizes[i] = out.shape[d]
            steps[i] = abs(out.strides[d])
            i += 1
    order = np.argsort(steps)
    extent = out.itemsize
    for j in range(n):
        if steps[order[j]] < extent:
            raise ValueError("tensorcore.numba_interop: out has zero or overlapping strides "
                             "(a broadcast view?); each output element must be distinct")
        extent += steps[order[j]] * (sizes[order[j]] - 1)


@numba.njit
def _check_elementwise_alias(a, out):
    """Elementwise kernels may write into exactly an input (in place), never into memory
    that partially overlaps one."""
    if _overlap(a, out) and not _same_view(a, out):
        raise ValueError("tensorcore.numba_interop: out partially overlaps an input; "
                         "pass a separate output array (or exactly the input, in place)")


@numba.njit
def _strides(a):
    _check_layout(a)
    strides = np.zeros(max(a.ndim, 1), np.int64)
    for d in range(a.ndim):
        strides[d] = a.strides[d] // a.itemsize
    return strides


@numba.njit
def _check_shapes(a, out):
    if a.ndim != out.ndim:
        raise ValueError("tensorcore.numba_interop: operands must have the same shape")
    for d in range(a.ndim):
        if a.shape[d] != out.shape[d]:
            raise ValueError("tensorcore.numba_interop: operands must have the same shape")


@numba.njit
def matmul(a, b, out):
    """out[:] = a @ b for 2-D float/int arrays of one dtype (any strides); jitted."""
    if a.ndim != 2 or b.ndim != 2 or out.ndim != 2:
        raise ValueError("tensorcore.numba_interop.matmul: expected 2-D a, b and out")
    m, k = a.shape
    n = b.shape[1]
    if b.shape[0] != k or out.shape[0] != m or out.shape[1] != n:
        raise ValueError("tensorcore.numba_interop.matmul: shapes do not match "
                         "(a is m x k, b is k x n, out is m x n)")
    code = dtype_code(a)
    if dtype_code(b) != code or dtype_code(out) != code or code == BOOL:
        raise ValueError("tensorcore.numba_interop.matmul: a, b, out need one non-bool dtype")
    _check_layout(a)
    _check_layout(b)
    _check_out(out)
    if _overlap(a, out) or _overlap(b, out):
        raise ValueError("tensorcore.numba_interop.matmul: out overlaps a or b; the product "
                         "reads its inputs after writing out, so out must be a separate array")
    sa, sb, so = a.strides, b.strides, out.strides
    size = a.itemsize
    status = tc_gemm(code, m, n, k, 1.0, a.ctypes.data, sa[0] // size, sa[1] // size,
                     b.ctypes.data, sb[0] // size, sb[1] // size, 0.0,
                     out.ctypes.data, so[0] // size, so[1] // size)
    if status != OK:
        raise ValueError("tensorcore.numba_interop.matmul: the kernel rejected its arguments")


@numba.njit
def binary(op, a, b, out):
    """out[...] = a OP b elementwise, same shapes (use np.broadcast_to first); jitted."""
    _check_shapes(a, out)
    _check_shapes(b, out)
    code = dtype_code(a)
    out_code = tc_binary_result_dtype(op, code)
    if dtype_code(b) != code or dtype_code(out) != out_code:
        raise ValueError("tensorcore.numba_interop.binary: a and b need one dtype; out that "
                         "dtype (bool for comparisons)")
    _check_out(out)
    _check_elementwise_alias(a, out)
    _check_elementwise_alias(b, out)
    shape, so, sa, sb = _shape(out), _strides(out), _strides(a), _strides(b)
    status = tc_binary(op, code, out.ndim, shape.ctypes.data, out.ctypes.data, so.ctypes.data,
                       a.ctypes.data, sa.ctypes.data, b.ctypes.data, sb.ctypes.data)
    if status != OK:
        raise ValueError("tensorcore.numba_interop.binary: the kernel rejected its arguments "
                         "(op not defined for this dtype?)")


@numba.njit
def unary(op, a, out):
    """out[...] = OP(a) elementwise (same shape; out of a's dtype, bool for predicates)."""
    _check_shapes(a, out)
    code = dtype_code(a)
    if dtype_code(out) != tc_unary_result_dtype(op, code):
        raise ValueError("tensorcore.numba_interop.unary: out needs a's dtype (bool for "
                         "the predicates isnan, isinf, isfinite, signbit)")
    _check_out(out)
    _check_elementwise_alias(a, out)
    shape, so, sa = _shape(out), _strides(out), _strides(a)
    status = tc_unary(op, code, out.ndim, shape.ctypes.data, out.ctypes.data, so.ctypes.data,
                      a.ctypes.data, sa.ctypes.data)
    if status != OK:
        raise ValueError("tensorcore.numba_interop.unary: the kernel rejected its arguments "
                         "(op not defined for this dtype?)")


@numba.njit
def copy(src, out):
    """out[...] = src converted to out's dtype (same shape; any strides); jitted."""
    _check_shapes(src, out)
    _check_out(out)
    if _overlap(src, out) and not (_same_view(src, out) and src.itemsize == out.itemsize):
        raise ValueError("tensorcore.numba_interop.copy: out overlaps src; pass a separate "
                         "output array")
    shape, so, ss = _shape(out), _strides(out), _strides(src)
    status = tc_copy(dtype_code(src), dtype_code(out), out.ndim, shape.ctypes.data,
                     out.ctypes.data, so.ctypes.data, src.ctypes.data, ss.ctypes.data)
    if status != OK:
        raise ValueError("tensorcore.numba_interop.copy: the kernel rejected its arguments")
