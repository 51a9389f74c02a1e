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


# ---------------------------------------------------------------------- unary functions
_UNARY_VALUES = np.array([math.nan, -math.inf, -1e30, -5.5, -2.5, -1.5, -1.0, -0.5, -1e-30,
                          -0.0, 0.0, 1e-30, 0.5, 1.0, 1.5, 2.0, 2.5, 5.5, 1e30, math.inf])


def _unary_rows():
    from tensorcore import _optable as optable
    return [op for op in optable.family(optable.UNARY) if op.dtypes != optable.INT_BOOL]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_functions_on_special_values(backend, dtype):
    """Every unary float function of the op table: NaN where NumPy (C99 Annex F, the
    standard's cases) gives NaN, infinities and signed zeros exactly, other values close."""
    x = _UNARY_VALUES.astype(dtype)
    tx = tc.tensor(x)
    for op in _unary_rows():
        got = getattr(tc, op.name)(tx).numpy()
        with np.errstate(all="ignore"):
            expected = op.reference(x)
        what = f"{op.name} {np.dtype(dtype).name}"
        assert got.dtype == expected.dtype, what
        if got.dtype == np.bool_:
            np.testing.assert_array_equal(got, expected, err_msg=what)
            continue
        special = ~np.isfinite(expected) | (expected == 0) | ~np.isfinite(x)
        same = ((got == expected) & (np.signbit(got) == np.signbit(expected))) | (
            np.isnan(got) & np.isnan(expected))
        bad = np.flatnonzero(special & ~same)
        assert bad.size == 0, f"{what}: " + ", ".join(
            f"{x[i]} -> {got[i]} expected {expected[i]}" for i in bad[:5])
        np.testing.assert_allclose(got[~special], expected[~special], rtol=4e-6, err_msg=what)


def test_unary_standard_cases_spelled_out(backend):
    """Some of the standard's unary cases as it states them (not through NumPy)."""
    inf, nan = math.inf, math.nan
    cases = [("asinh", -0.0, -0.0), ("atanh", 1.0, inf), ("atanh", -1.0, -inf),
             ("atanh", -0.0, -0.0), ("log", -1.0, nan), ("log", -0.0, -inf),
             ("log2", 0.0, -inf), ("log10", inf, inf), ("log1p", -1.0, -inf),
             ("expm1", -inf, -1.0), ("acosh", 0.5, nan), ("acos", 1.0, 0.0),
             ("asin", -0.0, -0.0), ("atan", -inf, -math.pi / 2), ("tan", -0.0, -0.0),
             ("sin", inf, nan), ("cos", -inf, nan), ("cosh", -inf, inf), ("sinh", -inf, -inf),
             ("tanh", -inf, -1.0), ("tanh", -0.0, -0.0), ("sqrt", -0.0, -0.0),
             ("sign", nan, nan), ("sign", -0.0, 0.0), ("round", 2.5, 2.0), ("round", -0.5, -0.0),
             ("round", 3.5, 4.0), ("trunc", -0.5, -0.0), ("exp", -inf, 0.0)]
    for dtype in (np.float32, np.float64):
        for name, x, expected in cases:
            got = getattr(tc, name)(tc.tensor(np.array([x], dtype))).numpy()[0]
            assert (math.isnan(got) and math.isnan(expected)) or (
                got == expected and math.copysign(1, got) == math.copysign(1, expected)), (
                name, dtype, x, got, expected)
    signbit = tc.signbit(tc.tensor(np.array([-0.0, 0.0, -nan, nan, -inf], np.float32)))
    np.testing.assert_array_equal(signbit.numpy(), [True, False, True, False, True])
