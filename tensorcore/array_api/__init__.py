"""tensorcore's Python array API standard namespace (2023.12, real dtypes, CPU).

    import tensorcore as tc
    x = tc.tensor([1.0, 2.0])
    xp = x.__array_namespace__()      # this module
    xp.mean(xp.square(x))

Every function computes with tensorcore's ops and kernels; arrays are `tc.Tensor`. Data
types: bool, int32, int64, float32 (the default float), float64. Complex dtypes, unsigned
and 8/16-bit integers, FFT and the linalg factorizations are out of scope; see
docs/array-api.md for what is covered and how it is tested.
"""
# ruff: noqa: F401  (the namespace re-exports its functions; __all__ is built below)

from __future__ import annotations

import math
from typing import Any

from ._creation import (arange, asarray, empty, empty_like, eye, from_dlpack, full, full_like,
                        linspace, meshgrid, ones, ones_like, tril, triu, zeros, zeros_like)
from ._creation import DEVICE as _DEVICE
from ._dtypes import (astype, bool, can_cast, finfo, float32, float64, iinfo, int32, int64,
                      isdtype, result_type)
from ._elementwise import (abs, acos, acosh, add, asin, asinh, atan, atanh, ceil, clip, cos,
                           cosh, divide, equal, exp, expm1, floor, floor_divide, greater,
                           greater_equal, isfinite, isinf, isnan, less, less_equal, log,
                           log1p, log2, log10, logical_and, logical_not, logical_or,
                           logical_xor, maximum, minimum, multiply, negative, not_equal,
                           positive, pow, remainder, sign, sin, sinh, sqrt, square, subtract,
                           tan, tanh, trunc)
from ._elementwise import conj, imag, real
from ._elementwise import (atan2, bitwise_and, bitwise_left_shift, bitwise_or,
                           bitwise_right_shift, bitwise_xor, copysign, hypot, logaddexp,
                           nextafter)
from ._linalg import matmul, tensordot, vecdot
from . import linalg
from ._sorting import (argsort, cumulative_sum, nonzero, repeat, searchsorted, sort, tile,
                       unique_all, unique_counts, unique_inverse, unique_values)
from ._manipulation import (broadcast_arrays, broadcast_to, concat, expand_dims, flip,
                            matrix_transpose, moveaxis, permute_dims, reshape, roll, squeeze,
                            stack, take, unstack)
from ._reductions import (all, any, argmax, argmin, count_nonzero, max, mean, min, prod, std,
                          sum, var, where)
from ._dtypes import ALL_DTYPES as _ALL_DTYPES, DEFAULT_FLOAT as _DEFAULT_FLOAT
from ._dtypes import DEFAULT_INT as _DEFAULT_INT

__array_api_version__ = "2023.12"

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None


class _Info:
    """What this namespace supports (returned by __array_namespace_info__())."""

    __module__ = "tensorcore.array_api"

    def capabilities(self) -> dict:
        """Optional features: boolean indexing and data-dependent shapes (nonzero, unique_*)."""
        return {"boolean indexing": True, "data-dependent shapes": True}

    def default_device(self) -> str:
        """The only device, 'cpu'."""
        return _DEVICE

    def devices(self) -> list:
        """All devices: ['cpu']."""
        return [_DEVICE]

    def default_dtypes(self, *, device: Any = None) -> dict:
        """Default dtypes: float32 for real floats, int64 for integers and indexing."""
        return {"real floating": _DEFAULT_FLOAT, "complex floating": None,
                "integral": _DEFAULT_INT, "indexing": _DEFAULT_INT}

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict:
        """Supported dtypes by name, optionally only those of `kind`."""
        return {d.name if d != bool else "bool": d for d in _ALL_DTYPES
                if kind is None or isdtype(d, kind)}


def __array_namespace_info__() -> _Info:
    """The inspection object of this namespace."""
    return _Info()


__all__ = [name for name in dir() if not name.startswith("_") and name not in
           ("annotations", "math", "Any", "linalg")] + ["__array_namespace_info__"]
