"""Bad inputs to the Keras-style library (and Tensor methods not in test_errors.py).

Every entry of CATALOGUE is a call that must raise the listed exception type (ValueError,
TypeError or IndexError; never another type, never a crash) with a message containing the
listed fragments (what was received / what was expected). Every call runs against a shared,
built and compiled model and a few shared tensors; after the call their weights/values (and
the optimizer state) must be unchanged. The number of public names covered is printed by
test_catalogue_coverage (front end names come from tests/test_errors.py's CATALOGUE).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import callbacks, datasets, layers, losses, metrics, models, optimizers, utils
from tensorcore.optimizers import schedules

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4)).astype(np.float32)
Y = RNG.integers(0, 3, size=16)


def _model(compiled: bool = True) -> models.Sequential:
    tc.random.seed(1)
    model = models.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                               layers.Dense(3, activation="softmax")])
    if compiled:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)   # creates optimizer state
    return model


MODEL = _model()
UNCOMPILED = _model(compiled=False)
T = tc.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
READ_ONLY = np.arange(6, dtype=np.float32).reshape(2, 3)
READ_ONLY.flags.writeable = False


def _tmp(name: str) -> str:
    return os.path.join(os.environ.get("PYTEST_TMP", "/tmp"), f"tc_liberr_{os.getpid()}_{name}")


def _bad_file() -> str:
    path = _tmp("garbage.npz")
    with open(path, "wb") as stream:
        stream.write(b"PK\x03\x04 not really a zip")
    return path


def _weights_file() -> str:
    path = _tmp("weights.npz")
    MODEL.save_weights(path)
    return path


def _other_shape_weights() -> str:
    other = models.Sequential([layers.Dense(7, input_shape=(4,))])
    path = _tmp("other.npz")
    other.save_weights(path)
    return path


def _metric_update(metric, y_true, y_pred):
    metric.update_state(y_true, y_pred)


def _apply(opt, grads_and_vars):
    return opt.apply_gradients(grads_and_vars)


def _set_learning_rate(opt, value):
    opt.learning_rate = value


def _scheduled_sgd():
    return optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 2, 0.5))


def _fit_with(callback, model=None):
    return (model or MODEL).fit(X, Y, epochs=1, batch_size=8, verbose=0, callbacks=[callback])


def _scheduled_model():
    model = _model(compiled=False)
    model.compile(optimizer=_scheduled_sgd(), loss="sparse_categorical_crossentropy")
    return model


class _NanSchedule(schedules.LearningRateSchedule):
    def __call__(self, step):
        return float("nan")


# public name -> list of (call, exception type, message fragments)
CATALOGUE = {
    # ---- layers
    "layers.Dense": [
        (lambda: layers.Dense(-3), ValueError, ["units", "-3"]),
        (lambda: layers.Dense(0), ValueError, ["units"]),
        (lambda: layers.Dense("ten"), (TypeError, ValueError), ["units", "ten"]),
        (lambda: layers.Dense(2.5), (TypeError, ValueError), ["units", "2.5"]),
        (lambda: layers.Dense(2 ** 70)(tc.ones((2, 3))), ValueError, ["too large"]),
        (lambda: layers.Dense(3, activation="nope"), ValueError, ["nope"]),
        (lambda: layers.Dense(3, kernel_initializer="nope"), ValueError, ["nope"]),
        (lambda: layers.Dense(3, input_shape=(-1,)), ValueError, ["input_shape"]),
        (lambda: layers.Dense(3, input_shape="abc"), (TypeError, ValueError), ["input_shape"]),
        (lambda: MODEL.layers[0](tc.ones((2, 5))), ValueError, ["4", "5"]),
        (lambda: MODEL.layers[0](np.array(["a", "b"])), TypeError, []),
        (lambda: MODEL.layers[0](np.array([1 + 2j] * 4)), TypeError, ["complex"]),
        (lambda: MODEL.layers[0]([[1.0, 2.0], [3.0]]), ValueError, ["ragged"]),
    ],
    "layers.Activation": [
        (lambda: layers.Activation("nope"), ValueError, ["nope"]),
        (lambda: layers.Activation(3), (TypeError, ValueError), ["3"]),
    ],
    "layers.Dropout": [
        (lambda: layers.Dropout(1.5), ValueError, ["rate", "1.5"]),
        (lambda: layers.Dropout(-0.1), ValueError, ["rate"]),
        (lambda: layers.Dropout(float("nan")), ValueError, ["rate"]),
        (lambda: layers.Dropout("half"), (TypeError, ValueError), ["rate"]),
    ],
    "layers.Flatten": [
        (lambda: layers.Flatten()(object()), TypeError, []),
    ],
    "layers.deserialize": [
        (lambda: layers.deserialize({"class_name": "os.system", "config": {}}), ValueError,
         ["os.system"]),
        (lambda: layers.deserialize("Dense"), ValueError, []),
    ],
    "layers.serialize": [
        (lambda: layers.serialize(type("Custom", (layers.Layer,), {})()), ValueError,
         ["Custom"]),
    ],
    # ---- models
    "models.Sequential": [
        (lambda: models.Sequential([object()]), TypeError, ["object"]),
        (lambda: models.Sequential("dense"), TypeError, []),
    ],
    "Sequential.add": [
        (lambda: models.Sequential().add("Dense"), TypeError, ["Dense"]),
        (lambda: models.Sequential().add(None), TypeError, ["None"]),
    ],
    "Sequential.compile": [
        (lambda: UNCOMPILED.compile(optimizer="nope", loss="mse"), ValueError, ["nope"]),
        (lambda: UNCOMPILED.compile(optimizer="sgd", loss="nope"), ValueError, ["nope"]),
        (lambda: UNCOMPILED.compile(optimizer="sgd"), ValueError, ["loss"]),
        (lambda: UNCOMPILED.compile(optimizer=3, loss="mse"), TypeError, ["optimizer"]),
        (lambda: UNCOMPILED.compile(loss="mse", metrics=["nope"]), ValueError, ["nope"]),
        (lambda: UNCOMPILED.compile(loss="mse", metrics=42), TypeError, ["metrics"]),
    ],
    "Sequential.fit": [
        (lambda: UNCOMPILED.fit(X, Y), (ValueError, RuntimeError), ["compile"]),
        (lambda: MODEL.fit(X, Y, epochs=-1, verbose=0), ValueError, ["epochs", "-1"]),
        (lambda: MODEL.fit(X, Y, batch_size=0, verbose=0), ValueError, ["batch_size"]),
        (lambda: MODEL.fit(X, Y, batch_size=2.5, verbose=0), ValueError, ["batch_size"]),
        (lambda: MODEL.fit(X, Y, verbose=7), ValueError, ["verbose"]),
        (lambda: MODEL.fit(X, Y, validation_split=1.5, verbose=0), ValueError,
         ["validation_split"]),
        (lambda: MODEL.fit(X, Y, shuffle="yes", verbose=0), TypeError, ["shuffle"]),
        (lambda: MODEL.fit(X, Y[:5], verbose=0), ValueError, ["16", "5"]),
        (lambda: MODEL.fit(X[:, :3], Y, verbose=0), ValueError, ["4", "3"]),
        (lambda: MODEL.fit(X.astype(str), Y, verbose=0), TypeError, ["x"]),
        (lambda: MODEL.fit(X.astype(np.complex64), Y, verbose=0), TypeError, ["complex"]),
        (lambda: MODEL.fit([[1.0, 2.0], [1.0]], Y, verbose=0), ValueError, ["x"]),
        (lambda: MODEL.fit(None, Y, verbose=0), ValueError, ["x"]),
        (lambda: MODEL.fit(X[:0], Y[:0], verbose=0), ValueError, ["0"]),
        (lambda: MODEL.fit(X, Y + 10, verbose=0), ValueError, ["3"]),
        (lambda: MODEL.fit(X, -Y - 1, verbose=0), ValueError, []),
        (lambda: MODEL.fit(X, Y, callbacks=["cb"], verbose=0), TypeError, ["Callback"]),
        (lambda: MODEL.fit(X, Y, validation_data=(X,), verbose=0), ValueError,
         ["validation_data"]),
        (lambda: MODEL.fit({"x": X}, Y, verbose=0), TypeError, ["x"]),
    ],
    "Sequential.evaluate": [
        (lambda: MODEL.evaluate(X, Y[:3], verbose=0), ValueError, ["16", "3"]),
        (lambda: MODEL.evaluate(X, Y, batch_size=-2, verbose=0), ValueError, ["batch_size"]),
        (lambda: MODEL.evaluate(X.astype(object), Y, verbose=0), TypeError, ["object"]),
        (lambda: UNCOMPILED.evaluate(X, Y), (ValueError, RuntimeError), ["compile"]),
    ],
    "Sequential.predict": [
        (lambda: MODEL.predict(X[:, :2]), ValueError, ["4", "2"]),
        (lambda: MODEL.predict("data"), TypeError, ["str"]),
        (lambda: MODEL.predict(X, batch_size=0), ValueError, ["batch_size"]),
        (lambda: MODEL.predict(np.zeros((2, 4), np.complex128)), TypeError, ["complex"]),
    ],
    "Sequential.__call__": [
        (lambda: MODEL(tc.ones((3, 7))), ValueError, ["7"]),
        (lambda: MODEL("x"), TypeError, []),
    ],
    "Sequential.set_weights": [
        (lambda: MODEL.set_weights([np.zeros((4, 5))]), ValueError, ["4"]),
        (lambda: MODEL.set_weights([w.T for w in MODEL.get_weights()]), ValueError, []),
        (lambda: MODEL.set_weights([np.zeros(s.shape, np.complex64) for s in
                                    MODEL.get_weights()]), TypeError, ["complex"]),
        (lambda: MODEL.set_weights("abc"), (TypeError, ValueError), ["set_weights"]),
    ],
    "Sequential.save": [
        (lambda: models.Sequential([layers.Dense(2)]).save(_tmp("unbuilt.npz")), ValueError,
         ["weights"]),
        (lambda: MODEL.save(12.5), TypeError, []),
    ],
    "models.load_model": [
        (lambda: models.load_model(_bad_file()), ValueError, ["garbage.npz"]),
        (lambda: models.load_model(_weights_file()), ValueError, ["weights", "model"]),
        (lambda: models.load_model(3.5), TypeError, []),
    ],
    "Sequential.save_weights": [
        (lambda: models.Sequential([layers.Dense(2)]).save_weights(_tmp("u.npz")),
         ValueError, ["weights"]),
    ],
    "Sequential.load_weights": [
        (lambda: MODEL.load_weights(_bad_file()), ValueError, ["garbage.npz"]),
        (lambda: MODEL.load_weights(_other_shape_weights()), ValueError, ["shapes"]),
    ],
    # ---- optimizers
    "optimizers.SGD": [
        (lambda: optimizers.SGD(learning_rate=-1.0), ValueError, ["learning_rate", "-1"]),
        (lambda: optimizers.SGD(learning_rate="fast"), (TypeError, ValueError),
         ["learning_rate"]),
        (lambda: optimizers.SGD(learning_rate=float("nan")), ValueError, ["learning_rate"]),
        (lambda: optimizers.SGD(momentum=1.5), ValueError, ["momentum"]),
        (lambda: optimizers.SGD(momentum=-0.5), ValueError, ["momentum"]),
    ],
    "optimizers.RMSprop": [
        (lambda: optimizers.RMSprop(rho=2.0), ValueError, ["rho"]),
        (lambda: optimizers.RMSprop(epsilon=-1.0), ValueError, ["epsilon"]),
    ],
    "optimizers.Adam": [
        (lambda: optimizers.Adam(beta_1=1.0), ValueError, ["beta_1"]),
        (lambda: optimizers.Adam(beta_2=-0.1), ValueError, ["beta_2"]),
        (lambda: optimizers.Adam(learning_rate=float("inf")), ValueError, ["learning_rate"]),
    ],
    "optimizers.AdamW": [
        (lambda: optimizers.AdamW(weight_decay=-1.0), ValueError, ["weight_decay"]),
    ],
    "Optimizer.apply_gradients": [
        (lambda: _apply(MODEL.optimizer, [(tc.ones((9, 9)), MODEL.trainable_weights[0])]),
         ValueError, ["(9, 9)", "(4, 5)"]),
        (lambda: _apply(MODEL.optimizer, [("grad", MODEL.trainable_weights[0])]),
         (TypeError, ValueError), ["apply_gradients"]),
        (lambda: _apply(MODEL.optimizer, [(tc.ones((4, 5)), "var")]), TypeError, []),
        (lambda: _apply(MODEL.optimizer, [(tc.ones((4, 5)), MODEL.trainable_weights[0]),
                                          (tc.ones((2,)), MODEL.trainable_weights[1])]),
         ValueError, []),
        (lambda: _apply(MODEL.optimizer, 5), TypeError, []),
    ],
    "optimizers.get": [
        (lambda: optimizers.get("nope"), ValueError, ["nope"]),
        (lambda: optimizers.get(1.0), TypeError, ["optimizer"]),
        (lambda: optimizers.get({"class_name": "evil", "config": {}}), ValueError, ["evil"]),
    ],
    "optimizers.deserialize": [
        (lambda: optimizers.deserialize({"class_name": "evil"}), ValueError, ["evil"]),
        (lambda: optimizers.deserialize({"class_name": "sgd", "config": {
            "learning_rate": {"class_name": "os.system", "config": {}}}}), ValueError,
         ["os.system"]),
    ],
    "Optimizer.learning_rate": [
        (lambda: _set_learning_rate(MODEL.optimizer, -0.5), ValueError,
         ["Adam", "learning_rate", "-0.5"]),
        (lambda: _set_learning_rate(MODEL.optimizer, "fast"), TypeError,
         ["Adam", "learning_rate", "fast", "LearningRateSchedule"]),
        (lambda: _set_learning_rate(MODEL.optimizer, float("inf")), ValueError,
         ["learning_rate", "inf"]),
        (lambda: _set_learning_rate(_scheduled_sgd(), 0.01), TypeError,
         ["SGD", "ExponentialDecay", "learning_rate=0.01"]),
        (lambda: optimizers.SGD(learning_rate=[0.1]), TypeError, ["learning_rate", "[0.1]"]),
        (lambda: optimizers.SGD(learning_rate=_NanSchedule()).apply_gradients(
            [(tc.ones((2, 3)), tc.zeros((2, 3)))]), ValueError, ["_NanSchedule", "nan"]),
    ],
    "Optimizer.from_config": [
        (lambda: optimizers.Adam.from_config("adam"), TypeError, ["Adam", "config"]),
        (lambda: optimizers.Adam.from_config({"learning_rate": {"class_name": "evil"}}),
         ValueError, ["evil"]),
    ],
    # ---- learning-rate schedules
    "optimizers.schedules.LearningRateSchedule": [
        (lambda: schedules.LearningRateSchedule.from_config("x"), TypeError,
         ["LearningRateSchedule", "config"]),
    ],
    "optimizers.schedules.ExponentialDecay": [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError,
         ["ExponentialDecay: decay_steps must be a positive integer. Received: decay_steps=0"]),
        (lambda: schedules.ExponentialDecay(0.1, "10", 0.5), TypeError,
         ["ExponentialDecay", "decay_steps", "'10'"]),
        (lambda: schedules.ExponentialDecay(-1, 10, 0.5), ValueError,
         ["ExponentialDecay", "initial_learning_rate", "-1"]),
        (lambda: schedules.ExponentialDecay(0.1, 10, -0.5), ValueError,
         ["ExponentialDecay", "decay_rate", "-0.5"]),
        (lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase=None), TypeError,
         ["ExponentialDecay", "staircase", "None"]),
        (lambda: schedules.ExponentialDecay(0.1, 10, 0.5)(-2), ValueError,
         ["ExponentialDecay", "step", "-2"]),
    ],
    "optimizers.schedules.InverseTimeDecay": [
        (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), ValueError,
         ["InverseTimeDecay", "decay_steps", "0"]),
        (lambda: schedules.InverseTimeDecay(0.1, 10, float("inf")), ValueError,
         ["InverseTimeDecay", "decay_rate", "inf"]),
        (lambda: schedules.InverseTimeDecay(0.1, 10, 0.5)(None), TypeError,
         ["InverseTimeDecay", "step", "None"]),
    ],
    "optimizers.schedules.PiecewiseConstantDecay": [
        (lambda: schedules.PiecewiseConstantDecay([10], [0.1]), ValueError,
         ["PiecewiseConstantDecay", "values", "len(values)=1"]),
        (lambda: schedules.PiecewiseConstantDecay([10, 10], [0.1, 0.2, 0.3]), ValueError,
         ["PiecewiseConstantDecay", "boundaries", "increasing"]),
        (lambda: schedules.PiecewiseConstantDecay("10", [0.1, 0.2]), TypeError,
         ["PiecewiseConstantDecay", "boundaries", "'10'"]),
        (lambda: schedules.PiecewiseConstantDecay([10], [0.1, float("nan")]), ValueError,
         ["PiecewiseConstantDecay", "values[1]", "nan"]),
    ],
    "optimizers.schedules.PolynomialDecay": [
        (lambda: schedules.PolynomialDecay(0.1, -5), ValueError,
         ["PolynomialDecay", "decay_steps", "-5"]),
        (lambda: schedules.PolynomialDecay(0.1, 5, power=-1.0), ValueError,
         ["PolynomialDecay", "power", "-1.0"]),
        (lambda: schedules.PolynomialDecay(0.1, 5, end_learning_rate="low"), TypeError,
         ["PolynomialDecay", "end_learning_rate", "'low'"]),
        (lambda: schedules.PolynomialDecay(0.1, 5, cycle="no"), TypeError,
         ["PolynomialDecay", "cycle", "'no'"]),
    ],
    "optimizers.schedules.CosineDecay": [
        (lambda: schedules.CosineDecay(0.1, 0), ValueError, ["CosineDecay", "decay_steps"]),
        (lambda: schedules.CosineDecay(0.1, 5, alpha=-0.1), ValueError,
         ["CosineDecay", "alpha", "-0.1"]),
        (lambda: schedules.CosineDecay(0.1, 5, warmup_target="x"), TypeError,
         ["CosineDecay", "warmup_target", "'x'"]),
        (lambda: schedules.CosineDecay(0.1, 5, warmup_steps=2.0), TypeError,
         ["CosineDecay", "warmup_steps", "2.0"]),
    ],
    "optimizers.schedules.serialize": [
        (lambda: schedules.serialize(0.1), TypeError, ["schedule", "0.1"]),
        (lambda: schedules.serialize(_NanSchedule()), ValueError, ["_NanSchedule"]),
    ],
    "optimizers.schedules.deserialize": [
        (lambda: schedules.deserialize({"class_name": "os.system", "config": {}}), ValueError,
         ["os.system"]),
        (lambda: schedules.deserialize({"class_name": "CosineDecay", "config": {
            "initial_learning_rate": 0.1, "decay_steps": 5, "code": "x"}}), ValueError,
         ["CosineDecay", "code"]),
        (lambda: schedules.deserialize({"class_name": "CosineDecay", "config": {
            "initial_learning_rate": 0.1, "decay_steps": 0}}), ValueError,
         ["CosineDecay", "decay_steps"]),
        (lambda: schedules.deserialize(["CosineDecay"]), TypeError, ["config"]),
    ],
    # ---- losses
    "losses.get": [
        (lambda: losses.get("nope"), ValueError, ["nope"]),
        (lambda: losses.get(42), TypeError, []),
    ],
    "losses.categorical_crossentropy": [
        (lambda: losses.categorical_crossentropy(tc.ones((2, 3)), tc.ones((2, 4))), ValueError,
         ["(2, 3)", "(2, 4)"]),
        (lambda: losses.categorical_crossentropy("a", tc.ones((2, 3))), TypeError, []),
    ],
    "losses.sparse_categorical_crossentropy": [
        (lambda: losses.sparse_categorical_crossentropy(tc.tensor([0, 5]), tc.ones((2, 3))),
         ValueError, ["5"]),
        (lambda: losses.sparse_categorical_crossentropy(tc.tensor([0, 1, 2]),
                                                        tc.ones((2, 3))), ValueError, []),
        (lambda: losses.sparse_categorical_crossentropy(tc.tensor([0.5, 1.0]),
                                                        tc.ones((2, 3))), (TypeError, ValueError),
         []),
    ],
    "losses.binary_crossentropy": [
        (lambda: losses.binary_crossentropy(tc.ones((2, 1)), tc.ones((3, 1))), ValueError, []),
    ],
    "losses.mean_squared_error": [
        (lambda: losses.mean_squared_error(tc.ones((2, 3)), tc.ones((2, 4))), ValueError, []),
        (lambda: losses.mse(tc.ones((2, 3)), object()), TypeError, []),
    ],
    "losses.mean_absolute_error": [
        (lambda: losses.mean_absolute_error(tc.ones((5,)), tc.ones((4,))), ValueError, []),
    ],
    "losses.CategoricalCrossentropy": [
        (lambda: losses.CategoricalCrossentropy()(tc.ones((2, 3)), tc.ones((3, 3))),
         ValueError, []),
    ],
    "losses.SparseCategoricalCrossentropy": [
        (lambda: losses.SparseCategoricalCrossentropy()(tc.tensor([3, 0]), tc.ones((2, 3))),
         ValueError, ["3"]),
    ],
    "losses.BinaryCrossentropy": [
        (lambda: losses.BinaryCrossentropy()(tc.ones((2,)), tc.ones((3,))), ValueError, []),
    ],
    "losses.MeanSquaredError": [
        (lambda: losses.MeanSquaredError()(tc.ones((2,)), tc.ones((3,))), ValueError, []),
    ],
    "losses.MeanAbsoluteError": [
        (lambda: losses.MeanAbsoluteError()(tc.ones((2,)), "x"), TypeError, []),
    ],
    "losses.deserialize": [
        (lambda: losses.deserialize({"class_name": "evil"}), ValueError, ["evil"]),
    ],
    # ---- metrics
    "metrics.get": [
        (lambda: metrics.get("nope"), ValueError, ["nope"]),
        (lambda: metrics.get(3.5), TypeError, []),
    ],
    "metrics.SparseCategoricalAccuracy": [
        (lambda: _metric_update(metrics.SparseCategoricalAccuracy(), np.array([0, 1]),
                                np.ones((3, 3))), ValueError, []),
        (lambda: _metric_update(metrics.SparseCategoricalAccuracy(), "ab", np.ones((2, 3))),
         TypeError, []),
    ],
    "metrics.CategoricalAccuracy": [
        (lambda: _metric_update(metrics.CategoricalAccuracy(), np.ones((3, 3)),
                                np.ones((2, 3))), ValueError, []),
    ],
    "metrics.BinaryAccuracy": [
        (lambda: _metric_update(metrics.BinaryAccuracy(), np.ones(2), np.ones(3)), ValueError,
         []),
    ],
    "metrics.MeanAbsoluteError": [
        (lambda: _metric_update(metrics.MeanAbsoluteError(), np.ones(2), np.ones(3)),
         ValueError, []),
    ],
    "metrics.MeanSquaredError": [
        (lambda: _metric_update(metrics.MeanSquaredError(), np.ones((2, 2)), np.ones(3)),
         ValueError, []),
    ],
    "metrics.Mean": [
        (lambda: metrics.Mean().update_state("abc"), (TypeError, ValueError), []),
    ],
    "metrics.sparse_categorical_accuracy": [
        (lambda: metrics.sparse_categorical_accuracy(np.array([0, 1, 2]), np.ones((2, 3))),
         ValueError, []),
    ],
    "metrics.categorical_accuracy": [
        (lambda: metrics.categorical_accuracy(np.ones((2, 3)), np.ones((4, 3))), ValueError,
         []),
    ],
    "metrics.binary_accuracy": [
        (lambda: metrics.binary_accuracy(np.ones((2, 3)), np.ones((4, 3))), ValueError, []),
    ],
    # ---- callbacks
    "callbacks.EarlyStopping": [
        (lambda: callbacks.EarlyStopping(patience=-1), ValueError, ["patience", "-1"]),
        (lambda: callbacks.EarlyStopping(patience="3"), (TypeError, ValueError), ["patience"]),
        (lambda: callbacks.EarlyStopping(mode="sideways"), ValueError, ["mode"]),
    ],
    "callbacks.LearningRateScheduler": [
        (lambda: callbacks.LearningRateScheduler("step"), TypeError,
         ["LearningRateScheduler", "schedule", "'step'"]),
        (lambda: callbacks.LearningRateScheduler(lambda: 0.1), TypeError,
         ["LearningRateScheduler", "schedule"]),
        (lambda: callbacks.LearningRateScheduler(lambda e: 0.1, verbose=-1), ValueError,
         ["LearningRateScheduler", "verbose", "-1"]),
        (lambda: _fit_with(callbacks.LearningRateScheduler(lambda e, lr: -lr)), ValueError,
         ["LearningRateScheduler", "-0.001"]),
        (lambda: _fit_with(callbacks.LearningRateScheduler(lambda e: "0.1")), ValueError,
         ["LearningRateScheduler", "'0.1'"]),
        (lambda: _fit_with(callbacks.LearningRateScheduler(lambda e: 0.1), _scheduled_model()),
         TypeError, ["LearningRateScheduler", "ExponentialDecay"]),
    ],
    "callbacks.ReduceLROnPlateau": [
        (lambda: callbacks.ReduceLROnPlateau(factor=1.0), ValueError,
         ["ReduceLROnPlateau", "factor", "1.0"]),
        (lambda: callbacks.ReduceLROnPlateau(factor=None), TypeError,
         ["ReduceLROnPlateau", "factor", "None"]),
        (lambda: callbacks.ReduceLROnPlateau(patience=-2), ValueError,
         ["ReduceLROnPlateau", "patience", "-2"]),
        (lambda: callbacks.ReduceLROnPlateau(cooldown="1"), ValueError,
         ["ReduceLROnPlateau", "cooldown", "'1'"]),
        (lambda: callbacks.ReduceLROnPlateau(min_lr=-0.1), ValueError,
         ["ReduceLROnPlateau", "min_lr", "-0.1"]),
        (lambda: callbacks.ReduceLROnPlateau(min_delta="small"), ValueError,
         ["ReduceLROnPlateau", "min_delta", "small"]),
        (lambda: callbacks.ReduceLROnPlateau(mode="up"), ValueError,
         ["ReduceLROnPlateau", "mode", "up"]),
        (lambda: callbacks.ReduceLROnPlateau(monitor=None), TypeError,
         ["ReduceLROnPlateau", "monitor", "None"]),
        (lambda: _fit_with(callbacks.ReduceLROnPlateau(), _scheduled_model()), TypeError,
         ["ReduceLROnPlateau", "ExponentialDecay"]),
    ],
    "callbacks.ModelCheckpoint": [
        (lambda: callbacks.ModelCheckpoint(42), TypeError, ["filepath"]),
        (lambda: callbacks.ModelCheckpoint(""), ValueError, ["filepath"]),
    ],
    # ---- datasets, utils
    "datasets.mnist.load_data": [
        (lambda: datasets.mnist.load_data(path=_bad_file()), ValueError, ["garbage.npz"]),
        (lambda: datasets.mnist.load_data(path=_weights_file()), ValueError, []),
        (lambda: datasets.mnist.load_data(path=42), TypeError, []),
    ],
    "utils.to_categorical": [
        (lambda: utils.to_categorical([0, 3], num_classes=2), ValueError, ["3", "2"]),
        (lambda: utils.to_categorical([0, -1]), ValueError, ["-1"]),
        (lambda: utils.to_categorical([0.5, 1.0]), TypeError, []),
        (lambda: utils.to_categorical(["a", "b"]), TypeError, []),
        (lambda: utils.to_categorical([0, 1], num_classes=-2), ValueError, ["num_classes"]),
        (lambda: utils.to_categorical([0, 1], num_classes=2 ** 62), ValueError,
         ["num_classes"]),
        (lambda: utils.to_categorical([[0, 1], [1]]), ValueError, []),
        (lambda: utils.to_categorical([np.nan, 1.0]), (TypeError, ValueError), []),
        (lambda: utils.to_categorical([0, 1], num_classes=1.5), (TypeError, ValueError),
         ["num_classes"]),
    ],
    # ---- Tensor methods not in tests/test_errors.py
    "Tensor.item": [(lambda: T.item(), ValueError, ["item"])],
    "Tensor.backward": [
        (lambda: (T * 2).backward(), (ValueError, RuntimeError), ["grad"]),
        (lambda: (T * 2).backward(grad=tc.ones((5,))), ValueError, ["(5,)", "(2, 3)"]),
        (lambda: tc.ones(3).sum().backward(), (ValueError, RuntimeError), []),
    ],
    "Tensor.astype": [
        (lambda: T.astype("complex64"), TypeError, ["complex64"]),
        (lambda: T.astype("nope"), TypeError, ["nope"]),
    ],
    "Tensor.assign": [
        (lambda: tc.ones((2, 3)).assign(tc.ones((3, 2))), ValueError, ["(3, 2)", "(2, 3)"]),
        (lambda: tc.from_numpy(READ_ONLY).assign(tc.zeros((2, 3))), ValueError,
         ["read-only"]),
        (lambda: tc.from_numpy(READ_ONLY).assign_add(tc.ones((2, 3))), ValueError,
         ["read-only"]),
    ],
    "Tensor.__setitem__": [
        (lambda: T.__setitem__((0, 0), 5.0), (ValueError, RuntimeError), []),
        (lambda: tc.ones((2, 3)).__setitem__(5, 1.0), IndexError, ["5"]),
        (lambda: tc.ones((2, 3)).__setitem__(0, tc.ones(4)), ValueError, ["(4,)"]),
        (lambda: tc.from_numpy(READ_ONLY).__setitem__(0, 1.0), ValueError, ["read-only"]),
    ],
    "Tensor.__getitem__": [
        (lambda: T[2], IndexError, ["2"]),
        (lambda: T[0, 0, 0], IndexError, []),
        (lambda: T["a"], (TypeError, IndexError), []),
        (lambda: T[tc.tensor([0, 7])], IndexError, ["7"]),
        (lambda: T[1.5], (TypeError, IndexError), []),
    ],
    "Tensor.__len__": [(lambda: len(tc.tensor(3.0)), TypeError, ["0-d"])],
    "Tensor.__bool__": [(lambda: bool(T), ValueError, ["ambiguous"])],
    "Tensor.__float__": [(lambda: float(T), (TypeError, ValueError), [])],
    "Tensor.__index__": [(lambda: [1, 2][tc.tensor(1.0)], TypeError, [])],
    "Tensor.reshape": [(lambda: T.reshape(4, 2), ValueError, ["(2, 3)", "(4, 2)"]),
                       (lambda: T.reshape(-1, -1), ValueError, ["-1"])],
    "Tensor.requires_grad_": [(lambda: tc.tensor([1, 2]).requires_grad_(True), TypeError,
                               ["int64"])],
}


def _state():
    """Every weight, optimizer slot and shared tensor value, copied."""
    arrays = MODEL.get_weights() + UNCOMPILED.get_weights()
    arrays += list(MODEL.optimizer.get_state(MODEL.trainable_weights).values())
    arrays += [T.data.copy(), READ_ONLY.copy()]
    grads = None if T.grad is None else T.grad.data.copy()
    return arrays, grads, MODEL.optimizer.iterations if hasattr(MODEL.optimizer,
                                                                 "iterations") else None


CASES = [(name, i, *case) for name, cases in CATALOGUE.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("name,index,call,exc,fragments", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_input_raises_and_changes_nothing(name, index, call, exc, fragments, tmp_path,
                                              monkeypatch):
    """The call raises `exc` naming what it got, and leaves models and tensors untouched."""
    monkeypatch.setenv("PYTEST_TMP", str(tmp_path))
    before, grads_before, iterations = _state()
    with pytest.raises(exc) as caught:
        call()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), (name, message, fragment)
    after, grads_after, iterations_after = _state()
    assert len(before) == len(after)
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new, err_msg=f"{name} changed state")
    if grads_before is None:
        assert grads_after is None, f"{name} created a gradient"
    else:
        np.testing.assert_array_equal(grads_before, grads_after)
    assert iterations == iterations_after, f"{name} advanced the optimizer"
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert not leftovers, leftovers


def test_read_only_inputs_are_never_written(backend):
    """Ops, training and prediction only read read-only (and broadcast) input arrays."""
    x = X.copy()
    x.flags.writeable = False
    y = Y.copy()
    y.flags.writeable = False
    model = _model(compiled=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.predict(x)
    model.evaluate(x, y, verbose=0)
    t = tc.from_numpy(x)
    for result in (t + 1, tc.exp(t), t.sum(axis=0), t @ t.T, tc.softmax(t), t.reshape(-1),
                   tc.clip(t, -1, 1), tc.where(t > 0, t, -t)):
        assert isinstance(result, tc.Tensor)
    broadcast = tc.from_numpy(np.broadcast_to(np.float32(2.0), (3, 4)))
    np.testing.assert_array_equal((broadcast * 2).numpy(), np.full((3, 4), 4, np.float32))
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)


def test_in_place_ops_with_aliasing_outputs(backend):
    """In-place updates whose value aliases the target give the copy-first (NumPy) result."""
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tc.tensor(base)
    t.assign(t.T.T)                         # exactly the same view
    np.testing.assert_array_equal(t.numpy(), base)
    sq = tc.tensor(np.arange(9, dtype=np.float32).reshape(3, 3))
    expected = np.arange(9, dtype=np.float32).reshape(3, 3)
    expected = expected + expected.T.copy()
    sq.assign_add(sq.T)                     # a transposed view of the target itself
    np.testing.assert_array_equal(sq.numpy(), expected)
    row = tc.tensor(np.arange(5, dtype=np.float64))
    ref = np.arange(5, dtype=np.float64)
    ref[1:] = ref[:-1].copy()
    row[1:] = row[:-1]                      # overlapping shifted slices
    np.testing.assert_array_equal(row.numpy(), ref)


def _resolve(dotted: str):
    """The public object a catalogue key names (``losses.get``, ``Sequential.fit``, ...)."""
    roots = [tc, tc.Tensor, tc.models, tc.optimizers, tc.layers, tc.losses, tc.metrics,
             tc.callbacks]
    for root in roots:
        obj = root
        try:
            for part in dotted.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    return None


def test_catalogue_names_exist_and_have_cases():
    """Every key of the two bad-input catalogues names a public object that exists (a renamed
    or removed function fails here instead of leaving a stale entry), and has a case."""
    import test_errors
    for catalogue in (test_errors.CATALOGUE, CATALOGUE):
        for name, cases in catalogue.items():
            assert cases, f"catalogue entry {name!r} has no case"
            assert _resolve(name) is not None, f"catalogue entry {name!r} names nothing public"
