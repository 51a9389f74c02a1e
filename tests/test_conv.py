"""tc.conv2d / conv1d / pooling: values and gradients vs PyTorch (NCHW transposed) and
finite differences, on every backend; errors raised before any kernel runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import backend as tc_backend
from tensorcore.testing import gradcheck, reference_backend

torch = pytest.importorskip("torch")
F = torch.nn.functional

_TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-4}, np.float64: {"rtol": 1e-10, "atol": 1e-10}}


def _same_pads(sizes, windows, strides):
    pads = []
    for n, k, s in zip(sizes, windows, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _torch_pad(pads):
    """F.pad argument (last dim first) from ((top, bottom), (left, right))."""
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return flat


def _nchw(a):
    return torch.tensor(np.ascontiguousarray(np.moveaxis(a, -1, 1)), requires_grad=True)


def _nhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


def _run(fn, inputs, grad_seed):
    tensors = [tc.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*tensors)
    gy = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(out.dtype)
    (out * tc.tensor(gy)).sum().backward()
    return out, [t.grad for t in tensors], gy


CONV2D_CASES = [
    # N, H, W, C, KH, KW, O, strides, padding, dilation, groups
    (2, 7, 6, 3, 3, 3, 4, 1, "valid", 1, 1),
    (2, 7, 6, 3, 3, 3, 4, 1, "same", 1, 1),
    (3, 9, 8, 4, 3, 2, 6, 2, "same", 1, 2),
    (2, 10, 11, 6, 3, 3, 4, (2, 1), ((2, 1), (0, 3)), 2, 2),
    (2, 5, 5, 8, 1, 1, 5, 1, "valid", 1, 1),          # pointwise path (no im2col)
    (1, 6, 6, 4, 2, 2, 4, 2, 1, 1, 4),                # depthwise, int padding
    (3, 12, 12, 5, 5, 5, 7, 3, "same", 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_torch(backend, dtype, case):
    n, h, w, c, kh, kw, o, strides, padding, dilation, groups = case
    rng = np.random.default_rng(CONV2D_CASES.index(case))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    k = rng.standard_normal((kh, kw, c // groups, o)).astype(dtype)
    out, (gx, gk), gy = _run(lambda a, b: tc.conv2d(a, b, strides, padding, dilation, groups),
                             (x, k), 1)
    assert out.dtype == dtype and gx.dtype == dtype and gk.dtype == dtype
    xt = _nchw(x)
    kt = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)), requires_grad=True)
    st = (strides, strides) if isinstance(strides, int) else strides
    dl = (dilation, dilation)
    if padding == "valid":
        pads = [(0, 0), (0, 0)]
    elif padding == "same":
        pads = _same_pads((h, w), [(kk - 1) * d + 1 for kk, d in zip((kh, kw), dl)], st)
    elif isinstance(padding, int):
        pads = [(padding, padding)] * 2
    else:
        pads = padding
    yt = F.conv2d(F.pad(xt, _torch_pad(pads)), kt, stride=st, dilation=dl, groups=groups)
    yt.backward(torch.tensor(np.ascontiguousarray(np.moveaxis(gy, -1, 1))))
    np.testing.assert_allclose(out.numpy(), _nhwc(yt), **_TOL[dtype])
    np.testing.assert_allclose(gx.numpy(), _nhwc(xt.grad), **_TOL[dtype])
    np.testing.assert_allclose(gk.numpy(), kt.grad.numpy().transpose(2, 3, 1, 0),
                               **_TOL[dtype])


@pytest.mark.parametrize("case", [(1, "valid", 1), (2, "same", 1), (1, "causal", 2),
                                  (3, 2, 1)])
def test_conv1d_matches_torch(backend, case):
    strides, padding, dilation = case
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 13, 4))
    k = rng.standard_normal((3, 2, 6))
    out, (gx, gk), gy = _run(lambda a, b: tc.conv1d(a, b, strides, padding, dilation, 2),
                             (x, k), 2)
    xt = _nchw(x)
    kt = torch.tensor(np.ascontiguousarray(k.transpose(2, 1, 0)), requires_grad=True)
    eff = 2 * dilation + 1
    if padding == "valid":
        pad = (0, 0)
    elif padding == "same":
        pad = _same_pads((13,), (eff,), (strides,))[0]
    elif padding == "causal":
        pad = (eff - 1, 0)
    else:
        pad = (padding, padding)
    yt = F.conv1d(F.pad(xt, list(pad)), kt, stride=strides, dilation=dilation, groups=2)
    yt.backward(torch.tensor(np.ascontiguousarray(np.moveaxis(gy, -1, 1))))
    np.testing.assert_allclose(out.numpy(), _nhwc(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gx.numpy(), _nhwc(xt.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gk.numpy(), kt.grad.numpy().transpose(2, 1, 0),
                               rtol=1e-10, atol=1e-10)


def _torch_pool(kind, xt, windows, strides, padding, dims):
    sizes = xt.shape[2:]
    pads = _same_pads(sizes, windows, strides) if padding == "same" else [(0, 0)] * dims
    pool = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d,
            ("avg", 1): F.avg_pool1d, ("avg", 2): F.avg_pool2d}[kind, dims]
    if kind == "max":
        return pool(F.pad(xt, _torch_pad(pads), value=-math.inf), windows, strides)
    # Keras averages over the positions inside the input: divide by the true counts.
    ones = F.pad(torch.ones_like(xt), _torch_pad(pads))
    return pool(F.pad(xt, _torch_pad(pads)), windows, strides) / pool(ones, windows, strides)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("cfg", [(2, None, "valid"), (3, 2, "same"), (3, 1, "valid"),
                                 ((2, 3), (1, 2), "same")])
def test_pool2d_matches_torch(backend, dtype, kind, cfg):
    pool, strides, padding = cfg
    x = np.random.default_rng(5).standard_normal((3, 9, 8, 5)).astype(dtype)
    fn = tc.max_pool2d if kind == "max" else tc.avg_pool2d
    out, (gx,), gy = _run(lambda a: fn(a, pool, strides, padding), (x,), 4)
    assert out.dtype == dtype and gx.dtype == dtype
    windows = (pool, pool) if isinstance(pool, int) else pool
    st = windows if strides is None else ((strides,) * 2 if isinstance(strides, int)
                                          else strides)
    xt = _nchw(x)
    yt = _torch_pool(kind, xt, windows, st, padding, 2)
    yt.backward(torch.tensor(np.ascontiguousarray(np.moveaxis(gy, -1, 1))))
    np.testing.assert_allclose(out.numpy(), _nhwc(yt), **_TOL[dtype])
    np.testing.assert_allclose(gx.numpy(), _nhwc(xt.grad), **_TOL[dtype])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("cfg", [(2, None, "valid"), (3, 2, "same")])
def test_pool1d_matches_torch(backend, kind, cfg):
    pool, strides, padding = cfg
    x = np.random.default_rng(6).standard_normal((2, 11, 3))
    fn = tc.max_pool1d if kind == "max" else tc.avg_pool1d
    out, (gx,), gy = _run(lambda a: fn(a, pool, strides, padding), (x,), 5)
    xt = _nchw(x)
    yt = _torch_pool(kind, xt, (pool,), (strides or pool,), padding, 1)
    yt.backward(torch.tensor(np.ascontiguousarray(np.moveaxis(gy, -1, 1))))
    np.testing.assert_allclose(out.numpy(), _nhwc(yt), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), _nhwc(xt.grad), rtol=1e-12, atol=1e-12)


def test_max_pool_routes_gradient_to_argmax_only(backend):
    x = np.array([[1.0, 5.0, 2.0, 2.0], [3.0, 4.0, 2.0, 9.0]]).reshape(1, 2, 4, 1)
    t = tc.tensor(x, requires_grad=True)
    y = tc.max_pool2d(t, 2)
    np.testing.assert_array_equal(y.numpy().ravel(), [5.0, 9.0])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy().reshape(2, 4), [[0, 1, 0, 0], [0, 0, 0, 1]])


def test_max_pool_propagates_nan(backend):
    x = np.array([1.0, np.nan, 3.0, 2.0]).reshape(1, 2, 2, 1)
    assert np.isnan(tc.max_pool2d(tc.tensor(x), 2).numpy()).all()


def test_global_pooling(backend):
    x = np.random.default_rng(7).standard_normal((2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(tc.global_avg_pool2d(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(tc.global_max_pool2d(x).numpy(), x.max(axis=(1, 2)))
    assert tc.global_avg_pool2d(x, keepdims=True).shape == (2, 1, 1, 3)
    np.testing.assert_allclose(tc.global_avg_pool1d(x[:, 0]).numpy(), x[:, 0].mean(axis=1),
                               rtol=1e-5)
    np.testing.assert_allclose(tc.global_max_pool1d(x[:, 0]).numpy(), x[:, 0].max(axis=1))
    assert gradcheck(lambda a: tc.global_avg_pool2d(a) * 3.0, [x.astype(np.float64)])
    assert gradcheck(tc.global_max_pool2d, [x.astype(np.float64)])


@pytest.mark.parametrize("fn", [
    lambda x, k: tc.conv2d(x, k, strides=(2, 1), padding="same", dilation=(1, 2)),
    lambda x, k: tc.conv2d(x, k, padding=((1, 0), (2, 1))),
])
def test_conv2d_gradcheck(backend, fn):
    rng = np.random.default_rng(8)
    assert gradcheck(fn, [rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((2, 3, 2, 3))])


@pytest.mark.parametrize("fn", [
    lambda x: tc.max_pool2d(x, 2, 1, "same"),
    lambda x: tc.avg_pool2d(x, (3, 2), 2, "same"),
    lambda x: tc.max_pool1d(x[:, 0], 3, 2),
    lambda x: tc.avg_pool1d(x[:, 0], 2),
])
def test_pool_gradcheck(backend, fn):
    assert gradcheck(fn, [np.random.default_rng(9).standard_normal((2, 4, 5, 3))])


def test_conv_large_batch_threads(backend):
    """Enough rows for several tiles and threads; compared with the 1-image results."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((16, 28, 28, 8)).astype(np.float32)
    k = rng.standard_normal((3, 3, 8, 16)).astype(np.float32)
    whole = tc.conv2d(x, k, padding="same").numpy()
    for i in (0, 7, 15):
        np.testing.assert_allclose(whole[i:i + 1], tc.conv2d(x[i:i + 1], k, padding="same")
                                   .numpy(), rtol=1e-5, atol=1e-5)
    xt = tc.tensor(x, requires_grad=True)
    kt = tc.tensor(k, requires_grad=True)
    tc.conv2d(xt, kt, padding="same").sum().backward()
    xr = _nchw(x)
    kr = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)), requires_grad=True)
    F.conv2d(xr, kr, padding=1).sum().backward()
    np.testing.assert_allclose(kt.grad.numpy(), kr.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(xt.grad.numpy(), _nhwc(xr.grad), rtol=1e-4, atol=1e-4)


# ---- the NumPy reference backend: checked against PyTorch, then used as the oracle -------

def _values_and_grads(fn, inputs, grad_seed, using=None):
    if using is None:
        return _run(fn, inputs, grad_seed)
    with tc_backend.using(using):
        return _run(fn, inputs, grad_seed)


@pytest.mark.parametrize("case", [CONV2D_CASES[2], CONV2D_CASES[3]])
def test_reference_backend_conv_matches_torch(case):
    """The oracle itself: grouped, strided, dilated, asymmetric padding vs PyTorch."""
    with tc_backend.using(reference_backend):
        test_conv2d_matches_torch("reference", np.float64, case)
        test_pool2d_matches_torch("reference", np.float64, "max", (3, 2, "same"))
        test_pool2d_matches_torch("reference", np.float64, "avg", ((2, 3), (1, 2), "same"))


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_reference_backend(backend, case):
    n, h, w, c, kh, kw, o, strides, padding, dilation, groups = case
    rng = np.random.default_rng(20 + CONV2D_CASES.index(case))
    inputs = (rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c // groups, o)))
    fn = lambda a, b: tc.conv2d(a, b, strides, padding, dilation, groups)  # noqa: E731
    out, grads, _ = _values_and_grads(fn, inputs, 3)
    ref, ref_grads, _ = _values_and_grads(fn, inputs, 3, reference_backend)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
    for grad, expected in zip(grads, ref_grads):
        np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", [(2, None, "valid"), (3, 2, "same"), ((3, 2), 1, "same")])
def test_max_pool_float32_wide_channels_match_reference(backend, cfg):
    """11 channels: one 8-channel SIMD block and a scalar tail; ties and NaNs included, so
    the maximum, the position it is taken from and the routed gradient must all agree."""
    pool, strides, padding = cfg
    rng = np.random.default_rng(21)
    x = rng.integers(-3, 4, (2, 7, 6, 11)).astype(np.float32)     # many ties
    x[0, 1, 1, 2] = x[1, 4, 3, 9] = x[1, 0, 0, 0] = np.nan
    fn = lambda a: tc.max_pool2d(a, pool, strides, padding)  # noqa: E731
    out, (gx,), _ = _values_and_grads(fn, (x,), 4)
    ref, (ref_gx,), _ = _values_and_grads(fn, (x,), 4, reference_backend)
    assert out.dtype == np.float32 and gx.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_allclose(gx.numpy(), ref_gx.numpy(), rtol=1e-6, atol=1e-6)


# Float32 convolutions whose window rows (KW * C values) are long enough for the C
# forward's window-row path (AVX2: B read straight from x, no packed B): horizontal and
# vertical padding (a window crossing the left/right edge is built in a buffer, a row
# outside the image is a zero run), output channels not a multiple of the 16-row
# micro-tile, fewer than 6 output positions, strides, row dilation, padding so wide that
# whole windows lie outside the image, and several tiles over the threads. The stride-1
# cases also take the input gradient through that path (dy convolved with the flipped
# kernel), and those with O a multiple of 16 and KW * C of 6 the filter gradient.
WINDOW_ROWS_CASES = [
    # N, H, W, C, KH, KW, O, strides, padding, dilation
    (2, 9, 10, 16, 3, 3, 20, 1, "same", 1),
    (3, 11, 7, 12, 3, 3, 16, (2, 1), ((3, 0), (2, 1)), (2, 1)),
    (2, 11, 9, 12, 3, 2, 16, 1, ((2, 1), (0, 1)), (2, 1)),
    (1, 5, 5, 40, 5, 5, 33, 1, 6, 1),
    (1, 3, 3, 16, 3, 3, 8, 1, "valid", 1),
    (2, 13, 13, 32, 3, 3, 64, 3, "valid", 1),
    (8, 28, 28, 32, 3, 3, 64, 1, "same", 1),
]


@pytest.mark.parametrize("case", WINDOW_ROWS_CASES)
def test_conv2d_float32_wide_windows_match_reference(backend, case):
    n, h, w, c, kh, kw, o, strides, padding, dilation = case
    rng = np.random.default_rng(30 + WINDOW_ROWS_CASES.index(case))
    x, k = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, o))
    fn = lambda a, b: tc.conv2d(a, b, strides, padding, dilation)  # noqa: E731
    out, grads, _ = _values_and_grads(fn, (x.astype(np.float32), k.astype(np.float32)), 5)
    ref, ref_grads, _ = _values_and_grads(fn, (x, k), 5, reference_backend)
    assert out.dtype == np.float32
    # float32 sums of up to K = 1000 products of unit normals (values up to ~100)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=5e-4)
    for grad, expected in zip(grads, ref_grads):
        np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-4, atol=5e-3)


