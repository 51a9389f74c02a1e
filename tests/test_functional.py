"""Functional API, subclassed models, nesting and freezing, save/load of each."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


def _two_input_model():
    a, b = tc.Input((4,), name="a"), tc.Input((3,), name="b")
    shared = layers.Dense(5, activation="relu", name="shared")
    joined = layers.Concatenate(name="join")([shared(layers.Dense(3, name="pa")(a)), shared(b)])
    cls = layers.Dense(3, activation="softmax", name="cls")(joined)
    reg = layers.Dense(1, name="reg")(joined)
    return models.Model([a, b], [cls, reg], name="two_in")


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(n, 4)).astype(np.float32)
    xb = rng.normal(size=(n, 3)).astype(np.float32)
    y_cls = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0.5)
    y_reg = (xa[:, :1] + xb[:, 1:2]).astype(np.float32)
    return xa, xb, y_cls, y_reg


def test_two_input_functional_trains_saves_loads(tmp_path, capsys):
    tc.random.seed(0)
    model = _two_input_model()
    assert len(model.layers[2].weights) == 2 and model.count_params() == 15 + 20 + 33 + 11
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    xa, xb, y_cls, y_reg = _data()
    history = model.fit([xa, xb], [y_cls, y_reg], epochs=15, batch_size=16, verbose=0)
    h = history.history
    assert h["loss"][-1] < h["loss"][0]
    # the total is cls_loss + 0.5 * reg_loss (per batch, so also for the epoch means)
    assert h["loss"][-1] == pytest.approx(h["cls_loss"][-1] + 0.5 * h["reg_loss"][-1], rel=1e-4)
    model.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and "shared[0], shared[1]" in text
    path = tmp_path / "two.tcm"
    model.save(path)
    loaded = models.load_model(path)
    for before, after in zip(model.predict([xa, xb]), loaded.predict({"a": xa, "b": xb})):
        np.testing.assert_array_equal(before, after)
    assert loaded.evaluate([xa, xb], [y_cls, y_reg], verbose=0) == \
        pytest.approx(model.evaluate([xa, xb], [y_cls, y_reg], verbose=0), rel=1e-6)
    # compiled, with the optimizer's state restored: one more epoch keeps them identical
    for trained in (model, loaded):
        trained.fit([xa, xb], [y_cls, y_reg], epochs=1, batch_size=16, shuffle=False, verbose=0)
    for before, after in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(before, after)


@tc.saving.register_serializable(package="tests")
class Residual(models.Model):
    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units, activation="relu")
        self.skip = layers.Dense(units)
        self.head = layers.Dense(2, activation="softmax")

    def call(self, x, training=False):
        return self.head(self.inner(x) + self.skip(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_trains_saves_loads(tmp_path):
    tc.random.seed(1)
    xa, _, y_cls, _ = _data(96)
    y = (y_cls > 0).astype(np.int64)
    model = Residual(units=6)
    model.compile("rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(xa, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    assert [layer.name for layer in model.layers][:1] and len(model.trainable_weights) == 6
    path = tmp_path / "sub.tcm"
    model.save(path)
    loaded = models.load_model(path)
    assert isinstance(loaded, Residual) and loaded.units == 6
    np.testing.assert_array_equal(model.predict(xa), loaded.predict(xa))
    for trained in (model, loaded):
        trained.fit(xa, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_array_equal(model.predict(xa), loaded.predict(xa))


class Unregistered(models.Model):
    def __init__(self):
        super().__init__()
        self.d = layers.Dense(2)

    def call(self, x):
        return self.d(x)


def test_unregistered_subclass_refuses_save_but_saves_weights(tmp_path):
    model = Unregistered()
    model.compile("sgd", loss="mse")
    model.predict(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="register_serializable"):
        model.save(tmp_path / "x.tcm")
    model.save_weights(tmp_path / "w.tcm")
    other = Unregistered()
    other.predict(np.zeros((1, 3), np.float32))
    other.load_weights(tmp_path / "w.tcm")
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_nested_sequential_freezes_and_saves(tmp_path):
    tc.random.seed(2)
    base = models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                              layers.Dense(4, activation="relu")], name="base")
    inputs = tc.Input((4,))
    outputs = layers.Dense(2, activation="softmax", name="top")(base(inputs))
    model = models.Model(inputs, outputs)
    base.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    frozen = base.get_weights()
    model.compile("adam", loss="sparse_categorical_crossentropy")
    xa, _, y, _ = _data(32)
    top_before = model.get_layer("top").get_weights()
    model.fit(xa, (y > 0).astype(np.int64), epochs=2, verbose=0)
    for a, b in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(top_before[0], model.get_layer("top").get_weights()[0])
    # A Sequential inside a Sequential, get/set_weights through the nesting.
    outer = models.Sequential([base, layers.Dense(3)])
    outer.predict(xa)
    outer.set_weights([w * 0 for w in outer.get_weights()])
    assert all(not w.any() for w in base.get_weights())
    model.save(tmp_path / "nested.tcm")
    loaded = models.load_model(tmp_path / "nested.tcm")
    assert not loaded.get_layer("base").trainable
    np.testing.assert_array_equal(loaded.predict(xa), model.predict(xa))


def test_functional_bad_inputs():
    model = _two_input_model()
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="expects shape"):
        model.predict([np.ones((3, 5), np.float32), np.ones((3, 3), np.float32)])
    with pytest.raises(TypeError, match="symbolic"):
        models.Model(np.ones((2, 2)), tc.Input((2,)))
    with pytest.raises(ValueError, match="Concatenate"):
        layers.Concatenate()([tc.Input((2, 3)), tc.Input((4, 5))])


class AbsErrorReporter(models.Model):
    """Overrides test_step (own metric) and predict_step (scaled outputs)."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.abs_error = tc.metrics.Mean(name="abs_error")

    def call(self, x):
        return self.dense(x)

    @property
    def metrics(self):
        return [*super().metrics, self.abs_error]

    def test_step(self, data):
        x, y, _ = tc.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x)
        self.compute_loss(x, y, y_pred)
        self.abs_error.update_state(float(tc.mean(tc.abs(y_pred - y)).item()),
                                    sample_weight=len(x))
        return self.get_metrics_result()

    def predict_step(self, data):
        x, _, _ = tc.utils.unpack_x_y_sample_weight(data)
        return self(x) * 2.0


def test_overridden_test_step_and_predict_step_drive_evaluate_fit_and_predict():
    tc.random.seed(6)
    xa, xb, _, y = _data(40)
    model = AbsErrorReporter()
    model.compile(tc.optimizers.SGD(learning_rate=0.0), loss="mse")
    doubled = model.predict(xa, batch_size=16)
    outputs = model(xa).numpy()
    np.testing.assert_array_equal(doubled, outputs * 2.0)
    logs = model.evaluate(xa, y, batch_size=16, return_dict=True, verbose=0)
    assert logs["abs_error"] == pytest.approx(float(np.abs(outputs - y).mean()), rel=1e-5)
    assert logs["loss"] == pytest.approx(float(((outputs - y) ** 2).mean()), rel=1e-5)
    history = model.fit(xa, y, validation_data=(xa, y), epochs=1, verbose=0)
    assert history.history["val_abs_error"][0] == pytest.approx(logs["abs_error"], rel=1e-6)
