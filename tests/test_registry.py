"""One registry mechanism (tensorcore/registry.py) behind every kind a saved model names:
built-ins round-trip by name, and a user's class registered with
@tc.saving.register_serializable saves and loads by name, whatever its kind."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import activations, initializers, layers, losses, metrics, models, optimizers
from tensorcore.optimizers import schedules
from tensorcore.registry import Registry

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

KINDS = {"activations": activations, "initializers": initializers, "layers": layers,
         "losses": losses, "metrics": metrics.classes, "optimizers": optimizers,
         "schedules": schedules}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_uses_the_one_registry(kind):
    registry = KINDS[kind].REGISTRY
    assert isinstance(registry, Registry) and registry.names()


@pytest.mark.parametrize("kind", ["initializers", "losses", "optimizers"])
def test_built_ins_round_trip_by_name(kind):
    module = KINDS[kind]
    for name in module.REGISTRY.names():
        instance = module.get(name)
        config = module.serialize(instance)
        assert config["class_name"] == name
        again = module.deserialize(config)
        assert type(again) is type(instance)
        assert module.serialize(again) == config


def test_activations_and_schedules_round_trip():
    for name in activations.REGISTRY.names():
        assert activations.serialize(activations.get(name)) == name
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    again = schedules.deserialize(schedules.serialize(schedule))
    assert type(again) is schedules.ExponentialDecay and again(20) == schedule(20)


@tc.saving.register_serializable(package="test_registry")
class ScaledMSE(losses.Loss):
    """A user loss: scale * mean squared error."""

    def __init__(self, scale: float = 1.0, name: str = "scaled_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return tc.mean(tc.square(y_true - y_pred), axis=-1) * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@tc.saving.register_serializable(package="test_registry")
def shifted_relu(x):
    """A user activation."""
    return tc.relu(x - 0.5)


def test_user_classes_save_and_load_by_name(tmp_path):
    loss = ScaledMSE(scale=3.0)
    config = losses.serialize(loss)
    assert config["class_name"] == "test_registry>ScaledMSE"
    again = losses.deserialize(config)
    assert type(again) is ScaledMSE and again.scale == 3.0
    assert type(losses.get("test_registry>ScaledMSE")) is ScaledMSE
    assert activations.serialize(shifted_relu) == "test_registry>shifted_relu"
    assert activations.get("test_registry>shifted_relu") is shifted_relu
    # a registered class of one kind is not another kind's
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.deserialize(config)
    rng = np.random.default_rng(0)
    x = rng.random((8, 3)).astype(np.float32)
    y = rng.random((8, 2)).astype(np.float32)
    model = models.Sequential([layers.Dense(2, activation=shifted_relu, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=loss)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "model.tcm"
    model.save(path)
    loaded = models.load_model(path)
    assert type(loaded.loss) is ScaledMSE and loaded.loss.scale == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0),
                                                            rel=1e-5)


def test_unregistered_objects_fail_clearly():
    class Unknown(losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    with pytest.raises(ValueError, match="register_serializable"):
        losses.serialize(Unknown())
    with pytest.raises(ValueError, match="Unknown loss in config"):
        losses.deserialize({"class_name": "nope>Nothing", "config": {}})
