"""PyDataset workers stop cleanly: at the end of fit, on an exception, on Ctrl-C."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models

ROOT = Path(__file__).resolve().parent.parent


class Batches(tc.utils.PyDataset):
    def __init__(self, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(80, 4)).astype(np.float32)
        self.y = (self.x[:, 0] > 0).astype(np.int64)
        self.fail_at = fail_at

    def __len__(self):
        return 5

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"batch {i} is unreadable")
        return self.x[i * 16:(i + 1) * 16], self.y[i * 16:(i + 1) * 16]


def _model():
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    return model


def _children() -> list:
    return multiprocessing.active_children()


@pytest.mark.parametrize("kwargs", [{"workers": 2}, {"workers": 2, "use_multiprocessing": True}])
def test_workers_end_with_fit_and_on_errors(kwargs):
    threads = threading.active_count()
    model = _model()
    model.fit(Batches(**kwargs), epochs=2, verbose=0)
    assert threading.active_count() == threads and not _children()
    before = model.get_weights()
    with pytest.raises(Exception, match="batch 3 is unreadable"):
        model.fit(Batches(fail_at=3, **kwargs), epochs=1, verbose=0)
    assert threading.active_count() == threads and not _children()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    # the three batches before the failing one were trained, and nothing else
    reference = _model()
    reference.fit(Batches(), epochs=2, verbose=0)
    data = Batches()
    reference.fit(data.x[:48], data.y[:48], batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_pydataset_arguments():
    with pytest.raises(ValueError, match="workers"):
        Batches(workers=-1)
    with pytest.raises(ValueError, match="max_queue_size"):
        Batches(max_queue_size=0)


SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading, time
    # Python's own Ctrl-C handler, whatever the launcher left (a shell's background job
    # starts with SIGINT ignored, and Python then keeps it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    import tensorcore as tc
    from tensorcore import layers, models

    class Slow(tc.utils.PyDataset):
        def __len__(self):
            return 1000
        def __getitem__(self, i):
            if i == 0:
                print("loading", flush=True)
            time.sleep(0.05)
            return np.ones((4, 3), np.float32), np.zeros(4, np.int64)

    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    threads = threading.active_count()
    print("started", flush=True)
    try:
        model.fit(Slow(workers=2, use_multiprocessing=sys.argv[1] == "processes"), epochs=1,
                  verbose=0)
    except KeyboardInterrupt:
        print("interrupted", threading.active_count() - threads, flush=True)
        sys.exit(3)
""")


def _descendants(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_ctrl_c_stops_worker_threads(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), "threads"], stdout=subprocess.PIPE,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert process.stdout.readline().strip() == "started"
    assert process.stdout.readline().strip() == "loading"   # a worker thread is at work
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate()
    assert process.returncode == 3 and out.split() == ["interrupted", "0"]  # no thread left


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_ctrl_c_stops_worker_processes(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), "processes"],
                               stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert process.stdout.readline().strip() == "started"
    workers = []
    while len(workers) < 2 and process.poll() is None:   # wait for the forked workers
        workers = _descendants(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate()
    assert process.returncode == 3 and "interrupted" in out
    for pid in workers:                      # every worker is gone, none re-parented
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists()
