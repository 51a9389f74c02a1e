"""Singular values (xp.linalg.svdvals) and the matrix norms built on them (ord 2, -2, 'nuc'):
our one-sided Jacobi kernels on both backends against NumPy's LAPACK SVD as the oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import array_api as xp

SHAPES = [(1, 1), (3, 4), (5, 2), (2, 3, 3), (2, 1, 6, 4), (7, 7)]


def _matrices(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_svdvals_match_lapack(backend, shape, dtype):
    a = _matrices(shape, dtype)
    got = xp.linalg.svdvals(tc.from_numpy(a))
    assert got.dtype == dtype and got.shape == shape[:-2] + (min(shape[-2:]),)
    want = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol * want.max())
    values = got.numpy()
    assert (values[..., :-1] >= values[..., 1:]).all()       # descending


@pytest.mark.parametrize("scale", [1e-300, 1e-20, 1.0, 1e20, 1e300])
def test_svdvals_scaled_and_rank_deficient(backend, scale):
    """Rank 2 in 5x4 at magnitudes whose squares under/overflow: scaled by a power of two."""
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))) * scale
    got = xp.linalg.svdvals(tc.from_numpy(a)).numpy()
    want = np.linalg.svd(a / scale, compute_uv=False) * scale
    np.testing.assert_allclose(got[:2], want[:2], rtol=1e-13)
    assert np.all(np.abs(got[2:]) <= 1e-13 * want[0])


def test_svdvals_special_inputs(backend):
    zero = np.zeros((2, 3, 2))
    np.testing.assert_array_equal(xp.linalg.svdvals(tc.from_numpy(zero)).numpy(),
                                  np.zeros((2, 2)))
    bad = np.ones((3, 3, 3))
    bad[1, 0, 2] = np.nan
    bad[2, 1, 1] = np.inf
    got = xp.linalg.svdvals(tc.from_numpy(bad)).numpy()
    np.testing.assert_allclose(got[0], [3.0, 0.0, 0.0], atol=1e-15)
    assert np.isnan(got[1:]).all()                  # not defined with NaN/inf entries
    assert xp.linalg.svdvals(tc.from_numpy(np.ones((0, 4, 3)))).shape == (0, 3)
    assert xp.linalg.svdvals(tc.from_numpy(np.ones((2, 0, 3)))).shape == (2, 0)


def test_svdvals_bad_input():
    with pytest.raises(TypeError, match="svdvals: expected a real floating-point"):
        xp.linalg.svdvals(tc.from_numpy(np.ones((2, 2), np.int64)))
    with pytest.raises(ValueError, match=r"svdvals: expected at least 2 dims.*\(3,\)"):
        xp.linalg.svdvals(tc.from_numpy(np.ones(3)))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("order", [2, -2, "nuc", "fro", 1, -1, math.inf, -math.inf])
def test_matrix_norm_every_ord(backend, order, keepdims):
    a = _matrices((2, 4, 3), np.float64, seed=5)
    got = xp.linalg.matrix_norm(tc.from_numpy(a), ord=order, keepdims=keepdims)
    want = np.linalg.norm(a, ord=order, axis=(-2, -1), keepdims=keepdims)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_matrix_norm_bad_ord():
    with pytest.raises(ValueError, match="matrix_norm: ord must be .* received 3"):
        xp.linalg.matrix_norm(tc.from_numpy(np.ones((2, 2))), ord=3)


def test_matrix_rank(backend):
    rng = np.random.default_rng(7)
    a = np.stack([rng.standard_normal((6, r)) @ rng.standard_normal((r, 4)) for r in (1, 2, 4)])
    got = xp.linalg.matrix_rank(tc.from_numpy(a))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), [1, 2, 4])
    np.testing.assert_array_equal(got.numpy(), np.linalg.matrix_rank(a))
    scaled = np.diag([1.0, 1e-3, 1e-6])[None] * np.ones((2, 1, 1))
    rtol = tc.from_numpy(np.array([1e-4, 1e-7]))
    np.testing.assert_array_equal(xp.linalg.matrix_rank(tc.from_numpy(scaled), rtol=rtol).numpy(),
                                  [2, 3])
    assert int(xp.linalg.matrix_rank(tc.from_numpy(scaled[0]), rtol=1e-2).numpy()) == 1
    assert int(xp.linalg.matrix_rank(tc.from_numpy(np.zeros((3, 3)))).numpy()) == 0