def test_conv2d_huge_stride_single_window(backend):
    """A stride far beyond the input is legal when it yields one window per dim (the C
    core bounds (OH - 1) * SH, not SH itself)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    out = tc.conv2d(x, k, strides=2**62)
    assert out.shape == (2, 1, 1, 2)
    expected = tc.conv2d(x, k).numpy()[:, :1, :1]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


# ---- errors: raised by the front end, before any kernel runs -----------------------------

class _NoKernels:
    """A backend whose every function fails the test if called."""

    def __getattr__(self, name):
        raise AssertionError(f"kernel {name} ran before the argument error")


@pytest.fixture
def no_kernels():
    with tc_backend.using(_NoKernels()):
        yield


X4 = np.zeros((2, 6, 6, 3), np.float32)
K4 = np.zeros((3, 3, 3, 4), np.float32)


@pytest.mark.parametrize("call, error, words", [
    (lambda: tc.conv2d(X4[0], K4), ValueError, ["conv2d", "4-D", "(6, 6, 3)"]),
    (lambda: tc.conv2d(X4, K4[0]), ValueError, ["conv2d", "kernel", "4-D"]),
    (lambda: tc.conv2d(X4, np.zeros((3, 3, 2, 4), np.float32)), ValueError,
     ["conv2d", "3 channels", "expects 2"]),
    (lambda: tc.conv2d(X4, np.zeros((7, 3, 3, 4), np.float32)), ValueError,
     ["conv2d", "larger than the padded input", "7"]),
    (lambda: tc.conv2d(X4, K4, dilation=4), ValueError, ["conv2d", "dilated kernel size (9)"]),
    (lambda: tc.conv2d(X4, K4, strides=0), ValueError, ["conv2d", "strides", ">= 1"]),
    (lambda: tc.conv2d(X4, K4, strides=(1, -2)), ValueError, ["conv2d", "strides"]),
    (lambda: tc.conv2d(X4, K4, padding="full"), ValueError, ["conv2d", "unknown padding",
                                                             "'full'"]),
    (lambda: tc.conv2d(X4, K4, padding=-1), ValueError, ["conv2d", "padding", ">= 0"]),
    (lambda: tc.conv2d(X4, K4, groups=2), ValueError, ["conv2d", "channels"]),
    (lambda: tc.conv2d(X4.astype(np.int32), K4), TypeError, ["conv2d", "int32"]),
    (lambda: tc.conv1d(X4, K4), ValueError, ["conv1d", "3-D"]),
    # padding whose window positions would overflow the kernels' int64 index arithmetic
    (lambda: tc.conv2d(X4, K4, strides=2**60, padding=2**60), ValueError,
     ["conv2d", "padded input", "exceeds"]),
    (lambda: tc.conv1d(X4[:, 0], K4[0], strides=2**61, padding=((0, 2**61),)), ValueError,
     ["conv1d", "padded input", "exceeds"]),
    (lambda: tc.max_pool2d(X4, 7), ValueError, ["max_pool2d", "pool size (7)", "padded input"]),
    (lambda: tc.max_pool2d(X4, 2, 0), ValueError, ["max_pool2d", "strides"]),
    (lambda: tc.avg_pool2d(X4, 2, padding="causal"), ValueError, ["avg_pool2d", "padding"]),
    (lambda: tc.avg_pool1d(X4, 2), ValueError, ["avg_pool1d", "3-D"]),
    (lambda: tc.global_max_pool2d(X4[0]), ValueError, ["global_max_pool2d", "4-D"]),
])
def test_errors_before_kernels(no_kernels, call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def _gradient_penalty(forward):
    """x, k -> |d sum(tanh(forward(x, k)))/d(x, k)|^2: its gradient needs the backward
    rules themselves to be differentiable (create_graph=True)."""
    def penalty(*inputs):
        grads = tc.autograd.grad(tc.sum(tc.tanh(forward(*inputs))), list(inputs),
                                 create_graph=True)
        return sum(tc.sum(g * g) for g in grads)
    return penalty


@pytest.mark.parametrize("fn", [
    lambda x, k: tc.conv2d(x, k, strides=(2, 1), padding="same", dilation=(1, 2)),
    lambda x, k: tc.conv2d(x, k[:, :, :1], padding=((1, 0), (2, 1)), groups=2),
    lambda x, k: tc.conv1d(x[:, 0], k[0], strides=2, padding="causal"),
])
def test_conv_second_order_gradcheck(backend, fn):
    # The conv backward rules called the kernels on raw arrays and were not recorded, so
    # under create_graph=True every second-order path through a convolution (a gradient
    # penalty on a convnet) was silently missing.
    rng = np.random.default_rng(10)
    assert gradcheck(_gradient_penalty(fn),
                     [rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((2, 3, 2, 4))])


@pytest.mark.parametrize("fn", [
    lambda x: tc.max_pool2d(x * x, 2, 1, "same"),
    lambda x: tc.avg_pool2d(x * x, (3, 2), 2, "same"),
    lambda x: tc.max_pool1d(x[:, 0] * x[:, 0], 3, 2),
])
def test_pool_second_order_gradcheck(backend, fn):
    x = np.random.default_rng(11).standard_normal((2, 4, 5, 3))
    assert gradcheck(_gradient_penalty(fn), [x])
