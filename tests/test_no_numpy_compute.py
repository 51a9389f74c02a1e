"""The default compute path makes no call to NumPy's ufuncs, reductions or matmul.

Every array tensorcore allocates during the workload is made a `Tripwire` array: a NumPy
subclass whose __array_ufunc__ / __array_function__ raise for anything that computes.
NumPy stays free to allocate, make views and reshape; if any op (forward, backward,
optimizer step, loss, metric) computed with NumPy instead of our kernels, the test fails
naming the NumPy function.
"""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc

_VIEW_FUNCTIONS = {
    "reshape", "transpose", "swapaxes", "broadcast_to", "shares_memory", "may_share_memory",
    "shape", "ndim", "size", "result_type", "can_cast", "copyto", "empty_like", "zeros_like",
    "ascontiguousarray", "atleast_1d", "expand_dims", "squeeze", "moveaxis", "ravel",
    "concatenate", "array2string", "array_repr", "array_str", "nonzero", "unravel_index",
    "ndindex",
}


def _advanced(key) -> bool:
    """True for a NumPy advanced index (an array or a list anywhere in the key): a gather."""
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(item, (np.ndarray, list)) for item in items)


class Tripwire(np.ndarray):
    """An ndarray that refuses to compute (fancy-index gathers and scatters included)."""

    def __getitem__(self, key):
        if _advanced(key):
            raise AssertionError(f"NumPy computed: a fancy-index gather {key!r}")
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        if _advanced(key):
            raise AssertionError(f"NumPy computed: a fancy-index scatter {key!r}")
        super().__setitem__(key, value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise AssertionError(f"NumPy computed: ufunc {ufunc.__name__}.{method}")

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ not in _VIEW_FUNCTIONS:
            raise AssertionError(f"NumPy computed: {func.__module__}.{func.__name__}")
        return super().__array_function__(func, tuple(np.ndarray if t is Tripwire else t
                                                      for t in types), args, kwargs)


@pytest.fixture
def tripwire(monkeypatch):
    """Make np.empty / np.zeros (what tensorcore allocates with) return Tripwire arrays."""
    tc.set_backend("c")
    for name in ("empty", "zeros"):
        original = getattr(np, name)
        monkeypatch.setattr(np, name, lambda *a, _f=original, **k: _f(*a, **k).view(Tripwire))
    yield
    tc.set_backend("c")


def _wire(array: np.ndarray) -> tc.Tensor:
    return tc.from_numpy(np.ascontiguousarray(array).view(Tripwire))


def test_tripwire_catches_numpy_compute(tripwire):
    a = np.empty(3)
    with pytest.raises(AssertionError, match="ufunc add"):
        a + a
    with pytest.raises(AssertionError, match="sum"):
        np.sum(a)
    with pytest.raises(AssertionError, match="matmul"):
        np.matmul(a, a)
    with pytest.raises(AssertionError, match="gather"):
        a[np.array([0, 2])]
    with pytest.raises(AssertionError, match="scatter"):
        a[[0, 1]] = 1.0
    a[1:] = 2.0  # basic indexing is a view, not a computation


def test_fancy_indexing_uses_our_kernels(tripwire):
    """Integer/bool array gathers, their scatter-add gradients (and second order) and
    fancy-index assignment run on our kernels."""
    rng = np.random.default_rng(2)
    x = _wire(rng.standard_normal((6, 5)).astype(np.float32)).requires_grad_()
    rows = _wire(np.array([4, 0, 0, -1], np.int64))
    picked = (x[rows] * 2).sum() + x[:, _wire(np.array([1, 3], np.int64))].sum()
    picked = picked + x[rows, 2].sum() + x[1, [0, 4]].sum() + x[_wire(np.array(
        [True, False, True, False, True, False]))].sum() + x[x > 0].sum()
    picked.backward()
    assert x.grad.shape == (6, 5)
    (gx,) = tc.autograd.grad((x[rows] ** 2).sum(), x, create_graph=True)
    gx[rows].sum().backward()
    y = _wire(np.zeros((6, 5), np.float32))
    with tc.no_grad():
        y[rows] = 1.0
        y[[0, 2], 1:3] = _wire(np.ones((2, 2), np.float32))
        y[:, [0, 0]] = _wire(np.arange(12, dtype=np.float32).reshape(6, 2))


def test_ops_forward_and_backward_use_our_kernels(tripwire):
    rng = np.random.default_rng(0)
    x = _wire(rng.standard_normal((8, 5)).astype(np.float32)).requires_grad_()
    w = _wire(rng.standard_normal((5, 4)).astype(np.float32)).requires_grad_()
    b = _wire(np.zeros(4, np.float32)).requires_grad_()
    h = tc.relu(x @ w + b)
    h = tc.tanh(h) * tc.sigmoid(h) + tc.exp(-h) - tc.sqrt(tc.abs(h) + 1) / 2
    h = tc.maximum(h, 0.1) - tc.minimum(h, h.T.T) + tc.clip(h, -1, 1) ** 2
    h = tc.where(h > 0, h, tc.square(h))
    loss = (tc.log_softmax(h, axis=1)[:, 0].mean() + tc.logsumexp(h, axis=0).sum()
            + tc.var(h) + tc.max(h, axis=1).sum() - tc.min(h) + h.reshape(-1)[3]
            + tc.concatenate([h, h], axis=0).sum() * 0.1 + tc.stack([h, h]).mean()
            + tc.softmax(h, axis=0)[np.array([0, 0, 1])].sum())
    loss.backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape and b.grad.shape == b.shape
    assert tc.argmax(h, axis=1).shape == (8,)
    assert (x.T.reshape(-1) * 2).shape == (40,)
    (gx,) = tc.autograd.grad((x ** 3).sum(), x, create_graph=True)
    gx.sum().backward()


def test_linalg_norms_and_singular_values_use_our_kernels(tripwire):
    from tensorcore import array_api as xp

    a = _wire(np.random.default_rng(4).standard_normal((2, 4, 3)))
    for order in (2, -2, "nuc", "fro", 1, -1, np.inf, -np.inf):
        assert xp.linalg.matrix_norm(a, ord=order).shape == (2,)
    assert xp.linalg.svdvals(a).shape == (2, 3)
    assert xp.linalg.vector_norm(a, axis=-1).shape == (2, 4)


def test_training_step_uses_our_kernels(tripwire):
    from tensorcore import layers, models
    rng = np.random.default_rng(1)
    x = rng.random((64, 20)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    model = models.Sequential([layers.Dense(16, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.view(Tripwire), y.view(Tripwire), epochs=1, batch_size=16, verbose=0)
    for optimizer in ("sgd", "adam", "adamw"):
        model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x.view(Tripwire), y.view(Tripwire), epochs=1, batch_size=32, verbose=0)
    model.evaluate(x.view(Tripwire), y.view(Tripwire), verbose=0)


def test_every_op_table_row_uses_our_kernels(request):
    """Each row of the op table (tensorcore/_optable.py), forward on each dtype of its spec
    and backward where it has a gradient, computes without NumPy."""
    from op_specs import SPECS

    from tensorcore import _optable as optable

    rng = np.random.default_rng(2)
    cases = [(op, [spec.sample(rng, (3, 4), dtype) for dtype in spec.dtypes],
              spec.sample(rng, (3, 4), np.float32) if spec.gradcheck else None)
             for op in optable.OPS for spec in (SPECS[op.name],)]
    request.getfixturevalue("tripwire")   # inputs are sampled; from here NumPy may not compute
    for op, samples, grad_sample in cases:
        for arrays in samples:
            getattr(tc, op.name)(*[_wire(a) for a in arrays])
        if grad_sample is not None:
            inputs = [_wire(a).requires_grad_() for a in grad_sample]
            getattr(tc, op.name)(*inputs).sum().backward()
