"""tc.data.Dataset: from_tensor_slices / shuffle / batch / map / prefetch, and fit on it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models


def _xy(n=50):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return x, np.arange(n) % 2


def test_batches_shuffle_and_lengths():
    x, y = _xy()
    ds = tc.data.Dataset.from_tensor_slices((x, y))
    assert len(ds) == 50 and len(ds.batch(16)) == 4 and len(ds.batch(16, True)) == 3
    batches = list(ds.batch(16))
    assert [len(b[0]) for b in batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    shuffled = tc.data.Dataset.from_tensor_slices((x, y)).shuffle(50, seed=3).batch(10)
    first = np.concatenate([b[1] for b in shuffled])
    again = np.concatenate([b[0] for b in shuffled])
    assert sorted(again[:, 0].tolist()) == sorted(x[:, 0].tolist())          # a permutation
    assert not np.array_equal(again, x)                                      # reordered
    redo = tc.data.Dataset.from_tensor_slices((x, y)).shuffle(50, seed=3).batch(10)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in redo]), first)  # seeded
    # A small buffer (the streaming algorithm) still yields every element exactly once.
    small = [int(e[0][0]) for e in tc.data.Dataset.from_tensor_slices((x, y)).map(
        lambda a, b: (a, b)).shuffle(4, seed=0)]
    assert sorted(small) == sorted(x[:, 0].astype(int).tolist()) and small != sorted(small)


def test_map_and_prefetch_feed_fit_like_arrays():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def model():
        tc.random.seed(0)
        m = models.Sequential([layers.Dense(4, activation="relu", input_shape=(6,)),
                               layers.Dense(2, activation="softmax")])
        m.compile("rmsprop", loss="sparse_categorical_crossentropy")
        return m

    a = model()
    a.fit(x * 2.0, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    ds = (tc.data.Dataset.from_tensor_slices((x, y)).batch(16)
          .map(lambda xb, yb: (xb * 2.0, yb)).prefetch(2))
    b = model()
    b.fit(ds, epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_prefetch_error_reaches_consumer_and_threads_stop():
    x, y = _xy()

    def boom(a, b):
        if a[0] > 60:
            raise ArithmeticError("bad element")
        return a, b

    before = threading.active_count()
    ds = tc.data.Dataset.from_tensor_slices((x, y)).map(boom).prefetch(3)
    with pytest.raises(ArithmeticError, match="bad element"):
        list(ds)
    iterator = iter(tc.data.Dataset.from_tensor_slices((x, y)).prefetch(2))
    next(iterator)
    iterator.close()                                 # consumer stops early
    assert threading.active_count() == before


def test_bad_arguments():
    x, y = _xy()
    ds = tc.data.Dataset.from_tensor_slices((x, y))
    with pytest.raises(ValueError, match="same length"):
        tc.data.Dataset.from_tensor_slices((x, y[:3]))
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)
    with pytest.raises(ValueError, match="buffer_size"):
        ds.shuffle(0)
    with pytest.raises(TypeError, match="callable"):
        ds.map(3)
