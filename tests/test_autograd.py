"""The tape: gradcheck of every differentiable op on each backend, accumulation, no_grad,
detach, deep chains, graph release, higher-order gradients, float32 gradients, errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tensorcore as tc
import tensorcore.array_api as xp
from tensorcore.testing import gradcheck

rng = np.random.default_rng(7)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def transposed(*shape):
    return r(*shape[::-1]).T


C34 = r(2, 3, 4)
C43 = r(4, 3)

# (name, function, inputs): broadcasting and non-contiguous inputs included.
CASES = [
    ("add", lambda a, b: a + b, [r(3, 1, 4), r(2, 4)]),
    ("subtract", lambda a, b: a - b, [r(3, 4), transposed(3, 4)]),
    ("multiply", lambda a, b: a * b, [r(2, 3), r(3)]),
    ("divide", lambda a, b: a / b, [r(2, 3), pos(2, 1)]),
    ("power", lambda a, b: a ** b, [pos(2, 3), r(3)]),
    ("power_scalar", lambda a: a ** 3, [r(4)]),
    ("rpow", lambda a: 2.0 ** a, [r(4)]),
    ("negative", lambda a: -a, [r(3)]),
    ("maximum", tc.maximum, [r(3, 4), r(4)]),
    ("minimum", tc.minimum, [r(3, 4), r(3, 1)]),
    ("exp", tc.exp, [r(2, 3)]),
    ("log", tc.log, [pos(2, 3)]),
    ("sqrt", tc.sqrt, [pos(5)]),
    ("abs", tc.abs, [r(2, 5)]),
    ("square", tc.square, [r(2, 2)]),
    ("tanh", tc.tanh, [r(3)]),
    ("sigmoid", tc.sigmoid, [r(3, 2)]),
    ("relu", tc.relu, [r(4, 3)]),
    ("reciprocal", tc.reciprocal, [pos(3)]),
    ("where", lambda a, b: tc.where(a > 0, a, b), [r(3, 4), r(4)]),
    ("clip", lambda a: tc.clip(a, -0.5, 0.7), [r(4, 4)]),
    ("clip_tensor", lambda a, lo: tc.clip(a, lo, None), [r(4, 3), r(3)]),
    ("sum", lambda a: tc.sum(a, axis=1), [r(2, 3, 4)]),
    ("sum_all", lambda a: a.sum(), [transposed(3, 4)]),
    ("sum_keep", lambda a: tc.sum(a, axis=(0, 2), keepdims=True) * 2, [r(2, 3, 4)]),
    ("mean", lambda a: tc.mean(a, axis=(0, 1)), [r(2, 3, 4)]),
    ("max", lambda a: tc.max(a, axis=0), [r(3, 4)]),
    ("min", lambda a: tc.min(a, axis=-1, keepdims=True), [r(3, 4)]),
    ("var", lambda a: tc.var(a, axis=1), [r(3, 5)]),
    ("var_ddof", lambda a: tc.var(a, ddof=1), [r(6)]),
    ("logsumexp", lambda a: tc.logsumexp(a, axis=1), [r(3, 4)]),
    ("softmax", lambda a: tc.softmax(a, axis=0) * tc.tensor(np.arange(12.0).reshape(3, 4)),
     [r(3, 4)]),
    ("log_softmax", lambda a: tc.log_softmax(a) * tc.tensor(np.arange(12.0).reshape(3, 4)),
     [r(3, 4)]),
    ("matmul_2d", tc.matmul, [r(3, 4), r(4, 2)]),
    ("matmul_transposed", tc.matmul, [transposed(3, 4), transposed(4, 2)]),
    ("matmul_batched", tc.matmul, [r(2, 1, 3, 4), r(3, 4, 2)]),
    ("matmul_vec_mat", tc.matmul, [r(4), r(2, 4, 3)]),
    ("matmul_mat_vec", tc.matmul, [r(2, 3, 4), r(4)]),
    ("matmul_vec_vec", tc.matmul, [r(4), r(4)]),
    ("reshape", lambda a: a.reshape(4, -1) * tc.tensor(np.arange(12.0).reshape(4, 3)),
     [transposed(3, 4)]),
    ("transpose", lambda a: a.T * tc.tensor(np.arange(6.0).reshape(3, 2)), [r(2, 3)]),
    ("permute_dims", lambda a: tc.permute_dims(a, (2, 0, 1)) * tc.tensor(np.arange(24.0)
                                                                           .reshape(4, 2, 3)),
     [r(2, 3, 4)]),
    ("expand_squeeze", lambda a: tc.squeeze(tc.expand_dims(a, 1), 1) ** 2, [r(3, 2)]),
    ("flatten", lambda a: a.flatten() * tc.arange(6.0), [r(2, 3)]),
    ("broadcast_to", lambda a: tc.broadcast_to(a, (2, 3, 4)) * tc.tensor(C34),
     [r(3, 1)]),
    ("getitem_basic", lambda a: a[1:, None, ::-1] * 3, [r(3, 4)]),
    ("getitem_int", lambda a: a[1] * a[-1], [r(3, 4)]),
    # integer keys down to a 0-d result: the backward wrote into a NumPy scalar (a copy)
    ("getitem_to_scalar", lambda a: a[1] * a[-1] + a[(0,)] * 3, [r(4)]),
    ("getitem_to_scalar_2d", lambda a: a[1, 2] * a[-1, 0], [r(3, 4)]),
    # copies of the array API namespace stay in the graph (roll by a multiple of the axis
    # length, positive, reshape(copy=True), asarray(copy=True), meshgrid)
    ("roll_full_turn", lambda a: xp.roll(a, 4, axis=2) * tc.tensor(C34), [r(2, 3, 4)]),
    ("roll_zero_flat", lambda a: xp.roll(a, 0) * tc.tensor(C43), [r(4, 3)]),
    ("positive", lambda a: xp.positive(a) * tc.tensor(C43), [r(4, 3)]),
    ("reshape_copy", lambda a: xp.reshape(a, (3, 4), copy=True) * tc.tensor(C43.T), [r(4, 3)]),
    ("asarray_copy", lambda a: xp.asarray(a, copy=True) * tc.tensor(C43), [r(4, 3)]),
    ("meshgrid", lambda a, b: tc.stack(xp.meshgrid(a, b)) ** 2, [r(3), r(2)]),
    ("getitem_gather", lambda a: a[np.array([0, 2, 2, 0])] * tc.tensor(C43), [r(3, 3)]),
    ("getitem_pairs", lambda a: a[[0, 1, 1], [2, 2, 0]], [r(2, 3)]),
    ("concatenate", lambda a, b: tc.concatenate([a, b, a], axis=1) ** 2, [r(2, 3), r(2, 1)]),
    ("stack", lambda a, b: tc.stack([a, b], axis=-1) ** 2, [r(2, 3), r(2, 3)]),
    ("astype", lambda a: a.astype(tc.float32).astype(tc.float64) * 2, [r(3)]),
]


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(backend, name, fn, inputs):
    eps, atol = (1e-3, 1e-3) if name == "astype" else (1e-6, 1e-5)
    assert gradcheck(fn, inputs, eps=eps, atol=atol, rtol=1e-3)


def test_max_ties_split_evenly(backend):
    x = tc.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5, 0])


def test_maximum_ties_and_relu_kink(backend):
    a = tc.tensor([1.0, 2.0, 0.0], requires_grad=True)
    b = tc.tensor([1.0, 1.0, 5.0], requires_grad=True)
    tc.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 1, 0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0, 1])
    z = tc.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    tc.relu(z).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [0, 0, 1])


def test_repeated_indices_accumulate(backend):
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 0, 1])


def test_grad_accumulates_across_calls(backend):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_shared_gradient_objects_are_not_aliased(backend):
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.assign(0)
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])


def test_float32_stays_float32(backend):
    x = tc.tensor(r(4, 3).astype(np.float32), requires_grad=True)
    w = tc.tensor(r(3, 2).astype(np.float32), requires_grad=True)
    loss = (tc.log_softmax(tc.relu(x @ w) * 0.5 + 1.0, axis=1) ** 2).mean()
    assert loss.dtype == tc.float32
    loss.backward()
    assert x.grad.dtype == tc.float32 and w.grad.dtype == tc.float32


def test_no_grad_and_detach(backend):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    with tc.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = (x * 2).detach()
    assert not z.requires_grad
    assert np.shares_memory(z.numpy(), (x * 1).numpy()) is False
    w = x * 3
    assert w.requires_grad and not w.is_leaf and x.is_leaf

    @tc.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_requires_grad_propagation(backend):
    a = tc.tensor([1.0])
    b = tc.tensor([1.0], requires_grad=True)
    assert not (a * 2).requires_grad
    assert (a * b).requires_grad
    with pytest.raises(TypeError, match="float"):
        tc.tensor([1, 2], requires_grad=True)


def test_deep_chain_without_recursion_error(backend):
    x = tc.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_released_after_backward(backend):
    x = tc.tensor(r(3), requires_grad=True)
    mid = x * 2
    ref = weakref.ref(mid)
    loss = (tc.exp(mid)).sum()
    del mid
    loss.backward()
    gc.collect()
    assert ref() is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_second_backward(backend):
    x = tc.tensor([2.0], requires_grad=True)
    y = (x ** 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0])


def test_second_derivative_of_cube(backend):
    x = tc.tensor([-1.5, 0.5, 2.0], dtype=tc.float64, requires_grad=True)
    (dy,) = tc.autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2)
    (d2y,) = tc.autograd.grad(dy.sum(), x)
    np.testing.assert_allclose(d2y.numpy(), 6 * x.numpy())


def test_second_derivatives_closed_forms(backend):
    x = tc.tensor([0.3, -0.7, 1.1], dtype=tc.float64, requires_grad=True)
    for fn, second in [(tc.sin, lambda v: -np.sin(v)),
                       (tc.atan, lambda v: -2 * v / (1 + v * v) ** 2),
                       (tc.exp, np.exp), (tc.tanh, lambda v: -2 * np.tanh(v) / np.cosh(v) ** 2),
                       (tc.sigmoid, lambda v: (lambda s: s * (1 - s) * (1 - 2 * s))(
                           1 / (1 + np.exp(-v))))]:
        (g,) = tc.autograd.grad(fn(x).sum(), x, create_graph=True)
        (h,) = tc.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(h.numpy(), second(x.numpy()), rtol=1e-10)


def test_hessian_vector_product(backend):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = tc.tensor([0.5, -1.0], dtype=tc.float64, requires_grad=True)
    v = tc.tensor([1.0, 2.0], dtype=tc.float64)
    f = 0.5 * (x @ (tc.tensor(a) @ x))
    (g,) = tc.autograd.grad(f, x, create_graph=True)
    (hv,) = tc.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), a @ v.numpy())


def test_backward_create_graph(backend):
    x = tc.tensor([1.0, 2.0], dtype=tc.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0]))


def test_grad_does_not_touch_dot_grad(backend):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tc.autograd.grad((x * x).sum(), x)
    assert x.grad is None
    np.testing.assert_allclose(g.numpy(), [2, 4])


def test_backward_errors(backend):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.tensor([1.0]).sum().backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(grad=tc.ones(3))
    y = tc.tensor([3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        tc.autograd.grad((x * 2).sum(), [x, y])
    assert tc.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None
    (x * 2).backward(grad=tc.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [2, 2])


def test_custom_op(backend):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    out = tc.autograd.custom_op(np.array([2.0, 4.0], np.float32), (x,),
                                lambda g: (g * 2,), "double")
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2])


def test_writes_through_a_view_or_alias_are_caught(backend):
    # Views share their base's write count (as in PyTorch): before, each Tensor counted only
    # its own writes, so a write through another view (or through the base) left the saved
    # values stale and backward returned a silently wrong gradient.
    x = r(3, 4).astype(np.float32)
    w = tc.tensor(r(4).astype(np.float32), requires_grad=True)
    for make_view, write in (
            (lambda c: c[0:2], lambda c, v: c.__setitem__(0, 100.0)),   # through the base
            (lambda c: c.reshape(4, 3).T, lambda c, v: c.__iadd__(1.0)),
            (lambda c: c[1:], lambda c, v: v.__setitem__(0, 5.0)),      # the view itself
            (lambda c: c[0:2], lambda c, v: c.T.assign(c.T * 2.0))):   # another view
        c = tc.tensor(x)
        view = make_view(c)
        loss = (view * w[:view.shape[1]]).sum()
        write(c, view)
        with pytest.raises(RuntimeError, match="modified in place"):
            loss.backward()
    # a leaf's detached alias written under no_grad
    a = tc.tensor(x, requires_grad=True)
    loss = (a * a).sum()
    with tc.no_grad():
        a.detach()[0] = 0.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    # writes into unrelated memory, or before the op ran, are fine
    c = tc.tensor(x)
    c[0] = 1.0
    other = tc.tensor(x)
    loss = (c[0:2] * w).sum()
    other[0] = 3.0
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), c.numpy()[0:2].sum(axis=0), rtol=1e-6)


def test_power_with_zero_exponent_has_zero_gradient_at_zero(backend):
    # d/dx x**0 = 0 everywhere; the rule computed 0 * 0**-1 = NaN at x = 0 (PyTorch: 0), so
    # polynomial features x**i, i = 0..n, on data with zeros poisoned the whole gradient.
    x = tc.tensor(np.array([0.0, 2.0, 0.0], np.float32), requires_grad=True)
    e = tc.tensor(np.array([0.0, 0.0, 2.0], np.float32), requires_grad=True)
    ((x ** 0.0).sum() + (x ** e).sum() + (x ** 1.0).sum()).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [0.0 + 0.0 + 1.0, 0.0 + 0.0 + 1.0,
                                                   0.0 + 0.0 + 1.0])
    np.testing.assert_array_equal(e.grad.numpy(), [0.0, np.log(2.0).astype(np.float32), 0.0])


def test_create_graph_gives_each_leaf_its_own_grad(backend):
    # With create_graph=True, a + b handed the same gradient object to both leaves, so
    # a.grad was b.grad and a write into one changed the other.
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    (a * a + b).sum().backward(create_graph=True)
    c = tc.tensor([1.0, 2.0], requires_grad=True)
    d = tc.tensor([3.0, 4.0], requires_grad=True)
    (c + d).sum().backward(create_graph=True)
    assert c.grad is not d.grad and not np.shares_memory(c.grad.numpy(), d.grad.numpy())
    with tc.no_grad():
        c.grad.assign(tc.zeros(2))
    np.testing.assert_array_equal(d.grad.numpy(), [1.0, 1.0])
    (g,) = tc.autograd.grad(tc.sum(a.grad * a.grad), [a])   # a.grad = 2a stays in the graph
    np.testing.assert_allclose(g.numpy(), 8 * a.numpy())


def test_in_place_write_of_a_value_that_requires_grad_is_refused(backend):
    # In-place writes are not recorded; writing a value that requires grad into a plain
    # tensor (buf[0:2] = w * 2, buf.assign(...), buf += w) silently cut w out of the graph:
    # loss.backward() left w.grad None (PyTorch records it). Now a clear RuntimeError.
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    buf = tc.zeros(3)
    writes = [lambda: buf.__setitem__(slice(0, 2), w * 2),
              lambda: buf.__setitem__(tc.tensor([0, 2]), w),
              lambda: buf.assign(tc.ones(3) * tc.sum(w)),
              lambda: buf.assign_sub(tc.ones(3) * tc.sum(w)),
              lambda: buf[:2].__iadd__(w)]
    for write in writes:
        with pytest.raises(RuntimeError, match="requires grad, but in-place writes are not "
                                               "recorded"):
            write()
    np.testing.assert_array_equal(buf.numpy(), [0.0, 0.0, 0.0])
    buf[0:2] = w.detach()          # explicitly without gradient: fine
    with tc.no_grad():
        buf[1:3] = w * 2
    np.testing.assert_array_equal(buf.numpy(), [1.0, 2.0, 4.0])
