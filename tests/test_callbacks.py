"""EarlyStopping, ModelCheckpoint and custom callbacks, checked against Keras's documented rules."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import callbacks, layers, models


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
