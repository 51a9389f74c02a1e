"""Losses vs hand-computed NumPy values; fused softmax/sigmoid crossentropy stability."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import losses

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(0)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_categorical_crossentropy_matches_numpy():
    probs = _softmax(RNG.standard_normal((6, 4))).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]]
    per_sample = losses.categorical_crossentropy(labels, probs).numpy()
    expected = -np.sum(labels * np.log(probs), axis=-1)
    np.testing.assert_allclose(per_sample, expected, rtol=1e-5)
    assert per_sample.dtype == np.float32
    loss = losses.CategoricalCrossentropy()(labels, probs)
    assert loss.shape == () and loss.dtype == tc.float32
    np.testing.assert_allclose(loss.item(), expected.mean(), rtol=1e-5)
    assert losses.get("categorical_crossentropy")(labels, probs).item() == pytest.approx(
        expected.mean(), rel=1e-5)


def test_crossentropy_clips_probabilities_like_keras():
    labels = np.array([[1.0, 0.0]], np.float32)
    probs = np.array([[0.0, 1.0]], np.float32)
    value = losses.categorical_crossentropy(labels, probs).numpy()
    np.testing.assert_allclose(value, [-np.log(1e-7)], rtol=1e-3)


def test_sparse_categorical_crossentropy_matches_categorical():
    probs = _softmax(RNG.standard_normal((5, 3))).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0], np.uint8)
    sparse = losses.sparse_categorical_crossentropy(labels, probs).numpy()
    expected = -np.log(probs[np.arange(5), labels])
    np.testing.assert_allclose(sparse, expected, rtol=1e-5)
    column = losses.sparse_categorical_crossentropy(labels.reshape(5, 1), probs).numpy()
    np.testing.assert_allclose(column, expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        losses.sparse_categorical_crossentropy(np.array([0, 3, 1, 1, 0]), probs)


def test_binary_crossentropy_matches_numpy():
    probs = RNG.uniform(0.05, 0.95, (6, 1)).astype(np.float32)
    labels = np.array([0, 1, 1, 0, 1, 0], np.float32)
    per_sample = losses.binary_crossentropy(labels, probs).numpy()
    p = probs[:, 0]
    expected = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    np.testing.assert_allclose(per_sample, expected, rtol=1e-5)
    logits = np.log(probs / (1 - probs))
    from_logits = losses.BinaryCrossentropy(from_logits=True)(labels, logits).item()
    assert from_logits == pytest.approx(expected.mean(), rel=1e-4)


def test_mse_and_mae_match_numpy_and_aliases():
    y_true = RNG.standard_normal((4, 3)).astype(np.float32)
    y_pred = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(losses.mse(y_true, y_pred).numpy(),
                               ((y_true - y_pred) ** 2).mean(axis=-1), rtol=1e-5)
    np.testing.assert_allclose(losses.mae(y_true, y_pred).numpy(),
                               np.abs(y_true - y_pred).mean(axis=-1), rtol=1e-5)
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("mae"), losses.MeanAbsoluteError)
    assert isinstance(losses.get(losses.mean_squared_error), losses.MeanSquaredError)
    value = losses.MeanSquaredError()(y_true[:, :1], y_pred[:, 0]).item()
    assert value == pytest.approx(((y_true[:, 0] - y_pred[:, 0]) ** 2).mean(), rel=1e-5)


def test_unknown_loss_name_is_rejected():
    with pytest.raises(ValueError, match="Unknown loss: 'hinge_thing'"):
        losses.get("hinge_thing")


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"y_true\.shape=\(2, 3\), y_pred\.shape=\(2, 4\)"):
        losses.categorical_crossentropy(np.zeros((2, 3), np.float32),
                                        np.full((2, 4), 0.25, np.float32))


@pytest.mark.parametrize("scale", [1000.0, -1000.0, 1e30])
def test_fused_softmax_crossentropy_is_finite_at_extreme_logits(scale):
    logits = tc.tensor(np.array([[scale, -scale, 0.0], [0.0, scale, -scale]], np.float32),
                       requires_grad=True)
    labels = tc.tensor(np.array([[0, 1, 0], [0, 1, 0]], np.float32))
    loss = tc.mean(losses.softmax_crossentropy_with_logits(labels, logits))
    (grad,) = tc.autograd.grad(loss, [logits])
    assert np.isfinite(loss.item())
    assert np.all(np.isfinite(grad.numpy())) and grad.dtype == tc.float32


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_fused_sigmoid_crossentropy_is_finite_at_extreme_logits(scale):
    logits = tc.tensor(np.array([[scale], [-scale]], np.float32), requires_grad=True)
    labels = tc.tensor(np.array([[0.0], [1.0]], np.float32))
    loss = tc.mean(losses.sigmoid_crossentropy_with_logits(labels, logits))
    (grad,) = tc.autograd.grad(loss, [logits])
    wrong = scale > 0  # labels 0 and 1 against logits +scale and -scale
    assert loss.item() == pytest.approx(1000.0 if wrong else 0.0, abs=1e-3)
    expected = [[0.5], [-0.5]] if wrong else [[0.0], [0.0]]
    np.testing.assert_allclose(grad.numpy(), expected, atol=1e-6)


def test_fused_softmax_gradient_matches_unfused_composition():
    z = RNG.standard_normal((5, 4)).astype(np.float32) * 2
    labels = np.eye(4, dtype=np.float32)[[0, 3, 1, 2, 2]]
    fused_logits = tc.tensor(z, requires_grad=True)
    fused = tc.mean(losses.softmax_crossentropy_with_logits(tc.tensor(labels), fused_logits))
    (fused_grad,) = tc.autograd.grad(fused, [fused_logits])
    plain_logits = tc.tensor(z, requires_grad=True)
    plain = losses.CategoricalCrossentropy()(labels, tc.softmax(plain_logits, axis=-1))
    (plain_grad,) = tc.autograd.grad(plain, [plain_logits])
    assert fused.item() == pytest.approx(plain.item(), rel=1e-5)
    np.testing.assert_allclose(fused_grad.numpy(), plain_grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fused_grad.numpy(), (_softmax(z) - labels) / 5, rtol=1e-4,
                               atol=1e-6)


def test_fused_sigmoid_gradient_matches_unfused_composition():
    z = RNG.standard_normal((6, 2)).astype(np.float32)
    labels = RNG.integers(0, 2, (6, 2)).astype(np.float32)
    fused_logits = tc.tensor(z, requires_grad=True)
    fused = losses.BinaryCrossentropy(from_logits=True)(labels, fused_logits)
    (fused_grad,) = tc.autograd.grad(fused, [fused_logits])
    plain_logits = tc.tensor(z, requires_grad=True)
    plain = losses.BinaryCrossentropy()(labels, tc.sigmoid(plain_logits))
    (plain_grad,) = tc.autograd.grad(plain, [plain_logits])
    assert fused.item() == pytest.approx(plain.item(), rel=1e-5)
    np.testing.assert_allclose(fused_grad.numpy(), plain_grad.numpy(), rtol=1e-4, atol=1e-6)


def test_loss_can_fuse_only_with_matching_activation_and_probabilities():
    assert losses.CategoricalCrossentropy().can_fuse("softmax")
    assert losses.SparseCategoricalCrossentropy().can_fuse("softmax")
    assert losses.BinaryCrossentropy().can_fuse("sigmoid")
    assert not losses.CategoricalCrossentropy(from_logits=True).can_fuse("softmax")
    assert not losses.CategoricalCrossentropy().can_fuse("sigmoid")
    assert not losses.MeanSquaredError().can_fuse("softmax")


def test_reductions():
    labels = np.array([[1.0], [3.0]], np.float32)
    preds = np.array([[2.0], [5.0]], np.float32)
    assert losses.MeanSquaredError(reduction="sum")(labels, preds).item() == pytest.approx(5.0)
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="none")(labels, preds).numpy(), [1.0, 4.0])
    with pytest.raises(ValueError, match="reduction="):
        losses.MeanSquaredError(reduction="avg")


@pytest.mark.parametrize("loss", [
    losses.MeanSquaredError(), losses.MeanAbsoluteError(),
    losses.CategoricalCrossentropy(from_logits=True), losses.CategoricalCrossentropy(),
    losses.BinaryCrossentropy(from_logits=True), losses.BinaryCrossentropy()])
def test_float64_predictions_keep_float64_loss_and_gradient(loss):
    # Predictions were cast to float32 before the loss, so a float64 model trained on a
    # float32 loss and float32-rounded output gradients (relative error ~1e-8, not 1e-16).
    z = RNG.uniform(0.05, 0.95, size=(5, 3))
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    pred = tc.tensor(z, requires_grad=True)
    value = loss(y, pred)
    assert value.dtype == np.float64
    (grad,) = tc.autograd.grad(value, pred)
    assert grad.dtype == np.float64
    if isinstance(loss, losses.MeanSquaredError):
        np.testing.assert_allclose(value.item(), ((z - y) ** 2).mean(), rtol=1e-14)
        np.testing.assert_allclose(grad.numpy(), 2 * (z - y) / z.size, rtol=1e-13)
    if isinstance(loss, losses.BinaryCrossentropy) and not loss.from_logits:
        expected = -(y * np.log(z) + (1 - y) * np.log(1 - z)).mean()
        np.testing.assert_allclose(value.item(), expected, rtol=1e-13)
        np.testing.assert_allclose(grad.numpy(), (z - y) / (z * (1 - z)) / z.size, rtol=1e-12)


@pytest.mark.parametrize("name", ["categorical", "sparse", "binary"])
def test_fused_crossentropies_have_exact_second_derivatives(name):
    # With create_graph=True (a gradient penalty, a Hessian-vector product) the fused
    # crossentropies' rules returned their saved, constant gradient: the softmax/sigmoid's
    # own derivative was silently missing from every second-order gradient.
    x = RNG.standard_normal((5, 4))
    w = RNG.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 1, 0])
    one_hot = np.eye(3)[labels]
    binary = (RNG.random((5, 3)) > 0.5).astype(np.float64)

    def penalty(composed: bool):
        xt, wt = tc.tensor(x, requires_grad=True), tc.tensor(w, requires_grad=True)
        z = tc.tanh(xt @ wt)
        if name == "binary":
            loss = tc.mean(tc.relu(z) - z * binary + tc.log(1.0 + tc.exp(-tc.abs(z)))) \
                if composed else losses.BinaryCrossentropy(from_logits=True)(binary, z)
        elif composed:
            loss = tc.mean(-tc.sum(tc.tensor(one_hot) * tc.log_softmax(z, axis=-1), axis=-1))
        elif name == "sparse":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)
        else:
            loss = losses.CategoricalCrossentropy(from_logits=True)(one_hot, z)
        (gx,) = tc.autograd.grad(loss, xt, create_graph=True)
        return tc.autograd.grad(tc.sum(gx * gx), [xt, wt])

    for fused, composed in zip(penalty(False), penalty(True)):
        np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-10, atol=1e-12)
