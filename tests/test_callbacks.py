"""EarlyStopping, ModelCheckpoint and custom callbacks, checked against Keras's documented rules."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import callbacks, layers, models

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


class ScriptedLogs(callbacks.Callback):
    """Overwrites a logged value with a scripted sequence (listed before the tested callback)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def _model():
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def test_early_stopping_waits_patience_epochs_without_improvement():
    model = _model()
    values = [1.0, 0.9, 0.95, 0.93, 0.97, 0.5, 0.4]
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    history = model.fit(X, Y, epochs=7, verbose=0, validation_data=(X, Y),
                        callbacks=[ScriptedLogs("val_loss", values), stopper])
    # Best at epoch 1 (0.9); epochs 2 and 3 do not improve -> stop after epoch index 3.
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3 and stopper.best == 0.9


def test_early_stopping_min_delta_and_max_mode():
    model = _model()
    values = [0.5, 0.505, 0.509, 0.6, 0.7]
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=1)
    history = model.fit(X, Y, epochs=5, verbose=0, validation_data=(X, Y),
                        callbacks=[ScriptedLogs("val_accuracy", values), stopper])
    assert stopper.larger_is_better
    assert history.epoch == [0, 1]


def test_early_stopping_restores_best_weights_at_the_end():
    model = _model()
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    values = [1.0, 0.2, 0.8, 0.9, 0.95]
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    model.fit(X, Y, epochs=5, verbose=0,
              callbacks=[ScriptedLogs("loss", values), Snapshot(), stopper])
    assert stopper.best_epoch == 1
    for restored, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(restored, best)


def test_early_stopping_never_stops_after_the_first_epoch():
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=0)
    history = model.fit(X, Y, epochs=2, verbose=0,
                        callbacks=[ScriptedLogs("loss", [1.0, 2.0]), stopper])
    assert history.epoch == [0, 1]


def test_early_stopping_missing_monitor_warns():
    model = _model()
    with pytest.warns(UserWarning, match="val_loss"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.EarlyStopping()])


def test_model_checkpoint_every_epoch_with_epoch_in_name(tmp_path):
    model = _model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}.tcm")
    model.fit(X, Y, epochs=3, verbose=0, callbacks=[callbacks.ModelCheckpoint(pattern)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01.tcm", "ckpt-02.tcm",
                                                          "ckpt-03.tcm"]
    restored = models.load_model(tmp_path / "ckpt-03.tcm")
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_model_checkpoint_save_best_only(tmp_path):
    model = _model()
    path = tmp_path / "best.weights"
    saved_at = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if path.exists():
                saved_at.append((epoch, path.stat().st_mtime_ns, self.model.get_weights()))

    values = [1.0, 0.5, 0.7, 0.4, 0.9]
    checkpoint = callbacks.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True,
                                           save_weights_only=True)
    model.fit(X, Y, epochs=5, verbose=0, validation_data=(X, Y),
              callbacks=[ScriptedLogs("val_loss", values), checkpoint, Spy()])
    assert checkpoint.best == 0.4
    weights_at_epoch_3 = saved_at[3][2]
    fresh = _model()
    fresh.load_weights(path)
    for loaded, expected in zip(fresh.get_weights(), weights_at_epoch_3):
        np.testing.assert_array_equal(loaded, expected)


def test_custom_callback_sees_events_and_can_stop_training():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append("batch")
            assert "loss" in logs

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch}")
            self.model.stop_training = True

        def on_train_end(self, logs=None):
            events.append("train_end")

    _model().fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert events == ["train_begin", "epoch_begin 0", "batch", "batch", "epoch_end 0",
                      "train_end"]


def test_callbacks_must_be_callback_instances():
    with pytest.raises(TypeError, match="Callback instances"):
        _model().fit(X, Y, verbose=0, callbacks=[print])


