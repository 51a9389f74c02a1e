"""Sorting, scanning, searching, unique, repeat/tile and boolean masks: both backends
against NumPy (the oracle), incl. NaN placement, stability and gradients."""

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import ops_sort
from tensorcore.array_api import _sorting as xs

BACKENDS = ["c", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    tc.set_backend(request.param)
    yield request.param
    tc.set_backend("c")


def _data(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape)
    if np.dtype(dtype).kind == "f":
        a = a.astype(dtype)
        flat = a.reshape(-1)
        if flat.size > 3:
            flat[1] = np.nan
            flat[2] = -0.0
    elif dtype == np.bool_:
        a = a > 0
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 40), 1), ((40, 3), 0), ((2, 0, 3), 1),
                                        ((2, 3, 5), 1)])
def test_sort_argsort_match_numpy_stable(backend, dtype, shape, axis):
    a = _data(dtype, shape)
    x = tc.tensor(a)
    np.testing.assert_array_equal(xs.sort(x, axis=axis).numpy(),
                                  np.sort(a, axis=axis, kind="stable"))
    np.testing.assert_array_equal(xs.argsort(x, axis=axis).numpy(),
                                  np.argsort(a, axis=axis, kind="stable"))
    # descending and stable: equal keys keep input order (Python's sorted(reverse=True))
    got = xs.argsort(x, axis=axis, descending=True).numpy()
    moved = np.moveaxis(a, axis, -1).reshape(-1, a.shape[axis]) if a.size else None
    if moved is not None:
        rows = np.moveaxis(got, axis, -1).reshape(moved.shape)
        for row, idx in zip(moved, rows):
            key = [(np.inf if np.isnan(v) else v) if dtype in (np.float32, np.float64) else v
                   for v in row]
            assert list(idx) == sorted(range(len(row)), key=key.__getitem__, reverse=True)


@pytest.mark.parametrize("descending", [False, True])
def test_argsort_of_read_only_input(backend, descending):
    # The Numba argsort passed the input as its (unused) values target: a read-only input
    # (a broadcast view, a non-writeable array) failed to compile with a TypingError.
    a = np.array([3.0, 1.0, 2.0, 1.0], np.float32)
    a.flags.writeable = False
    expected = np.argsort(-a if descending else a, kind="stable")
    np.testing.assert_array_equal(
        xs.argsort(tc.from_numpy(a), descending=descending).numpy(), expected)
    b = np.broadcast_to(a[:, None], (4, 3))
    np.testing.assert_array_equal(tc.argsort(tc.from_numpy(b), axis=0).numpy(),
                                  np.argsort(b, axis=0, kind="stable"))


def test_sort_gradient_follows_permutation(backend):
    x = tc.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]], dtype=tc.float64, requires_grad=True)
    w = tc.tensor([1.0, 10.0, 100.0], dtype=tc.float64)
    (xs.sort(x, axis=1) * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[100, 1, 10], [10, 100, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_cumulative_sum(backend, dtype):
    a = _data(dtype, (3, 4, 5))
    a = np.nan_to_num(a) if a.dtype.kind == "f" else a
    x = tc.tensor(a)
    for axis in range(3):
        got = xs.cumulative_sum(x, axis=axis)
        want = np.cumsum(a, axis=axis, dtype=a.dtype if a.dtype.kind == "f" else np.int64)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
        first = xs.cumulative_sum(x, axis=axis, include_initial=True).numpy()
        assert first.shape[axis] == a.shape[axis] + 1
        np.testing.assert_allclose(np.take(first, np.arange(1, first.shape[axis]), axis=axis),
                                   want, rtol=1e-6)
        assert not np.take(first, [0], axis=axis).any()


def test_cumulative_sum_gradient(backend):
    x = tc.tensor([1.0, 2.0, 3.0], dtype=tc.float64, requires_grad=True)
    (xs.cumulative_sum(x) * tc.tensor([1.0, 10.0, 100.0], dtype=tc.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [111, 110, 100])


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0, 3)])
def test_nonzero(backend, shape):
    a = _data(np.float32, shape, seed=1)
    got = xs.nonzero(tc.tensor(a))
    want = np.nonzero(a)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(ValueError, match="nonzero"):
        xs.nonzero(tc.tensor(1.0))


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(backend, side):
    sorted_ = np.array([-1.0, 0.0, 0.0, 2.5, 7.0, np.nan])
    values = np.array([[-5.0, 0.0, 2.5], [8.0, np.nan, 1.0]])
    got = xs.searchsorted(tc.tensor(sorted_), tc.tensor(values), side=side)
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(sorted_, values, side=side))
    order = np.array([3, 0, 2, 1])
    base = np.array([5, 1, 3, 2])
    got = xs.searchsorted(tc.tensor(base), tc.tensor([2, 4]), side=side,
                          sorter=tc.tensor(np.argsort(base)))
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(base, [2, 4], side=side,
                                                               sorter=np.argsort(base)))
    del order


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
def test_unique(backend, dtype):
    a = _data(dtype, (4, 6), seed=2)
    x = tc.tensor(a)
    u = xs.unique_all(x)
    values, index, inverse, counts = np.unique(a, return_index=True, return_inverse=True,
                                               return_counts=True, equal_nan=False)
    np.testing.assert_array_equal(u.values.numpy(), values)
    np.testing.assert_array_equal(u.indices.numpy(), index)
    np.testing.assert_array_equal(u.inverse_indices.numpy(), inverse.reshape(a.shape))
    np.testing.assert_array_equal(u.counts.numpy(), counts)
    np.testing.assert_array_equal(xs.unique_values(x).numpy(), values)
    np.testing.assert_array_equal(xs.unique_counts(x).counts.numpy(), counts)
    np.testing.assert_array_equal(xs.unique_inverse(x).inverse_indices.numpy(),
                                  inverse.reshape(a.shape))


