"""The dtypes tensorcore supports and the conversions between them and NumPy's."""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int32, int64, bool_)
FLOATS = (float32, float64)
INTEGERS = (int32, int64)

# Other real NumPy dtypes are widened losslessly to a supported one when data enters.
_WIDEN = {
    np.dtype(np.int8): int32, np.dtype(np.int16): int32, np.dtype(np.uint8): int32,
    np.dtype(np.uint16): int32, np.dtype(np.uint32): int64, np.dtype(np.float16): float32,
}

_NAMES = {"float32": float32, "float64": float64, "int32": int32, "int64": int64,
          "bool": bool_, "float": float32, "double": float64, "int": int64, "long": int64}


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """Resolve a user dtype (tc.float32, np.float32, "float32", float, int, bool) or raise."""
    if dtype is None or not isinstance(dtype, (type, np.dtype, str)):
        # np.dtype() would read None as float64 and any object's .dtype attribute (a
        # Tensor's) as its dtype: neither is a dtype argument.
        raise TypeError(f"{op}: dtype must be a dtype such as tc.float32, np.int64 or "
                        f"'float32', received {dtype!r}")
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, str):
        if dtype in _NAMES:
            return _NAMES[dtype]
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; expected one of "
                        "float32, float64, int32, int64, bool")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; expected one of "
                        "float32, float64, int32, int64, bool") from None
    if resolved in SUPPORTED:
        return resolved
    raise TypeError(f"{op}: unsupported dtype {resolved}; expected one of "
                    "float32, float64, int32, int64, bool")


def storage_dtype(dtype: np.dtype, op: str) -> np.dtype:
    """Map an incoming NumPy dtype to the supported dtype that stores it, or raise TypeError."""
    if dtype in SUPPORTED:
        return dtype
    if dtype in _WIDEN:
        return _WIDEN[dtype]
    raise TypeError(f"{op}: unsupported dtype {dtype}; tensorcore supports float32, float64, "
                    "int32, int64 and bool (complex, object, string, uint64 are rejected)")


def is_float(dtype: np.dtype) -> bool:
    """True for float32 and float64."""
    return dtype.kind == "f"


def name(dtype: np.dtype) -> str:
    """Short name of a dtype, as used in reprs and messages."""
    return "bool" if dtype == bool_ else dtype.name
