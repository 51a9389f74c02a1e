"""Conv1D/Conv2D, pooling, BatchNormalization, ZeroPadding2D and Reshape layers: Keras
names, shapes and parameter counts, values, training vs inference, save/load, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models
from tensorcore.__main__ import convnet as _convnet   # the chapter-5 listing


def _torch():
    """PyTorch, the oracle of the *_matches_torch tests: only those skip without it, the
    rest of this file runs everywhere."""
    return pytest.importorskip("torch")


def test_chapter5_summary_shapes_and_params():
    model = _convnet()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras: a KxK conv has (K*K*C_in + 1) * filters parameters.
    expected = [("Conv2D", "(None, 26, 26, 32)", (9 * 1 + 1) * 32),
                ("MaxPooling2D", "(None, 13, 13, 32)", 0),
                ("Conv2D", "(None, 11, 11, 64)", (9 * 32 + 1) * 64),
                ("MaxPooling2D", "(None, 5, 5, 64)", 0),
                ("Conv2D", "(None, 3, 3, 64)", (9 * 64 + 1) * 64),
                ("Flatten", "(None, 576)", 0),
                ("Dense", "(None, 64)", 577 * 64),
                ("Dense", "(None, 10)", 65 * 10)]
    rows = [line for line in text.splitlines() if "(" in line and ")" in line and "Model" not in
            line and "params" not in line and "Layer (type)" not in line]
    assert len(rows) == len(expected)
    for row, (cls, shape, params) in zip(rows, expected):
        assert f"({cls})" in row and shape in row and row.rstrip().endswith(f"{params:,}"), row
    assert model.count_params() == sum(p for _, _, p in expected)
    names = [layer.name for layer in model.layers]
    assert names[0].startswith("conv2d") and names[1].startswith("max_pooling2d")


def test_keras_layer_names():
    assert layers.BatchNormalization().name.startswith("batch_normalization")
    assert layers.GlobalAveragePooling2D().name.startswith("global_average_pooling2d")
    assert layers.ZeroPadding2D().name.startswith("zero_padding2d")
    assert layers.Conv1D(2, 3).name.startswith("conv1d")


@pytest.mark.parametrize("activation", ["relu", "linear", "tanh"])
def test_conv2d_layer_matches_op(backend, activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 7, 4)).astype(np.float32)
    layer = layers.Conv2D(6, 3, strides=(2, 1), padding="same", activation=activation,
                          bias_initializer="random_normal")
    xt = tc.tensor(x, requires_grad=True)
    y = layer(xt)
    assert y.shape[1:] == layer.compute_output_shape((None, 8, 7, 4))[1:]
    z = tc.conv2d(x, layer.kernel, (2, 1), "same") + layer.bias
    ref = {"relu": tc.relu, "linear": lambda v: v, "tanh": tc.tanh}[activation](z)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    (y * y).sum().backward()
    k = tc.tensor(layer.kernel.numpy(), requires_grad=True)
    b = tc.tensor(layer.bias.numpy(), requires_grad=True)
    x2 = tc.tensor(x, requires_grad=True)
    z2 = tc.conv2d(x2, k, (2, 1), "same") + b
    y2 = {"relu": tc.relu, "linear": lambda v: v, "tanh": tc.tanh}[activation](z2)
    (y2 * y2).sum().backward()
    for got, want in ((xt.grad, x2.grad), (layer.kernel.grad, k.grad), (layer.bias.grad, b.grad)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-4)


def test_conv1d_and_pooling_layer_shapes(backend):
    x = np.random.default_rng(1).standard_normal((2, 20, 3)).astype(np.float32)
    model = models.Sequential([
        layers.Conv1D(8, 5, padding="causal", dilation_rate=2, activation="relu",
                      input_shape=(20, 3)),
        layers.MaxPooling1D(2), layers.Conv1D(4, 3, strides=2, groups=2),
        layers.AveragePooling1D(2, padding="same"), layers.GlobalMaxPooling1D()])
    shape = (None, 20, 3)
    y = x
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        y = layer(y)
        assert y.shape[1:] == shape[1:], layer.name
    assert model(x).shape == (2, 4)
    x2 = np.random.default_rng(2).standard_normal((2, 9, 9, 3)).astype(np.float32)
    for layer, shape in ((layers.MaxPooling2D(3, 2, "same"), (2, 5, 5, 3)),
                         (layers.AveragePooling2D((2, 3)), (2, 4, 3, 3)),
                         (layers.GlobalAveragePooling2D(), (2, 3)),
                         (layers.GlobalMaxPooling2D(keepdims=True), (2, 1, 1, 3)),
                         (layers.GlobalAveragePooling1D(), None),
                         (layers.ZeroPadding2D(((1, 2), (0, 3))), (2, 12, 12, 3)),
                         (layers.Reshape((-1, 3)), (2, 81, 3))):
        if shape is None:
            assert layer(x2[:, 0]).shape == (2, 3)
            continue
        assert layer(x2).shape == shape
        assert layer.compute_output_shape((None,) + x2.shape[1:]) == (None,) + shape[1:]


def test_zero_padding_values_and_gradient(backend):
    x = tc.tensor(np.arange(12, dtype=np.float32).reshape(1, 2, 3, 2), requires_grad=True)
    y = layers.ZeroPadding2D((1, 2))(x)
    expected = np.pad(x.numpy(), ((0, 0), (1, 1), (2, 2), (0, 0)))
    np.testing.assert_array_equal(y.numpy(), expected)
    (y * tc.tensor(np.arange(y.size, dtype=np.float32).reshape(y.shape))).sum().backward()
    weights = np.arange(y.size, dtype=np.float32).reshape(y.shape)
    np.testing.assert_array_equal(x.grad.numpy(), weights[:, 1:3, 2:5, :])


def test_batch_norm_training_vs_inference(backend):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((8, 4, 5, 3)) * 3 + 2).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.9)
    y = bn(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    inference = bn(x, training=False).numpy()
    np.testing.assert_allclose(inference, (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3),
                               rtol=1e-4, atol=1e-4)
    assert bn.count_params() == 12 and len(bn.trainable_weights) == 2
    assert len(bn.non_trainable_weights) == 2


def test_batch_norm_gradient_matches_torch(backend):
    torch = _torch()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3, 3, 4))
    bn = layers.BatchNormalization(epsilon=1e-5, gamma_initializer="random_normal")
    xt = tc.tensor(x.astype(np.float32), requires_grad=True)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    (bn(xt, training=True) * tc.tensor(gy)).sum().backward()
    xr = torch.tensor(np.moveaxis(x, -1, 1).astype(np.float32), requires_grad=True)
    gamma = torch.tensor(bn.gamma.numpy(), requires_grad=True)
    beta = torch.tensor(bn.beta.numpy(), requires_grad=True)
    yr = torch.nn.functional.batch_norm(xr, None, None, gamma, beta, training=True, eps=1e-5)
    yr.backward(torch.tensor(np.ascontiguousarray(np.moveaxis(gy, -1, 1))))
    np.testing.assert_allclose(xt.grad.numpy(), np.moveaxis(xr.grad.numpy(), 1, -1),
                               rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(bn.gamma.grad.numpy(), gamma.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(bn.beta.grad.numpy(), beta.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_fit_uses_batch_statistics_and_evaluate_moving_ones():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((64, 6, 6, 2)) * 4 + 3).astype(np.float32)
    y = tc.utils.to_categorical(rng.integers(0, 3, 64), 3)
    model = models.Sequential([layers.Conv2D(4, 3, input_shape=(6, 6, 2)),
                               layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    bn = model.layers[1]
    before = bn.moving_mean.numpy().copy()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    moved = bn.moving_mean.numpy().copy()
    assert not np.allclose(moved, before)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moved)   # inference: no update


def test_save_and_load_round_trip(tmp_path, backend):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 10, 10, 3)).astype(np.float32)
    model = models.Sequential([
        layers.ZeroPadding2D(1, input_shape=(10, 10, 3)),
        layers.Conv2D(4, (3, 2), strides=2, dilation_rate=(1, 2), activation="relu",
                      kernel_initializer="he_uniform"),
        layers.BatchNormalization(momentum=0.8), layers.AveragePooling2D(2, padding="same"),
        layers.MaxPooling2D(1), layers.Reshape((-1, 4)), layers.Conv1D(6, 2, groups=2),
        layers.GlobalAveragePooling1D(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, rng.standard_normal((4, 2)).astype(np.float32), epochs=1, verbose=0)
    path = tmp_path / "conv.tcm"
    model.save(path)
    restored = models.load_model(path)
    assert [type(a) for a in restored.layers] == [type(b) for b in model.layers]
    assert restored.layers[1].get_config() == model.layers[1].get_config()
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make, shape, words", [
    (lambda: layers.Conv2D(4, 3), (2, 8, 8), ["conv2d", "rank 4"]),
    (lambda: layers.Conv2D(4, 9), (2, 8, 8, 1), ["larger than the input"]),
    (lambda: layers.MaxPooling2D(3), (2, 2, 2, 1), ["pool_size", "larger"]),
    (lambda: layers.Conv1D(4, 3), (2, 8, 8, 1), ["conv1d", "rank 3"]),
    (lambda: layers.BatchNormalization(axis=5), (2, 3), ["axis=5"]),
    (lambda: layers.Reshape((5, 5)), (2, 3, 3), ["cannot reshape"]),
])
def test_layer_shape_errors(make, shape, words):
    layer = make()
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, np.float32))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("make, words", [
    (lambda: layers.Conv2D(0, 3), ["Conv2D", "filters"]),
    (lambda: layers.Conv2D(4, 3, strides=0), ["Conv2D", "strides"]),
    (lambda: layers.Conv2D(4, (3, -1)), ["Conv2D", "kernel_size"]),
    (lambda: layers.Conv2D(4, 3, padding="causal"), ["Conv2D", "padding"]),
    (lambda: layers.Conv2D(6, 3, groups=4), ["Conv2D", "groups"]),
    (lambda: layers.MaxPooling2D(2, padding="full"), ["MaxPooling2D", "padding"]),
    (lambda: layers.BatchNormalization(momentum=2), ["momentum"]),
    (lambda: layers.ZeroPadding2D(-1), ["ZeroPadding2D"]),
    (lambda: layers.Reshape((-1, -1)), ["Reshape"]),
])
def test_constructor_errors(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_channel_mismatch_after_build():
    layer = layers.Conv2D(4, 3)
    layer(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="expected 2 input channels"):
        layer(np.zeros((1, 5, 5, 3), np.float32))


def _torch_chapter5(torch, weights):
    """The chapter-5 network in PyTorch (NCHW) holding our weights; flattens in NHWC order
    as our Flatten does."""
    nn = torch.nn
    convs = [nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3), nn.Conv2d(64, 64, 3)]
    dense = [nn.Linear(576, 64), nn.Linear(64, 10)]
    with torch.no_grad():
        for module, (kernel, bias) in zip(convs + dense, zip(weights[::2], weights[1::2])):
            k = np.transpose(kernel, (3, 2, 0, 1)) if kernel.ndim == 4 else kernel.T
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(k)))
            module.bias.copy_(torch.from_numpy(bias))
    pool, relu = nn.functional.max_pool2d, nn.functional.relu

    def forward(x):
        x = pool(relu(convs[0](x)), 2)
        x = pool(relu(convs[1](x)), 2)
        x = relu(convs[2](x)).permute(0, 2, 3, 1).flatten(1)
        return dense[1](relu(dense[0](x)))

    params = [p for m in convs + dense for p in (m.weight, m.bias)]
    return forward, params


def _as_ours(params):
    """PyTorch parameters back in our layouts (HWIO kernels, (in, out) Dense kernels)."""
    out = []
    for p in params:
        a = p.detach().numpy()
        out.append(np.transpose(a, (2, 3, 1, 0)) if a.ndim == 4 else a.T if a.ndim == 2 else a)
    return out


def test_chapter5_fit_steps_match_torch(backend):
    """Three model.fit steps of the chapter-5 listing (batches 64, 64 and a partial 32,
    unshuffled) move every weight as the same network in PyTorch does under Keras's RMSprop
    (v = 0.9 v + 0.1 g^2, w -= 1e-3 g / sqrt(v + 1e-7)) and the mean softmax crossentropy:
    checks the conv/pool/dense gradients, the partial-batch mean and the update together."""
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.random((160, 28, 28, 1), dtype=np.float32)
    y = tc.utils.to_categorical(rng.integers(0, 10, 160), 10)
    tc.random.seed(1)
    model = _convnet()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    forward, params = _torch_chapter5(torch, model.get_weights())
    velocity = [torch.zeros_like(p) for p in params]
    losses = []
    for start in range(0, 160, 64):
        xb = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x[start:start + 64], -1, 1)))
        yb = torch.from_numpy(y[start:start + 64])
        loss = -(yb * torch.log_softmax(forward(xb), dim=1)).sum(dim=1).mean()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, v in zip(params, grads, velocity):
                v.mul_(0.9).add_(0.1 * g * g)
                p.sub_(1e-3 * g / torch.sqrt(v + 1e-7))
        losses.append(loss.item() * len(yb))
    history = model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(sum(losses) / 160, rel=1e-4)
    for ours, theirs in zip(model.get_weights(), _as_ours(params)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5)
