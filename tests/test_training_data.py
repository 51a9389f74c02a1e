"""fit/evaluate/predict on generators, iterables and PyDatasets; sample and class weights."""

from __future__ import annotations

import itertools
import os
import signal

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, y


def _model(seed=0):
    tc.random.seed(seed)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_generator_with_steps_trains_like_arrays():
    x, y = _data()
    a = _model()
    a.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    b = _model()

    def batches():
        while True:
            for i in range(0, len(x), 16):
                yield x[i:i + 16], y[i:i + 16]

    b.fit(batches(), steps_per_epoch=6, epochs=3, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert b.evaluate(batches(), steps=6, verbose=0) == pytest.approx(
        a.evaluate(x, y, batch_size=16, verbose=0))
    np.testing.assert_array_equal(b.predict(iter([x[:50], x[50:]])), a.predict(x))


def test_pydataset_and_reiterable_list():
    x, y = _data()

    class Batches(tc.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epochs_ended = 0

        def __len__(self):
            return 6

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

        def on_epoch_end(self):
            self.epochs_ended += 1

    a = _model()
    a.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for kwargs in ({}, {"workers": 2}, {"workers": 2, "use_multiprocessing": True}):
        data = Batches(**kwargs)
        b = _model()
        b.fit(data, epochs=2, verbose=0)
        assert data.epochs_ended == 2
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
    c = _model()
    c.fit([(x[i:i + 16], y[i:i + 16]) for i in range(0, 96, 16)], epochs=2, verbose=0)
    for wa, wc in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(wa, wc)


def test_sample_weight_loss_matches_hand_computation():
    x, y = _data(8)
    w = np.array([0, 1, 2, 3, 0.5, 1, 1, 4], np.float32)
    model = _model()
    probs = model.predict(x)
    per_sample = -np.log(probs[np.arange(8), y].astype(np.float64))
    expected = float((per_sample * w).sum() / 8)  # sum_over_batch_size: divide by batch size
    loss, acc = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    hits = (probs.argmax(axis=1) == y).astype(np.float64)
    assert acc == pytest.approx(float((hits * w).sum() / w.sum()), rel=1e-6)
    # class_weight: each sample weighted by its class's weight
    cw = {0: 0.5, 1: 2.0, 2: 3.0}
    cw_w = np.array([cw[int(c)] for c in y], np.float32)
    loss_cw = model.evaluate(x, y, sample_weight=cw_w, batch_size=8, verbose=0)[0]
    assert loss_cw == pytest.approx(float((per_sample * cw_w).sum() / 8), rel=1e-5)
    before = model.get_weights()
    h = model.fit(x, y, class_weight=cw, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert h.history["loss"][0] == pytest.approx(loss_cw, rel=1e-5)
    assert any(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


def test_sample_weight_with_a_last_batch_of_one_sample():
    # 9 samples in batches of 8: the last batch holds one sample; its (1,) weight used to
    # crash the accuracy metric (float() of a 1-d array) in fit and evaluate.
    x, y = _data(9)
    w = np.array([0, 1, 2, 3, 0.5, 1, 1, 4, 2.5], np.float32)
    model = _model()
    probs = model.predict(x)
    hits = (probs.argmax(axis=1) == y).astype(np.float64)
    loss, acc = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    assert acc == pytest.approx(float((hits * w).sum() / w.sum()), rel=1e-6)
    history = model.fit(x, y, sample_weight=w, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_validation_weights_are_honoured():
    x, y = _data(32)
    model = _model()
    w = np.linspace(0, 2, 32).astype(np.float32)
    expected = model.evaluate(x, y, sample_weight=w, verbose=0)[0]
    model.compile(optimizer=tc.optimizers.SGD(learning_rate=0.0), loss=model.loss,
                  metrics=["accuracy"])
    h = model.fit(x[:8], y[:8], validation_data=(x, y, w), epochs=1, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("call,error,message", [
    (lambda m, x, y: m.fit(x, y[:5], verbose=0), ValueError, "same number of samples"),
    (lambda m, x, y: m.fit(x, y, sample_weight=np.ones(5), verbose=0), ValueError,
     "sample_weight"),
    (lambda m, x, y: m.fit(x, y, sample_weight=-np.ones(len(x)), verbose=0), ValueError,
     "non-negative"),
    (lambda m, x, y: m.fit(x, y, sample_weight=np.full(len(x), np.nan), verbose=0),
     ValueError, "finite"),
    (lambda m, x, y: m.fit(x, y, class_weight={0: -1.0}, verbose=0), ValueError,
     "class_weight"),
    (lambda m, x, y: m.fit((b for b in [(x, y)] * 3), epochs=2, verbose=0), ValueError,
     "steps_per_epoch"),
    (lambda m, x, y: m.fit(itertools.repeat((x, y)), epochs=2, verbose=0), ValueError,
     "steps_per_epoch"),
    (lambda m, x, y: m.fit(x, y, validation_data=itertools.repeat((x, y)), epochs=2,
                           verbose=0), ValueError, "validation_steps"),
    (lambda m, x, y: m.fit(iter([(x[:4], y[:4], np.ones(3))]), verbose=0), ValueError,
     "sample_weight"),
    (lambda m, x, y: m.fit(iter([(x[:4], y[:4], -np.ones(4))]), verbose=0), ValueError,
     "non-negative"),
    (lambda m, x, y: m.fit(iter([(x[:2], y[:2], np.array([1.0, np.inf]))]), verbose=0),
     ValueError, "finite"),
    (lambda m, x, y: m.evaluate(x, y, sample_weight=np.ones(len(x) + 1), verbose=0),
     ValueError, "sample_weight"),
    (lambda m, x, y: m.fit(x, y, class_weight=[1.0, 2.0], verbose=0), TypeError,
     "class_weight"),
    (lambda m, x, y: m.fit(iter([(x[:4], y[:4]), (x[:4, :3], y[:4])]), verbose=0), ValueError,
     "x.shape"),
    (lambda m, x, y: m.fit(iter([(x[:4], y[:4]), (x[:4, :5].reshape(4, 5), y[:4])]),
                           verbose=0), ValueError, "shape"),
])
def test_bad_data_names_the_argument(call, error, message):
    x, y = _data(20)
    model = _model()
    with pytest.raises(error, match=message):
        call(model, x, y)


def test_failure_mid_epoch_keeps_finished_steps():
    x, y = _data(64)
    model = _model()

    def batches():
        yield x[:16], y[:16]
        yield x[16:32], y[16:32]
        raise RuntimeError("disk gone")

    reference = _model()
    reference.fit(x[:32], y[:32], batch_size=16, shuffle=False, verbose=0)
    with pytest.raises(RuntimeError, match="disk gone"):
        model.fit(batches(), verbose=0)
    for wa, wb in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(wa, wb)


class _Unchecked(models.Model):
    """A subclassed model: no input shape to check batches against, only their consistency."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(4, activation="relu")
        self.out = layers.Dense(3, activation="softmax")

    def call(self, x, training=False):
        return self.out(self.hidden(x))


@pytest.mark.parametrize("second,message", [
    (lambda x, y: (x[8:16, :5], y[8:16]), "inconsistent shapes"),
    (lambda x, y: (x[8:16], y[8:16].astype(np.float32)), "inconsistent shapes"),
    (lambda x, y: (x[8:16], y[8:16], np.ones(8, np.float32)), "inconsistent shapes"),
])
def test_inconsistent_generator_batches_fail_and_keep_finished_steps(second, message):
    x, y = _data(16)

    def fresh():
        tc.random.seed(4)
        model = _Unchecked()
        model.compile("sgd", loss="sparse_categorical_crossentropy")
        return model

    reference = fresh()
    reference.fit(x[:8], y[:8], batch_size=8, verbose=0)
    model = fresh()
    with pytest.raises(ValueError, match=message):
        model.fit(iter([(x[:8], y[:8]), second(x, y)]), verbose=0)
    for wa, wb in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(wa, wb)  # the first, finished step is kept


@pytest.fixture
def default_sigint():
    """Python's own Ctrl-C handler for the test, whatever the launcher left: a shell's
    background job starts with SIGINT ignored, and then no KeyboardInterrupt can arrive."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def test_ctrl_c_during_a_weight_update_lets_the_step_finish(default_sigint):
    """SIGINT arriving after the first of four weights was updated: fit raises
    KeyboardInterrupt only once all four have their step (never half a step)."""
    x, y = _data(64)

    class InterruptingSGD(tc.optimizers.SGD):
        updates = 0

        def update_step(self, gradient, variable, learning_rate):
            InterruptingSGD.updates += 1
            if InterruptingSGD.updates == 5:      # the first weight of the second step
                os.kill(os.getpid(), signal.SIGINT)
            super().update_step(gradient, variable, learning_rate)

    def fresh(optimizer):
        model = _model()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        return model

    model = fresh(InterruptingSGD(learning_rate=0.1))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 2
    reference = fresh(tc.optimizers.SGD(learning_rate=0.1))
    reference.fit(x[:32], y[:32], batch_size=16, shuffle=False, verbose=0)
    for wa, wb in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_weights_inside_generator_batches_count_like_sample_weight():
    x, y = _data(32)
    w = np.linspace(0.0, 3.0, 32).astype(np.float32)
    model = _model()
    expected = model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0)
    batches = [(x[:16], y[:16], w[:16]), (x[16:], y[16:], w[16:])]
    assert model.evaluate(iter(batches), verbose=0) == pytest.approx(expected, rel=1e-6)
    assert model.evaluate(x, y, batch_size=16, verbose=0) != pytest.approx(expected, rel=1e-3)
    a, b = _model(), _model()
    a.fit(x, y, sample_weight=w, batch_size=16, shuffle=False, verbose=0)
    b.fit(batches, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
