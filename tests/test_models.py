"""Sequential: building, summary, fit/evaluate/predict, fused loss, input validation."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models, optimizers, utils

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


def _blobs(n=240, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, features)) * 3
    labels = rng.integers(0, classes, n)
    x = (centers[labels] + rng.standard_normal((n, features))).astype(np.float32)
    return x, labels.astype(np.int64)


def _model(classes=3, features=6, activation="softmax"):
    tc.random.seed(0)
    return models.Sequential([layers.Dense(16, activation="relu", input_shape=(features,)),
                              layers.Dense(classes, activation=activation)])


def test_build_summary_and_param_counts(capsys):
    model = _model()
    assert model.built and model.count_params() == 6 * 16 + 16 + 16 * 3 + 3
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 16)" in text and "(None, 3)" in text
    assert "Total params: 163" in text and "Trainable params: 163" in text


def test_unbuilt_model_builds_on_first_call_and_add():
    model = models.Sequential()
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(2))
    assert not model.built
    out = model(np.ones((3, 5), np.float32))
    assert out.shape == (3, 2) and model.built and model.build_input_shape == (None, 5)
    with pytest.raises(TypeError, match="expected a Layer"):
        model.add("dense")


def test_model_call_is_differentiable_for_custom_loops():
    model = _model()
    x, y = _blobs(32)
    optimizer = optimizers.SGD(learning_rate=0.1)
    from tensorcore import losses
    loss_fn = losses.SparseCategoricalCrossentropy()
    first = None
    for _ in range(20):
        loss = loss_fn(y, model(x, training=True))
        grads = tc.autograd.grad(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        first = loss.item() if first is None else first
    assert loss.item() < first


def test_fit_lowers_the_loss_and_returns_history():
    x, y = _blobs()
    model = _model()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "accuracy"} and history.epoch == list(range(8))
    losses = history.history["loss"]
    assert losses[-1] < losses[0] * 0.5
    assert history.history["accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9 and loss < losses[0]
    predictions = model.predict(x, batch_size=50)
    assert predictions.shape == (len(x), 3) and predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    for w in model.weights:
        assert w.dtype == tc.float32


def test_fit_with_categorical_targets_and_all_optimizers():
    x, y = _blobs()
    targets = utils.to_categorical(y, 3)
    for optimizer in ("sgd", "rmsprop", "adam", "adamw"):
        model = _model()
        model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, targets, epochs=3, batch_size=16, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0], optimizer


def test_evaluate_returns_a_float_without_metrics_and_mse_regression():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32)).reshape(-1, 1)
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.01
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = _blobs(100)
    model = _model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seen = []
    original = model.train_step

    def recording_train_step(data):
        seen.append(data[0].copy())
        return original(data)

    model.train_step = recording_train_step
    history = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, verbose=0)
    trained = np.concatenate(seen)
    assert len(trained) == 80
    np.testing.assert_array_equal(np.sort(trained, axis=0), np.sort(x[:80], axis=0))
    model.train_step = original
    val_loss, val_accuracy = model.evaluate(x[80:], y[80:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)
    assert history.history["val_accuracy"][0] == pytest.approx(val_accuracy)


def test_validation_data_logs_and_verbose_lines(capsys):
    x, y = _blobs(64)
    model = _model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, validation_data=(x[:16], y[:16]), verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2 - " in out and "loss: " in out and "val_accuracy: " in out
    model.fit(x, y, epochs=1, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "2/2" in out and "step" in out and "accuracy: " in out


def test_fused_softmax_path_survives_extreme_logits():
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    model.set_weights([np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]], np.float32),
                       np.zeros(3, np.float32)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model._uses_fused_loss()
    x = np.array([[1.0, 0.0], [-1.0, 0.0]], np.float32)
    y = np.eye(3, dtype=np.float32)[[1, 0]]
    loss = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and loss == pytest.approx(2000.0, rel=1e-4)
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_sigmoid_binary_crossentropy_is_fused():
    x, labels = _blobs(120, classes=2)
    model = _model(classes=1, activation="sigmoid")
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    assert model._uses_fused_loss()
    history = model.fit(x, labels.astype(np.float32), epochs=5, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def _compiled():
    model = _model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


X, Y = _blobs(20)


@pytest.mark.parametrize("call,error,message", [
    (lambda m: m.fit(X, Y[:10], verbose=0), ValueError,
     r"same number of samples.*x\.shape=\(20, 6\), y\.shape=\(10,\)"),
    (lambda m: m.fit(X[:, :5], Y, verbose=0), ValueError,
     r"inputs of shape \(num_samples, 6\)\. Received: x\.shape=\(20, 5\)"),
    (lambda m: m.fit(X, Y + 3, verbose=0), ValueError, r"labels in \[0, 2\].*Received"),
    (lambda m: m.fit(X, Y, batch_size=0, verbose=0), ValueError, r"batch_size=0"),
    (lambda m: m.fit(X, Y, batch_size=-4, verbose=0), ValueError, r"batch_size=-4"),
    (lambda m: m.fit(X, Y, validation_split=1.0, verbose=0), ValueError,
     r"validation_split=1\.0"),
    (lambda m: m.fit(X, Y, validation_split=-0.1, verbose=0), ValueError,
     r"validation_split=-0\.1"),
    (lambda m: m.fit(X, Y, epochs=-1, verbose=0), ValueError, r"epochs=-1"),
    (lambda m: m.fit("abc", Y, verbose=0), TypeError, r"x must be a NumPy array"),
    (lambda m: m.fit(X, np.eye(3)[Y], verbose=0), ValueError, r"integer labels of shape"),
    (lambda m: m.fit(X, Y, validation_data=(X[:, :2], Y), verbose=0), ValueError,
     r"x\.shape=\(20, 2\)"),
    (lambda m: m.evaluate(X, Y[:3], verbose=0), ValueError, r"same number of samples"),
    (lambda m: m.evaluate(X, Y, batch_size=0, verbose=0), ValueError, r"batch_size=0"),
    (lambda m: m.predict(X[:, :4]), ValueError, r"Received: x\.shape=\(20, 4\)"),
    (lambda m: m.predict(X, batch_size=0), ValueError, r"batch_size=0"),
    (lambda m: m.predict(np.zeros((0, 6), np.float32)), ValueError, r"x is empty"),
])
def test_bad_inputs_raise_and_leave_the_model_unchanged(call, error, message):
    model = _compiled()
    before = model.get_weights()
    with pytest.raises(error, match=message):
        call(model)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert model.optimizer.iterations == 0


def test_categorical_loss_with_index_labels_hints_to_use_sparse():
    model = _model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(X, Y, verbose=0)


def test_fit_requires_compile():
    with pytest.raises(RuntimeError, match="compile"):
        _model().fit(X, Y, verbose=0)


def test_shuffle_false_is_deterministic():
    results = []
    for _ in range(2):
        model = _compiled()
        model.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
