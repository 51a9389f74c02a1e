"""The array API linalg extension (tensorcore.array_api.linalg) against NumPy, and the
in-place operators (buffer updated, views see it, graph members refused)."""

import math

import numpy as np
import pytest

import tensorcore as tc
from tensorcore.array_api import linalg as la


@pytest.fixture(params=["c", "numba"])
def backend(request):
    tc.set_backend(request.param)
    yield request.param
    tc.set_backend("c")


def _a(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("ord_", [2, 1, 0, math.inf, -math.inf, 3, -1, 0.5])
def test_vector_norm(backend, ord_):
    a = _a((2, 3, 4))
    a[0, 0, 0] = 0.0
    got = la.vector_norm(tc.tensor(a), axis=(1, 2), ord=ord_)
    np.testing.assert_allclose(got.numpy(), np.linalg.norm(a.reshape(2, -1), ord=ord_, axis=1),
                               rtol=1e-12)
    kept = la.vector_norm(tc.tensor(a), axis=-1, keepdims=True, ord=ord_)
    np.testing.assert_allclose(kept.numpy(),
                               np.linalg.norm(a, ord=ord_, axis=-1, keepdims=True), rtol=1e-12)


def test_vector_norm_scaled_and_special():
    big = la.vector_norm(tc.tensor([3e30, 4e30], dtype=tc.float32))
    assert big.dtype == np.float32 and np.isclose(big.item(), 5e30, rtol=1e-6)
    assert la.vector_norm(tc.tensor([np.inf, 1.0])).item() == np.inf
    assert np.isnan(la.vector_norm(tc.tensor([np.nan, 1.0])).item())
    assert la.vector_norm(tc.zeros(3)).item() == 0.0
    with pytest.raises(TypeError, match="vector_norm"):
        la.vector_norm(tc.tensor([1, 2]))


@pytest.mark.parametrize("ord_", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm(backend, ord_):
    a = _a((3, 4, 5))
    np.testing.assert_allclose(la.matrix_norm(tc.tensor(a), ord=ord_).numpy(),
                               np.linalg.norm(a, ord=ord_, axis=(1, 2)), rtol=1e-12)


def test_matrix_norm_unknown_orders_are_refused():
    for bad in (3, "max", True, 0):
        with pytest.raises(ValueError, match="matrix_norm: ord must be"):
            la.matrix_norm(tc.ones((2, 2)), ord=bad)


def test_outer_diagonal_trace_cross(backend):
    a = _a((2, 4, 5))
    x = tc.tensor(a)
    for k in (-5, -1, 0, 2, 7):
        np.testing.assert_array_equal(la.diagonal(x, offset=k).numpy(),
                                      np.diagonal(a, k, -2, -1))
        np.testing.assert_allclose(la.trace(x, offset=k).numpy(),
                                   np.trace(a, k, axis1=-2, axis2=-1))
    ai = np.arange(12).reshape(3, 4)
    assert la.trace(tc.tensor(ai)).dtype == np.int64
    np.testing.assert_array_equal(la.outer(tc.tensor([1.0, 2.0]), tc.tensor([3.0, 4.0, 5.0]))
                                  .numpy(), np.outer([1, 2], [3, 4, 5]))
    u, v = _a((4, 3), seed=1), _a((3,), seed=2)
    np.testing.assert_allclose(la.cross(tc.tensor(u), tc.tensor(v)).numpy(), np.cross(u, v))
    np.testing.assert_allclose(la.cross(tc.tensor(u.T), tc.tensor(u.T[:, ::-1]), axis=0)
                               .numpy(), np.cross(u.T, u.T[:, ::-1], axis=0))
    with pytest.raises(ValueError, match="cross"):
        la.cross(tc.ones((2, 4)), tc.ones((2, 4)))
    with pytest.raises(ValueError, match="outer"):
        la.outer(tc.ones((2, 2)), tc.ones(2))


def test_linalg_namespace_reexports():
    xp = tc.ones(2).__array_namespace__()
    assert xp.linalg is la
    a = _a((3, 4))
    np.testing.assert_allclose(la.matmul(tc.tensor(a), tc.tensor(a.T)).numpy(), a @ a.T)
    np.testing.assert_array_equal(la.matrix_transpose(tc.tensor(a)).numpy(), a.T)
    np.testing.assert_allclose(la.vecdot(tc.tensor(a), tc.tensor(a)).numpy(), (a * a).sum(-1))
    np.testing.assert_allclose(la.tensordot(tc.tensor(a), tc.tensor(a.T), axes=1).numpy(),
                               a @ a.T)


@pytest.mark.parametrize("symbol", ["+=", "-=", "*=", "/=", "//=", "%=", "**="])
def test_inplace_operators_write_the_buffer(backend, symbol):
    a = np.array([1.5, 2.0, -3.0, 4.0])
    x = tc.tensor(a)
    view = x[1:]
    alias = x
    namespace = {"x": x, "y": tc.tensor([2.0, 3.0, 2.0, 0.5])}
    exec(f"x {symbol} y", namespace)
    expected = a.copy()
    other = np.array([2.0, 3.0, 2.0, 0.5])
    namespace_np = {"x": expected, "y": other}
    exec(f"x {symbol} y", namespace_np)
    assert namespace["x"] is alias
    np.testing.assert_allclose(x.numpy(), namespace_np["x"])
    np.testing.assert_allclose(view.numpy(), namespace_np["x"][1:])
    assert x._version == 1


def test_inplace_matmul_bool_and_errors():
    m = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    m @= tc.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert m.tolist() == [[2.0, 1.0], [4.0, 3.0]]
    b = tc.tensor([True, False])
    b ^= tc.tensor([True, True])
    assert b.tolist() == [False, True]
    i = tc.tensor([1, 2])
    with pytest.raises(TypeError, match="cannot change the dtype"):
        i += 0.5
    with pytest.raises(ValueError, match="cannot change the shape"):
        i += tc.ones((2, 2), dtype=tc.int64)
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="recorded graph"):
        w += 1.0
    h = w * 2
    with pytest.raises(RuntimeError, match="recorded graph"):
        h *= 2.0
    with tc.no_grad():
        w -= 1.0
    assert w.tolist() == [0.0, 1.0] and w._version == 1
    r = tc.broadcast_to(tc.ones(2), (3, 2))
    with pytest.raises(ValueError, match="read-only"):
        r += 1.0
