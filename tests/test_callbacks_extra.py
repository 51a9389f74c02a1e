"""CSVLogger, TerminateOnNaN, LambdaCallback, BackupAndRestore (resumed after SIGKILL)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import callbacks, layers, models

# Every test here runs on both backends (the `backend` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

ROOT = Path(__file__).resolve().parent.parent


def _model():
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    history = _model().fit(x, y, epochs=3, validation_data=(x, y), verbose=0,
                           callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history.history["val_loss"])
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("epoch")


def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    x, y = _data()
    x[40] = np.nan
    seen = []
    log = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = _model().fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                           callbacks=[callbacks.TerminateOnNaN(), log])
    assert seen == [0, 1, 2, 3, 4, 5]  # batch 5 holds sample 40; nothing after it
    assert len(history.history["loss"]) == 1
    assert "invalid loss" in capsys.readouterr().out


def test_lambda_callback_events_and_bad_names():
    x, y = _data()
    events = []
    cb = callbacks.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                                  on_epoch_end=lambda epoch, logs: events.append(epoch),
                                  on_train_end=lambda logs: events.append("end"))
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert events == ["begin", 0, 1, "end"]
    with pytest.raises(TypeError, match="on_epoch_finish"):
        callbacks.LambdaCallback(on_epoch_finish=print)


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import tensorcore as tc
    from tensorcore import callbacks, layers, models
    backup, out, kill_epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tc.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(5,)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    class Killer(callbacks.Callback):
        epoch = -1
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            print("epoch", epoch, flush=True)
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == 3:
                os.kill(os.getpid(), signal.SIGKILL)   # dies mid-epoch, no cleanup
    cbs = [Killer()] + ([callbacks.BackupAndRestore(backup)] if backup != "-" else [])
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=cbs)
    np.savez(out, *model.get_weights())
""")


def _run(tmp_path, *args):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(script), *map(str, args)], env=env,
                          capture_output=True, text=True)


def test_backup_and_restore_resumes_after_sigkill(tmp_path):
    backup = tmp_path / "backup"
    first = _run(tmp_path, backup, tmp_path / "never.npz", 2)
    assert first.returncode == -9, first.stderr
    assert first.stdout.split() == ["epoch", "0", "epoch", "1", "epoch", "2"]
    assert (backup / "backup.tcm").exists()
    second = _run(tmp_path, backup, tmp_path / "resumed.npz", -1)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["epoch", "2", "epoch", "3", "epoch", "4"]
    assert not (backup / "backup.tcm").exists()        # deleted at the end of fit
    straight = _run(tmp_path, "-", tmp_path / "straight.npz", -1)
    assert straight.returncode == 0, straight.stderr
    resumed, reference = np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "straight.npz")
    for key in reference.files:
        np.testing.assert_array_equal(resumed[key], reference[key])