def test_unique_counts_every_nan_once(backend):
    x = tc.tensor([np.nan, 1.0, np.nan, 1.0])
    u = xs.unique_counts(x)
    assert np.isnan(u.values.numpy()[1:]).all() and u.counts.tolist() == [2, 1, 1]


def test_repeat_and_tile(backend):
    a = np.arange(6).reshape(2, 3)
    x = tc.tensor(a)
    np.testing.assert_array_equal(xs.repeat(x, 2).numpy(), np.repeat(a, 2))
    np.testing.assert_array_equal(xs.repeat(x, 3, axis=1).numpy(), np.repeat(a, 3, axis=1))
    np.testing.assert_array_equal(xs.repeat(x, tc.tensor([0, 2]), axis=0).numpy(),
                                  np.repeat(a, [0, 2], axis=0))
    with pytest.raises(ValueError, match="repeat"):
        xs.repeat(x, tc.tensor([1, 2, 3]), axis=0)
    with pytest.raises(ValueError, match="repeat"):
        xs.repeat(x, -1)
    for reps in [(2,), (2, 1), (1, 3, 2), ()]:
        np.testing.assert_array_equal(xs.tile(x, reps).numpy(), np.tile(a, reps))


def test_boolean_mask_get_and_set(backend):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = tc.tensor(a)
    mask = a > 5
    np.testing.assert_array_equal(x[tc.tensor(mask)].numpy(), a[mask])
    rows = np.array([True, False, True])
    np.testing.assert_array_equal(x[tc.tensor(rows)].numpy(), a[rows])
    x[tc.tensor(mask)] = -1.0
    b = a.copy()
    b[mask] = -1.0
    np.testing.assert_array_equal(x.numpy(), b)
    x[tc.tensor(rows)] = tc.tensor(np.ones((2, 4), np.float32) * 7)
    b[rows] = 7
    np.testing.assert_array_equal(x.numpy(), b)
    m2 = b > 6
    x[tc.tensor(m2)] = tc.tensor(np.arange(m2.sum(), dtype=np.float32))
    b[m2] = np.arange(m2.sum())
    np.testing.assert_array_equal(x.numpy(), b)
    with pytest.raises(IndexError, match="boolean index"):
        x[tc.tensor([True, False])]
    with pytest.raises(ValueError, match="__setitem__"):
        x[tc.tensor(m2)] = tc.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])


def test_boolean_mask_gradient(backend):
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[x > 1.5] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 2, 2])


def test_ops_sort_errors():
    with pytest.raises(ValueError, match="sort"):
        ops_sort.sort(tc.tensor(1.0))
    with pytest.raises(ValueError, match="searchsorted"):
        ops_sort.searchsorted(tc.tensor([[1, 2]]), tc.tensor([1]))
    with pytest.raises(ValueError, match="searchsorted"):
        ops_sort.searchsorted(tc.tensor([1, 2]), tc.tensor([1]), side="middle")
    with pytest.raises(ValueError, match="cumulative_sum"):
        ops_sort.cumsum(tc.zeros((2, 2)))
