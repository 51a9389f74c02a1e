"""Tensor operators beyond + - * / ** @: floor division, remainder and logical & | ^ ~,
against NumPy, with PyTorch's gradient conventions and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore.testing import gradcheck

INTS = np.array([[7, -7, 5, 0, -3, 9], [1, -1, 100, -100, 6, -6]])
INT_DIVISORS = np.array([[2, 2, -3, 4, 5, -4], [3, -3, 7, 9, -6, 6]])
FLOATS = np.array([[7.5, -7.5, 5.0, 0.0, -3.25, 1e6], [0.1, -0.1, 2.5, -2.5, 9.0, -9.0]])
FLOAT_DIVISORS = np.array([[2.0, 2.0, -3.0, 1.5, 1.5, 3.0], [0.03, 0.03, -0.5, 0.5, -4.0, 4.0]])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_floor_divide_and_remainder(backend, dtype):
    a, b = INTS.astype(dtype), INT_DIVISORS.astype(dtype)
    ta, tb = tc.tensor(a), tc.tensor(b)
    for result, expected in ((ta // tb, a // b), (ta % tb, a % b),
                             (ta // 4, a // 4), (ta % -4, a % -4),
                             (50 // tb, 50 // b), (-50 % tb, -50 % b),
                             (ta // b[0], a // b[0]), (a % tb, a % b)):
        assert result.dtype == expected.dtype, (result.dtype, expected.dtype)
        np.testing.assert_array_equal(result.numpy(), expected)


def test_integer_division_by_zero_gives_zero_like_numpy(backend):
    a = np.array([5, -5, 0], np.int64)
    zero = np.zeros(3, np.int64)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal((tc.tensor(a) // zero).numpy(), a // zero)
        np.testing.assert_array_equal((tc.tensor(a) % zero).numpy(), a % zero)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_floor_divide_and_remainder(backend, dtype):
    a, b = FLOATS.astype(dtype), FLOAT_DIVISORS.astype(dtype)
    ta, tb = tc.tensor(a), tc.tensor(b)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for result, expected in ((ta // tb, a // b), (ta % tb, a % b), (ta % 2.5, a % 2.5),
                             (10.0 // tb, 10.0 // b), (ta // 1.5, a // 1.5)):
        assert result.dtype == dtype  # float32 stays float32
        np.testing.assert_allclose(result.numpy(), expected, rtol=rtol, atol=rtol)


def test_float_special_values(backend):
    a = np.array([1.0, -1.0, 0.0, np.nan, 3.0], np.float64)
    b = np.array([0.0, 0.0, 0.0, 1.0, np.inf], np.float64)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((tc.tensor(a) // b).numpy(), a // b)
        np.testing.assert_array_equal(np.isnan((tc.tensor(a) % b).numpy()), np.isnan(a % b))
    # inf // finite: +-inf as the array API standard and PyTorch give (NumPy gives nan)
    np.testing.assert_array_equal((tc.tensor([np.inf, -np.inf]) // 2.0).numpy(),
                                  [np.inf, -np.inf])


TRICKY = [0.1, 0.7, 1.0, 3.0, 0.3, -0.1, -0.7, -1.0, -3.0, 0.0, -0.0, np.inf, -np.inf, np.nan,
          1e300, -1e300, 3e38, 5e-324, 1e-45, 6.0, -6.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floor_divide_and_remainder_match_numpy_on_tricky_values(backend, dtype):
    """Every pair of tricky values, bit for bit against NumPy (values and sign of zero):
    1.0 // 0.1 is 9 (floor(1.0 / 0.1) would give 10), x // 0, +-0, +-inf, NaN, huge,
    subnormal. One documented difference: inf // finite is +-inf (array API, PyTorch)."""
    with np.errstate(all="ignore"):
        values = np.array(TRICKY).astype(dtype)
        a, b = np.meshgrid(values, values, indexing="ij")
        quotient, modulus = np.floor_divide(a, b), np.remainder(a, b)
        special = np.isinf(a) & np.isfinite(b) & (b != 0)
        quotient[special] = (a / b)[special]
    ta, tb = tc.tensor(a), tc.tensor(b)
    for got, expected in ((ta // tb, quotient), (ta % tb, modulus),
                          (tc.floor_divide(a, b), quotient), (tc.remainder(a, b), modulus)):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.numpy(), expected)
        np.testing.assert_array_equal(np.signbit(got.numpy()), np.signbit(expected))
    assert (tc.tensor(np.array(1.0, dtype)) // tc.tensor(np.array(0.1, dtype))).item() == 9.0


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_floor_divide_extremes_match_numpy(backend, dtype):
    info = np.iinfo(dtype)
    values = np.array([info.min, info.min + 1, -7, -1, 0, 1, 7, info.max], dtype)
    a, b = np.meshgrid(values, values, indexing="ij")
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((tc.tensor(a) // tc.tensor(b)).numpy(), a // b)
        np.testing.assert_array_equal((tc.tensor(a) % tc.tensor(b)).numpy(), a % b)


def test_remainder_gradient_matches_pytorch_convention(backend):
    a = tc.tensor([7.3, -7.3, 0.4, -2.2, 9.9], dtype=tc.float64)  # quotients away from
    b = tc.tensor([2.0, 2.0, -0.3, 0.7, -4.0], dtype=tc.float64)  # the integers
    assert gradcheck(lambda x, y: x % y, [a, b])
    x = tc.tensor([7.5, -2.0], requires_grad=True)
    y = tc.tensor([2.0, 3.0], requires_grad=True)
    (x % y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])                   # d/dx = 1
    np.testing.assert_array_equal(y.grad.numpy(), -np.floor([7.5 / 2, -2.0 / 3]))  # -(x // y)
    assert x.grad.dtype == tc.float32 and y.grad.dtype == tc.float32


def test_floor_divide_has_no_gradient(backend):
    x = tc.tensor([7.5, -2.0], requires_grad=True)
    q = x // 2.0
    assert not q.requires_grad
    np.testing.assert_array_equal(q.numpy(), [3.0, -1.0])


def test_logical_operators_on_bool_tensors(backend):
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    ta, tb = tc.tensor(a), tc.tensor(b)
    for result, expected in ((ta & tb, a & b), (ta | tb, a | b), (ta ^ tb, a ^ b),
                             (~ta, ~a), (ta & True, a & True), (False | ta, False | a),
                             (ta ^ b, a ^ b), ((ta > 0) & ~tb, (a > 0) & ~b)):
        assert result.dtype == tc.bool
        np.testing.assert_array_equal(result.numpy(), expected)


@pytest.mark.parametrize("expr, name", [
    (lambda f, m: f & f, "bitwise_and"), (lambda f, m: m | f, "bitwise_or"),
    (lambda f, m: f ^ m, "bitwise_xor"), (lambda f, m: m & 1.5, "bitwise_and"),
    (lambda f, m: f << 1, "bitwise_left_shift"), (lambda f, m: m >> m, "bitwise_right_shift")])
def test_bitwise_operators_reject_floats_and_bool_shifts(backend, expr, name):
    f = tc.tensor([1.0, 2.0])
    m = tc.tensor([True, False])
    with pytest.raises(TypeError, match=name):
        expr(f, m)


def test_invert_is_bitwise_on_integers_and_rejects_floats(backend):
    a = np.array([0, 1, -2, 2**40], np.int64)
    np.testing.assert_array_equal((~tc.tensor(a)).numpy(), ~a)
    np.testing.assert_array_equal((~tc.tensor(a.astype(np.int32))).numpy(),
                                  ~a.astype(np.int32))
    with pytest.raises(TypeError, match="bitwise_invert"):
        ~tc.tensor([1.0, 2.0])


def test_top_level_functions_match_the_operators(backend):
    a = np.array([7, -7, 5, 9], np.int64)
    t = tc.tensor(a)
    np.testing.assert_array_equal(tc.floor_divide(t, 2).numpy(), a // 2)
    np.testing.assert_array_equal(tc.remainder(t, -3).numpy(), a % -3)
    np.testing.assert_array_equal(tc.floor_divide(a, t).numpy(), a // a)  # array first
    with pytest.raises(TypeError, match="floor_divide: boolean"):
        tc.floor_divide(tc.tensor([True, False]), tc.tensor([True, True]))
    with pytest.raises(TypeError, match="remainder: boolean"):
        tc.tensor([1.0]) % tc.tensor([True])


def test_remainder_matches_numpy_and_array_api_on_edge_cases(backend):
    """tc.remainder and xp.remainder agree with each other and with NumPy on integer
    division by zero (0) and on infinite divisors with finite dividends of either sign
    (before: xp gave x for x % 0 and nan for finite % inf; tc gave -3 for -3 % inf)."""
    import tensorcore.array_api as xp

    a, b = np.array([5, -5, 0, 7, -7]), np.array([0, 3, 0, -2, 0])
    f = np.array([3.0, -3.0, 3.0, -3.0, 0.0, -0.5, 2.5])
    g = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf, -np.inf, 2.0])
    for x, y in ((a, b), (f, g)):
        with np.errstate(all="ignore"):
            expected = np.remainder(x, y)
        ours = tc.remainder(tc.tensor(x), tc.tensor(y)).numpy()
        theirs = xp.remainder(xp.asarray(x), xp.asarray(y)).numpy()
        np.testing.assert_array_equal(ours, expected)
        np.testing.assert_array_equal(theirs, expected)
