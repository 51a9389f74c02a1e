"""Validation and plumbing shared by every op: operands, dtypes, broadcasting, axes.

Everything here runs BEFORE a kernel: it checks what the user passed, decides result
shapes and dtypes, makes zero-copy broadcast views and allocates outputs. The kernels
themselves live in the backends (tensorcore.backend).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from . import dtypes
from .backend import current as backend

_as_strided = np.lib.stride_tricks.as_strided

# Highest rank the kernels take (TC_MAX_DIMS in csrc/tc_internal.h; the Numba kernels use
# the same limit so both backends accept the same arrays).
MAX_NDIM = 32


# ---------------------------------------------------------------------- the array boundary
# Every NumPy array that enters tensorcore (op operands, tc.tensor, as_tensor, from_numpy,
# from_dlpack, assign values, numba_interop) passes `accept_array`; every array written in
# place (assign*, __setitem__, in-place operators) passes `check_target`. The kernels of
# both backends count strides in ELEMENTS, so they may only see element-aligned strides.

def check_rank(op: str, ndim: int) -> None:
    """ValueError naming the op when a rank exceeds what the kernels take."""
    if ndim > MAX_NDIM:
        raise ValueError(f"{op}: arrays of rank {ndim} are not supported; expected at most "
                         f"{MAX_NDIM} dimensions")


def element_aligned(array: np.ndarray) -> bool:
    """True when the data pointer and every byte stride are multiples of the item size
    (what the kernels need: they divide byte strides by the item size)."""
    if not array.flags.aligned:
        return False
    item = array.itemsize
    for stride in array.strides:
        if stride % item:
            return False
    return array.__array_interface__["data"][0] % item == 0 or array.size == 0


def accept_array(op: str, array: np.ndarray) -> np.ndarray:
    """An incoming NumPy array as the kernels may read it: itself when its strides are
    element-aligned (negative and zero strides included), else a C-contiguous copy (views
    of structured arrays such as rec['a'] have byte strides like 18 for 4-byte floats)."""
    check_rank(op, array.ndim)
    if element_aligned(array):
        return array
    out = np.empty(array.shape, array.dtype)
    out[...] = array  # a byte-level move by NumPy's storage layer, no arithmetic
    return out


def self_overlapping(array: np.ndarray) -> bool:
    """True when two different indices of `array` may address the same memory (zero
    strides of broadcast/expanded views, or strides smaller than the inner extent)."""
    if array.size == 0:
        return False
    dims = sorted((abs(s), n) for n, s in zip(array.shape, array.strides) if n > 1)
    extent = array.itemsize
    for stride, n in dims:
        if stride < extent:
            return True
        extent += stride * (n - 1)
    return False


def check_target(op: str, array: np.ndarray) -> None:
    """Refuse an array as an output / in-place target unless each element is written once
    at an element-aligned address (ValueError naming the op)."""
    if not array.flags.writeable:
        raise ValueError(f"{op}: the tensor is read-only (for example a broadcast view); "
                         "expected a writeable tensor")
    if not element_aligned(array):
        raise ValueError(f"{op}: the tensor's strides {array.strides} are not multiples of "
                         f"its item size {array.itemsize}; cannot write into it")
    if self_overlapping(array):
        raise ValueError(f"{op}: the tensor's memory overlaps itself (strides "
                         f"{array.strides} for shape {array.shape}, e.g. an expanded or "
                         "broadcast view); writing into it would hit one element several "
                         "times; write into a copy instead")


def broadcast_shapes(op: str, *shapes: tuple) -> tuple:
    """The NumPy broadcast of several shapes, or a ValueError naming the op and shapes."""
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    ndim = max(len(s) for s in shapes)
    result = []
    for i in range(-ndim, 0):
        size = 1
        for s in shapes:
            if -i <= len(s):
                n = s[i]
                if n != 1:
                    if size != 1 and size != n:
                        raise ValueError(
                            f"{op}: shapes {' and '.join(str(tuple(x)) for x in shapes)} "
                            "cannot be broadcast together; each dimension must match or be 1")
                    size = n
        result.append(size)
    return tuple(result)


def expand(array: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only zero-stride view of `array` broadcast to `shape` (no copy)."""
    if array.shape == shape:
        return array
    lead = len(shape) - array.ndim
    strides = [0] * lead
    for n, target, stride in zip(array.shape, shape[lead:], array.strides):
        strides.append(stride if n == target else 0)
    return _as_strided(array, shape=shape, strides=tuple(strides), writeable=False)


def cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`array` converted to `dtype` by our copy kernel (returned as is when it already is)."""
    if array.dtype == dtype:
        return array
    out = np.empty(array.shape, dtype)
    if out.size:
        backend().copy(array, out)
    return out


def contiguous(array: np.ndarray) -> np.ndarray:
    """`array` itself when C-contiguous, else a C-contiguous copy made by our copy kernel."""
    if array.flags.c_contiguous:
        return array
    out = np.empty(array.shape, array.dtype)
    if out.size:
        backend().copy(array, out)
    return out


def scalar_array(value: Any, dtype: np.dtype, op: str) -> np.ndarray:
    """A 0-d array holding a Python scalar in `dtype` (OverflowError -> ValueError)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (OverflowError, ValueError):  # too large, or NaN into an integer dtype
        raise ValueError(f"{op}: the Python scalar {value!r} does not fit in "
                         f"{dtypes.name(dtype)}") from None


def is_scalar(value: Any) -> bool:
    """True for Python (and NumPy) bool/int/float scalars."""
    if isinstance(value, np.generic):
        return value.dtype.kind in "biuf"  # not datetime64, str_, bytes_, void, complex
    return isinstance(value, (bool, numbers.Integral, numbers.Real)) and \
        not isinstance(value, complex)


def check_dtype(op: str, dtype: np.dtype, allowed: Sequence[np.dtype], what: str = "input"):
    """Raise TypeError when `dtype` is not among `allowed`."""
    if dtype not in allowed:
        names = ", ".join(dtypes.name(d) for d in allowed)
        raise TypeError(f"{op}: {what} has dtype {dtypes.name(dtype)}; expected one of {names}")


def normalize_axis(op: str, axis: Any, ndim: int) -> int:
    """One axis as a non-negative int, or an IndexError/TypeError naming the op."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, received {axis!r}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise IndexError(f"{op}: axis {axis} is out of range for a tensor of rank {ndim}; "
                         f"expected -{ndim} <= axis < {ndim}" if ndim else
                         f"{op}: axis {axis} is out of range for a tensor of rank 0")
    return axis % ndim


def normalize_axes(op: str, axis: Any, ndim: int) -> tuple:
    """axis=None|int|tuple as a sorted tuple of unique non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(op, a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: repeated axis in {tuple(axis)}; each axis may appear once")
        return tuple(sorted(axes))
    if ndim == 0 and isinstance(axis, numbers.Integral) and axis in (0, -1):
        return ()
    return (normalize_axis(op, axis, ndim),)


def normalize_shape(op: str, shape: Any) -> tuple:
    """A shape argument (int or sequence of ints) as a tuple of non-negative ints."""
    if type(shape) is tuple or type(shape) is list:
        # the common case (reshape, broadcast_to, full on every training step) without the
        # numbers.Integral ABC checks; anything else takes the general checks below
        total = 1
        for n in shape:
            if type(n) is not int or n < 0:
                break
            total *= n
        else:
            if len(shape) <= MAX_NDIM and total <= 2 ** 62:
                return tuple(shape)
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, (str, bytes, bytearray)):
        raise TypeError(f"{op}: shape must be an int or a sequence of ints, "
                        f"received {shape!r}")
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a sequence of ints, "
                        f"received {shape!r}") from None
    result = []
    for n in items:
        if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)):
            raise TypeError(f"{op}: shape entries must be ints, received {shape!r}")
        if n < 0:
            raise ValueError(f"{op}: negative dimension in shape {items}; "
                             "expected sizes >= 0")
        result.append(int(n))
    check_rank(op, len(result))
    total = 1
    for n in result:
        total *= n
    if total > 2 ** 62:
        raise ValueError(f"{op}: shape {tuple(result)} has {total} elements; too large")
    return tuple(result)