# ---------------------------------------------------------------------- learning-rate callbacks
def _sgd_model(learning_rate):
    from tensorcore import optimizers

    tc.random.seed(0)
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Snapshots(callbacks.Callback):
    """Weights and optimizer learning rate at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights, self.rates = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.rates.append(self.model.optimizer.learning_rate)


def test_learning_rate_scheduler_two_argument_schedule_sets_lr_each_epoch():
    model = _sgd_model(0.1)
    seen = []

    def halve_after_first(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr * 0.5

    snapshots = Snapshots()
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(halve_after_first),
                                   snapshots])
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert model.optimizer.learning_rate == 0.025
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert snapshots.rates == [0.1, 0.05, 0.025]
    assert len(history.history["loss"]) == 3


def test_learning_rate_scheduler_one_argument_schedule_and_zero_rate_freezes_weights():
    model = _sgd_model(0.1)
    snapshots = Snapshots()
    rates = [0.2, 0.0, 0.05]
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch: rates[epoch]),
                                   snapshots])
    assert history.history["learning_rate"] == rates
    assert model.optimizer.learning_rate == 0.05
    for before, after in zip(snapshots.weights[0], snapshots.weights[1]):
        np.testing.assert_array_equal(before, after)       # lr 0 in epoch 1: no change
    assert any(not np.array_equal(a, b)
               for a, b in zip(snapshots.weights[1], snapshots.weights[2]))


def test_learning_rate_scheduler_matches_setting_the_rate_by_hand():
    rates = [0.3, 0.1, 0.02]

    class ByHand(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate = rates[epoch]

    scheduled, by_hand = _sgd_model(0.1), _sgd_model(0.1)
    tc.random.seed(3)
    scheduled.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e, lr: rates[e])])
    tc.random.seed(3)
    by_hand.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0, callbacks=[ByHand()])
    for a, b in zip(scheduled.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32


def test_learning_rate_scheduler_verbose(capsys):
    model = _sgd_model(0.1)
    model.fit(X, Y, epochs=1, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda e: 0.5, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5" in capsys.readouterr().out


@pytest.mark.parametrize("result", ["fast", -0.1, float("nan"), float("inf"), None, True])
def test_learning_rate_scheduler_rejects_bad_schedule_results(result):
    model = _sgd_model(0.1)
    with pytest.raises(ValueError, match="LearningRateScheduler: the schedule must return a "
                                         "finite non-negative float"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e: result)])
    assert model.optimizer.learning_rate == 0.1


def test_learning_rate_scheduler_refuses_an_optimizer_with_a_schedule():
    from tensorcore.optimizers import schedules

    model = _sgd_model(schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match="LearningRateScheduler: .*ExponentialDecay"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e: 0.01)])


def test_learning_rate_scheduler_bad_arguments():
    with pytest.raises(TypeError, match="LearningRateScheduler: schedule"):
        callbacks.LearningRateScheduler(0.1)
    with pytest.raises(TypeError, match="LearningRateScheduler: schedule"):
        callbacks.LearningRateScheduler(lambda: 0.1)
    with pytest.raises(ValueError, match="LearningRateScheduler: verbose"):
        callbacks.LearningRateScheduler(lambda e: 0.1, verbose=-1)


def _drive(callback, model, key, values):
    """Call on_epoch_end with hand-made logs; return (logged rate, rate after) per epoch."""
    callback.set_model(model)
    callback.on_train_begin()
    out = []
    for epoch, value in enumerate(values):
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        out.append((logs["learning_rate"], model.optimizer.learning_rate))
    return out


def test_reduce_lr_on_plateau_reduces_after_patience_epochs():
    model = _sgd_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                          min_delta=0.0)
    values = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.5, 0.6]
    got = _drive(reducer, model, "val_loss", values)
    # Best 0.9 at epoch 1; epochs 2, 3 do not improve -> halve after epoch 3; epochs 4, 5 do
    # not improve either -> halve again after epoch 5; 0.5 improves.
    assert got == [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (1.0, 0.5), (0.5, 0.5), (0.5, 0.25),
                   (0.25, 0.25), (0.25, 0.25)]
    assert reducer.best == 0.5 and reducer.wait == 1


def test_reduce_lr_on_plateau_min_delta_cooldown_and_min_lr():
    model = _sgd_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, cooldown=2,
                                          min_lr=0.05)
    rates = [after for _, after in _drive(reducer, model, "loss",
                                          [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])]
    assert rates == pytest.approx([1.0, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])
    model = _sgd_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", patience=1, min_delta=0.1)
    # 0.95 and 0.91 are improvements smaller than min_delta: they count as plateau.
    assert [after for _, after in _drive(reducer, model, "loss", [1.0, 0.95, 0.91, 0.5])] \
        == pytest.approx([1.0, 0.1, 0.01, 0.01])


@pytest.mark.parametrize("mode", ["auto", "max"])
def test_reduce_lr_on_plateau_accuracy_prefers_larger(mode):
    model = _sgd_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=1, mode=mode)
    got = _drive(reducer, model, "val_accuracy", [0.5, 0.6, 0.7, 0.65])
    assert reducer.larger_is_better
    assert [after for _, after in got] == pytest.approx([1.0, 1.0, 1.0, 0.1])
    reducer = callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=1, mode="min")
    model = _sgd_model(1.0)
    got = _drive(reducer, model, "val_accuracy", [0.5, 0.6])
    assert [after for _, after in got] == pytest.approx([1.0, 0.1])


def test_reduce_lr_on_plateau_missing_monitor_warns_and_does_nothing():
    model = _sgd_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="val_loss", patience=0)
    reducer.set_model(model)
    reducer.on_train_begin()
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match="ReduceLROnPlateau.*'val_loss'.*Available: loss"):
        reducer.on_epoch_end(0, logs)
    assert model.optimizer.learning_rate == 1.0 and logs["learning_rate"] == 1.0
    assert reducer.wait == 0


def test_reduce_lr_on_plateau_in_fit_with_validation_data():
    model = _sgd_model(0.1)
    # min_delta so large that only the first epoch counts as an improvement.
    reducer = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1,
                                          min_delta=10.0)
    history = model.fit(X, Y, epochs=4, batch_size=8, verbose=0, validation_data=(X, Y),
                        callbacks=[reducer])
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05, 0.025]
    assert model.optimizer.learning_rate == 0.0125
    assert "val_loss" in history.history
    for weight in model.get_weights():
        assert weight.dtype == np.float32


def test_reduce_lr_on_plateau_refuses_an_optimizer_with_a_schedule():
    from tensorcore.optimizers import schedules

    model = _sgd_model(schedules.PiecewiseConstantDecay([5], [0.1, 0.01]))
    with pytest.raises(TypeError, match="ReduceLROnPlateau: .*PiecewiseConstantDecay"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.ReduceLROnPlateau()])


@pytest.mark.parametrize("kwargs,exc,fragment", [
    ({"factor": 1.0}, ValueError, "factor=1.0"),
    ({"factor": 2}, ValueError, "factor=2"),
    ({"factor": -0.5}, ValueError, "factor=-0.5"),
    ({"factor": "half"}, TypeError, "factor='half'"),
    ({"patience": -1}, ValueError, "patience=-1"),
    ({"cooldown": 1.5}, ValueError, "cooldown=1.5"),
    ({"min_lr": -1.0}, ValueError, "min_lr=-1.0"),
    ({"min_delta": float("nan")}, ValueError, "min_delta=nan"),
    ({"mode": "sideways"}, ValueError, "mode='sideways'"),
    ({"monitor": 3}, TypeError, "monitor=3"),
    ({"verbose": "loud"}, ValueError, "verbose='loud'"),
])
def test_reduce_lr_on_plateau_bad_arguments(kwargs, exc, fragment):
    with pytest.raises(exc) as caught:
        callbacks.ReduceLROnPlateau(**kwargs)
    assert str(caught.value).startswith("ReduceLROnPlateau: ")
    assert fragment in str(caught.value)


def test_history_records_values_added_by_later_callbacks():
    model = _model()
    history = model.fit(X, Y, epochs=2, verbose=0,
                        callbacks=[ScriptedLogs("extra", [1.5, 2.5])])
    assert history.history["extra"] == [1.5, 2.5]
