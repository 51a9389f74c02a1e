"""Issue #14's acceptance runs on slices of the bundled MNIST (C backend, a second or two each):
the chapter-2 network fed by a generator trains exactly as from arrays, and class_weight lifts
the recall of a digit kept at 5% of its samples."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models, optimizers
from tensorcore.datasets import mnist
from tensorcore.utils import to_categorical


@pytest.fixture(scope="module")
def digits():
    """(x_train, y_train, x_test, y_test): 3000 training and 1000 test images, as floats."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    train = x_train[:3000].reshape(3000, 28 * 28).astype(np.float32) / 255
    test = x_test[:1000].reshape(1000, 28 * 28).astype(np.float32) / 255
    return train, y_train[:3000].astype(np.int64), test, y_test[:1000].astype(np.int64)


def _chapter2_network(seed):
    tc.random.seed(seed)
    network = models.Sequential([layers.Dense(512, activation="relu", input_shape=(28 * 28,)),
                                 layers.Dense(10, activation="softmax")])
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return network


def test_chapter2_network_trains_from_a_generator_as_from_arrays(digits):
    x, labels, x_test, labels_test = digits
    x, y = x[:1024], to_categorical(labels[:1024])
    y_test = to_categorical(labels_test)
    from_arrays = _chapter2_network(seed=3)
    arrays_history = from_arrays.fit(x, y, epochs=2, batch_size=128, shuffle=False, verbose=0)

    def batches():  # endless, as Keras users write them: fit stops each epoch after 8 steps
        while True:
            for start in range(0, len(x), 128):
                yield x[start:start + 128], y[start:start + 128]

    from_generator = _chapter2_network(seed=3)
    generator_history = from_generator.fit(batches(), steps_per_epoch=8, epochs=2, verbose=0)
    assert generator_history.history == arrays_history.history
    for a, b in zip(from_arrays.get_weights(), from_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    loss_a, acc_a = from_arrays.evaluate(x_test, y_test, verbose=0)
    loss_g, acc_g = from_generator.evaluate(x_test, y_test, verbose=0)
    assert (loss_g, acc_g) == (loss_a, acc_a)
    assert acc_a > 0.6  # it did learn (0.78 with seed 3; chance is 0.1)


def _imbalanced(x, labels, rare, kept_fraction):
    """Drop all but the first `kept_fraction` of the samples of class `rare`."""
    members = np.flatnonzero(labels == rare)
    keep = np.ones(len(labels), bool)
    keep[members[int(len(members) * kept_fraction):]] = False
    return x[keep], labels[keep]


def _small_network(seed):
    tc.random.seed(seed)
    model = models.Sequential([layers.Dense(32, activation="relu", input_shape=(28 * 28,)),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _recall(model, x, labels, digit):
    predicted = model.predict(x, batch_size=500).argmax(axis=1)
    return float((predicted[labels == digit] == digit).mean())


def test_class_weight_raises_the_recall_of_a_rare_digit(digits):
    x, labels, x_test, labels_test = digits
    x, labels = _imbalanced(x, labels, rare=3, kept_fraction=0.05)
    assert 0 < int((labels == 3).sum()) <= 20
    plain = _small_network(seed=0)
    plain.fit(x, labels, epochs=3, batch_size=128, verbose=0)
    weighted = _small_network(seed=0)
    weighted.fit(x, labels, epochs=3, batch_size=128, class_weight={3: 20.0}, verbose=0)
    plain_recall = _recall(plain, x_test, labels_test, 3)
    weighted_recall = _recall(weighted, x_test, labels_test, 3)
    # Measured over seeds 0-7: plain 0.00 every time, weighted 0.52-0.83 (107 test threes).
    assert weighted_recall >= plain_recall + 0.3, (plain_recall, weighted_recall)


def test_class_weighted_loss_matches_a_hand_computation(digits):
    x, labels, _, _ = digits
    x, labels = _imbalanced(x, labels, rare=3, kept_fraction=0.05)
    rare = np.flatnonzero(labels == 3)
    batch = np.concatenate([rare, np.flatnonzero(labels != 3)[:128 - len(rare)]])
    xb, yb = x[batch], labels[batch]
    class_weight = {3: 20.0, 7: 0.5}
    weights = np.array([class_weight.get(int(c), 1.0) for c in yb])
    model = _small_network(seed=1)
    probabilities = model.predict(xb).astype(np.float64)
    per_sample = -np.log(probabilities[np.arange(len(yb)), yb])
    hits = (probabilities.argmax(axis=1) == yb).astype(np.float64)
    # Keras's "sum_over_batch_size": the weighted losses summed, divided by the batch size;
    # weighted accuracy: the weighted hits over the sum of the weights.
    expected_loss = float((per_sample * weights).sum() / len(yb))
    expected_accuracy = float((hits * weights).sum() / weights.sum())
    loss, accuracy = model.evaluate(xb, yb, batch_size=len(yb), verbose=0,
                                    sample_weight=weights.astype(np.float32))
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert accuracy == pytest.approx(expected_accuracy, rel=1e-6)
    # fit with class_weight reports the same loss for its one step (taken before the update)
    model.compile(optimizer=optimizers.RMSprop(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    before = model.get_weights()
    history = model.fit(xb, yb, batch_size=len(yb), class_weight=class_weight, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(expected_accuracy, rel=1e-6)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
