"""Special values (signed zeros, infinities, NaN) of every binary float function, on both
backends and both float dtypes: the array API standard's special cases, which NumPy's
ufuncs implement (C99 Annex F), so NumPy is the oracle on a grid of special operands; where
the standard and NumPy differ, the standard wins (noted at the override)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tensorcore as tc

_VALUES = [math.nan, -math.inf, -5.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, math.inf]
_PAIRS = np.array(list(itertools.product(_VALUES, _VALUES)))

BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.divide, "power": np.power, "maximum": np.maximum,
          "minimum": np.minimum, "atan2": np.arctan2, "hypot": np.hypot,
          "logaddexp": np.logaddexp, "copysign": np.copysign, "nextafter": np.nextafter,
          "floor_divide": np.floor_divide, "remainder": np.remainder}


def _expected(name, a, b):
    with np.errstate(all="ignore"):
        out = BINARY[name](a, b)
    if name == "floor_divide":
        # the standard: +-inf // finite nonzero is +-inf by the signs (NumPy: NaN)
        inf_by_finite = np.isinf(a) & np.isfinite(b) & (b != 0)
        out = np.where(inf_by_finite, a / np.where(b == 0, 1, b), out).astype(a.dtype)
    return out


def _assert_identical(got, expected, what):
    """Equal values, equal signs of zero, NaN where NaN."""
    same = ((got == expected) & (np.signbit(got) == np.signbit(expected))) | (
        np.isnan(got) & np.isnan(expected))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, f"{what}: " + ", ".join(
        f"({_PAIRS[i, 0]}, {_PAIRS[i, 1]}) -> {got[i]} expected {expected[i]}"
        for i in bad[:5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_functions_on_special_values(backend, dtype):
    a, b = _PAIRS[:, 0].astype(dtype), _PAIRS[:, 1].astype(dtype)
    ta, tb = tc.tensor(a), tc.tensor(b)
    for name in BINARY:
        got = getattr(tc, name)(ta, tb).numpy()
        assert got.dtype == dtype, name
        _assert_identical(got, _expected(name, a, b), f"{name} {np.dtype(dtype).name}")


def test_standard_cases_spelled_out(backend):
    """A few of the standard's cases written as it states them (not through NumPy)."""
    pi = math.pi
    f = np.float64
    cases = [("atan2", -0.0, -0.0, -pi), ("atan2", 0.0, -0.0, pi), ("atan2", -0.0, 3.0, -0.0),
             ("atan2", math.inf, -math.inf, 3 * pi / 4), ("atan2", -2.0, math.inf, -0.0),
             ("hypot", math.inf, math.nan, math.inf), ("hypot", math.nan, -math.inf, math.inf),
             ("hypot", -0.0, -0.0, 0.0), ("logaddexp", math.inf, math.inf, math.inf),
             ("logaddexp", math.inf, -math.inf, math.inf),
             ("logaddexp", -math.inf, -math.inf, -math.inf),
             ("logaddexp", math.nan, math.inf, math.nan), ("logaddexp", 1000.0, 1000.0,
                                                           1000.0 + math.log(2.0)),
             ("copysign", 3.0, -0.0, -3.0), ("copysign", -math.inf, 0.0, math.inf),
             ("maximum", math.nan, 1.0, math.nan), ("minimum", 1.0, math.nan, math.nan),
             ("power", 1.0, math.nan, 1.0), ("power", math.nan, 0.0, 1.0),
             ("power", -0.0, -3.0, -math.inf), ("divide", -0.0, math.inf, -0.0),
             ("floor_divide", -math.inf, 2.0, -math.inf), ("remainder", -1.0, math.inf,
                                                            math.inf)]
    for name, x, y, expected in cases:
        got = getattr(tc, name)(tc.tensor(np.array(x, f)), tc.tensor(np.array(y, f))).item()
        assert (math.isnan(got) and math.isnan(expected)) or (
            got == expected and math.copysign(1, got) == math.copysign(1, expected)), (
            name, x, y, got, expected)
