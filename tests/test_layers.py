"""Layers: shapes, parameter counts, initializers, activations, Dropout, config."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import activations, initializers, layers, models

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


def test_dense_builds_on_first_call_with_keras_shapes():
    layer = layers.Dense(5, activation="relu")
    assert not layer.built and layer.weights == []
    out = layer(np.ones((3, 4), np.float32))
    assert layer.built
    assert out.shape == (3, 5) and out.dtype == tc.float32
    assert layer.kernel.shape == (4, 5) and layer.bias.shape == (5,)
    assert layer.count_params() == 4 * 5 + 5
    assert [w.shape for w in layer.trainable_weights] == [(4, 5), (5,)]
    assert layer.weight_names == [f"{layer.name}/kernel", f"{layer.name}/bias"]


def test_dense_math_matches_numpy():
    tc.random.seed(0)
    layer = layers.Dense(3, activation="sigmoid")
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    expected = 1 / (1 + np.exp(-(x @ kernel + bias)))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_dense_without_bias_and_on_3d_inputs():
    layer = layers.Dense(2, use_bias=False)
    out = layer(np.ones((2, 3, 4), np.float32))
    assert out.shape == (2, 3, 2)
    assert layer.count_params() == 8 and layer.bias is None


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
def test_dense_rejects_bad_units_keras_style(units):
    with pytest.raises(ValueError, match=r"Dense: units must be a positive int\. Received: units="):
        layers.Dense(units)


def test_dense_rejects_wrong_feature_count_after_build():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="last dimension 3"):
        layer(np.ones((1, 4), np.float32))


def test_get_and_set_weights_round_trip_and_validate():
    layer = layers.Dense(2, input_shape=(3,))
    layer(np.zeros((1, 3), np.float32))
    new = [np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, 2.0], np.float32)]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="expected a list of 2"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        layer.set_weights([new[0].T, new[1]])


def test_activation_flatten_layers():
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(layers.Activation("relu")(x).numpy(), [[0.0, 2.0]])
    flat = layers.Flatten()
    assert flat(np.ones((2, 3, 4), np.float32)).shape == (2, 12)
    assert flat.compute_output_shape((None, 3, 4)) == (None, 12)
    assert flat.count_params() == 0


def test_activation_lookup_by_name_and_callable():
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    assert activations.get(tc.tanh) is tc.tanh
    with pytest.raises(ValueError, match="Unknown activation: 'swishy'"):
        activations.get("swishy")
    probs = activations.get("softmax")(tc.tensor([[1.0, 2.0, 3.0]])).numpy()
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-6)


def test_dropout_inactive_at_inference_and_inverted_scaling_in_training():
    tc.random.seed(3)
    layer = layers.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    out = layer(x, training=True).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0.4 < (out == 0).mean() < 0.6
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\)\. Received: rate=1"):
        layers.Dropout(1)


@pytest.mark.parametrize("name,check", [
    ("zeros", lambda w, fi, fo: np.all(w == 0)),
    ("ones", lambda w, fi, fo: np.all(w == 1)),
    ("glorot_uniform", lambda w, fi, fo: np.abs(w).max() <= math.sqrt(6 / (fi + fo))
     and abs(w.std() - math.sqrt(2 / (fi + fo))) < 0.1 * math.sqrt(2 / (fi + fo))),
    ("he_uniform", lambda w, fi, fo: np.abs(w).max() <= math.sqrt(6 / fi)
     and abs(w.std() - math.sqrt(2 / fi)) < 0.1 * math.sqrt(2 / fi)),
    ("glorot_normal", lambda w, fi, fo: np.abs(w).max() <= 2 * math.sqrt(2 / (fi + fo)) / 0.8796
     and abs(w.std() - math.sqrt(2 / (fi + fo))) < 0.1 * math.sqrt(2 / (fi + fo))),
    ("he_normal", lambda w, fi, fo: np.abs(w).max() <= 2 * math.sqrt(2 / fi) / 0.8796
     and abs(w.std() - math.sqrt(2 / fi)) < 0.1 * math.sqrt(2 / fi)),
    ("random_normal", lambda w, fi, fo: abs(w.std() - 0.05) < 0.005),
])
def test_initializers_follow_keras_formulas(name, check):
    tc.random.seed(0)
    fan_in, fan_out = 300, 200
    weights = initializers.get(name)((fan_in, fan_out))
    assert weights.dtype == tc.float32 and weights.shape == (fan_in, fan_out)
    assert check(weights.numpy().astype(np.float64), fan_in, fan_out)


def test_initializers_are_reproducible_with_tc_random_seed():
    tc.random.seed(42)
    first = layers.Dense(4)
    first(np.ones((1, 3), np.float32))
    tc.random.seed(42)
    second = layers.Dense(4)
    second(np.ones((1, 3), np.float32))
    np.testing.assert_array_equal(first.get_weights()[0], second.get_weights()[0])


def test_layer_config_round_trip():
    layer = layers.Dense(7, activation="tanh", use_bias=False, kernel_initializer="he_normal",
                         input_shape=(5,), name="my_dense")
    config = layers.serialize(layer)
    clone = layers.deserialize(config)
    assert isinstance(clone, layers.Dense)
    assert clone.get_config() == layer.get_config()
    assert clone.name == "my_dense" and clone.units == 7 and clone.input_shape_arg == (5,)


def test_layer_names_are_unique_per_class():
    a, b = layers.Dense(1), layers.Dense(1)
    assert a.name != b.name and a.name.startswith("dense") and b.name.startswith("dense")


def test_float64_layers_and_model(backend):
    """Layers take Keras' dtype argument: a float64 model keeps float64 weights, activations
    and gradients end to end (before, every input was cast to float32)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3))
    y = rng.normal(size=(16, 1))
    dense = layers.Dense(4, activation="relu", dtype="float64")
    out = dense(x)
    assert dense.kernel.dtype == np.float64 and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), np.maximum(x @ dense.kernel.numpy()
                                                       + dense.bias.numpy(), 0), rtol=1e-12)
    model = models.Sequential([layers.Dense(4, activation="tanh", dtype="float64"),
                               layers.Dense(1, dtype="float64")])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(x, verbose=0).dtype == np.float64
    assert layers.Dense(2, dtype="float64").get_config()["dtype"] == "float64"
    with pytest.raises(ValueError, match="dtype"):
        layers.Dense(2, dtype="int32")
    assert layers.Dense(2)(x).dtype == np.float32  # float32 stays the default
