"""Array API data types: dtype objects, promotion, casting, finfo/iinfo, isdtype."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import dtypes as _tcd
from ..tensor import Tensor

bool = _tcd.bool_  # noqa: A001 - the standard's name
int32 = _tcd.int32
int64 = _tcd.int64
float32 = _tcd.float32
float64 = _tcd.float64

DEFAULT_FLOAT = float32
DEFAULT_INT = int64
ALL_DTYPES = (bool, int32, int64, float32, float64)

# The standard's lattice restricted to our dtypes; mixing kinds is implementation-defined
# (we follow NumPy there: int with float gives float64; bool with a number gives it).
_SAME_KIND = {(int32, int64): int64, (float32, float64): float64}


def _dtype_of(x: Any) -> np.dtype:
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, np.dtype) and x in ALL_DTYPES:
        return x
    raise TypeError(f"expected a tensorcore array or dtype, received {x!r}")


def _promote_pair(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    if (a, b) in _SAME_KIND:
        return _SAME_KIND[(a, b)]
    if (b, a) in _SAME_KIND:
        return _SAME_KIND[(b, a)]
    return _tcd.storage_dtype(np.result_type(a, b), "result_type")


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """The dtype from applying the type promotion rules to the arguments."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    result = None
    scalars = []
    for item in arrays_and_dtypes:
        if isinstance(item, (int, float)) and not isinstance(item, np.generic):
            scalars.append(item)
            continue
        dtype = _dtype_of(item)
        result = dtype if result is None else _promote_pair(result, dtype)
    if result is None:
        raise ValueError("result_type: at least one array or dtype is required")
    for value in scalars:  # Python scalars are weak: they take the array's dtype
        if isinstance(value, float) and result.kind != "f":
            result = DEFAULT_FLOAT if result == bool else float64
        elif isinstance(value, int) and not isinstance(value, type(True)) and result == bool:
            result = DEFAULT_INT
    return result


def can_cast(from_: Any, to: np.dtype, /) -> type(True):
    """True when promotion rules allow `from_` (array or dtype) to become `to`."""
    source = _dtype_of(from_)
    target = _dtype_of(to)
    if source == target:
        return True
    # True when promoting `source` with `target` gives `target`: the standard's same-kind
    # upcasts, and across kinds tensorcore's (NumPy's) promotion (bool -> anything, int ->
    # float64), as result_type documents.
    return np.promote_types(source, target) == target


def astype(x: Tensor, dtype: np.dtype, /, *, copy: type(True) = True,
           device: Any = None) -> Tensor:
    """x converted to dtype (a new array unless copy=False and nothing changes)."""
    from ._creation import check_device
    check_device(device, "astype")
    if x.dtype == dtype and not copy:
        return x
    return x.astype(dtype)


@dataclass(frozen=True)
class finfo_object:  # noqa: N801 - the standard's name
    """Machine limits of a floating-point dtype."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype


@dataclass(frozen=True)
class iinfo_object:  # noqa: N801 - the standard's name
    """Machine limits of an integer dtype."""

    bits: int
    max: int
    min: int
    dtype: np.dtype


def finfo(type: Any, /) -> finfo_object:  # noqa: A002 - the standard's name
    """Limits of a floating-point dtype (or of a float array's dtype)."""
    dtype = _dtype_of(type)
    if dtype.kind != "f":
        raise TypeError(f"finfo: {dtype} is not a floating-point dtype")
    info = np.finfo(dtype)
    return finfo_object(info.bits, float(info.eps), float(info.max), float(info.min),
                        float(info.smallest_normal), dtype)


def iinfo(type: Any, /) -> iinfo_object:  # noqa: A002 - the standard's name
    """Limits of an integer dtype (or of an integer array's dtype)."""
    dtype = _dtype_of(type)
    if dtype.kind != "i":
        raise TypeError(f"iinfo: {dtype} is not an integer dtype")
    info = np.iinfo(dtype)
    return iinfo_object(info.bits, int(info.max), int(info.min), dtype)


_KINDS = {
    "bool": (bool,),
    "signed integer": (int32, int64),
    "unsigned integer": (),
    "integral": (int32, int64),
    "real floating": (float32, float64),
    "complex floating": (),
    "numeric": (int32, int64, float32, float64),
}


def isdtype(dtype: np.dtype, kind: Any) -> type(True):
    """True when dtype is of `kind` (a dtype, a kind name, or a tuple of those)."""
    dtype = _dtype_of(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; expected one of "
                             f"{', '.join(_KINDS)}")
        return dtype in _KINDS[kind]
    return dtype == _dtype_of(kind)
