"""Threads and processes: concurrent calls, set_num_threads at any time, fork, GIL release.

Sizes are chosen so that both backends really use their worker threads (the C pool and Numba
parallel kernels go parallel above ~128k elements). Fork tests run in a fresh subprocess so
they see exactly the state they describe. Numba's threading layer here is "workqueue" unless
the ``tbb`` package is installed: workqueue survives fork, but aborts the process when two
Python threads launch parallel kernels at once, so tensorcore serializes parallel launches
on that layer (tensorcore/kernels/_jit.py); test_numba_parallel_kernels_from_threads is the
regression test for that abort.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import tensorcore as tc
from tensorcore import layers, models

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_THREADS = 4
HANG_GUARD_S = 600     # only stops a hung child from blocking CI forever; never a perf limit


def _inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(420, 400)).astype(np.float32)
    b = rng.normal(size=(400, 420)).astype(np.float32)
    return a, b


def _work(a: np.ndarray, b: np.ndarray) -> dict:
    ta, tb = tc.from_numpy(a), tc.from_numpy(b)
    return {
        "add": (ta * 2.0 + 1.0).numpy(),
        "exp": tc.exp(ta * 0.1).numpy(),
        "matmul": (ta @ tb).numpy(),
        "sum": ta.sum(axis=0).numpy(),
        "max": tc.max(ta, axis=1).numpy(),
        "softmax": tc.softmax(ta, axis=1).numpy(),
        "transpose": tc.reshape(ta.T, (-1,)).numpy(),
    }


def _run_threads(target, count: int = N_THREADS) -> list:
    errors: list = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_same_ops_from_four_threads(backend):
    """Elementwise, matmul, reductions, softmax, copies from 4 threads match a serial run."""
    a, b = _inputs()
    expected = _work(a, b)

    def target(_i):
        for _ in range(3):
            got = _work(a, b)
            for name, value in expected.items():
                np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-5,
                                           err_msg=name)

    assert _run_threads(target) == []


def test_model_forward_backward_from_threads(backend):
    """Each thread trains its own copy of a model; all get the serial result."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 20)).astype(np.float32)
    y = rng.integers(0, 4, size=64)

    def train() -> list:
        tc.random.seed(5)
        model = models.Sequential([layers.Dense(32, activation="relu", input_shape=(20,)),
                                   layers.Dense(4, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        for _ in range(3):
            model.train_on_batch(x, y)
        out = model(tc.from_numpy(x))
        out.sum().backward()
        return model.get_weights()

    with_lock = threading.Lock()
    with with_lock:                # tc.random.seed is process-global: build serially
        expected = train()
    results = {}

    def target(i):
        with with_lock:
            tc.random.seed(5)
            model = models.Sequential([layers.Dense(32, activation="relu", input_shape=(20,)),
                                       layers.Dense(4, activation="softmax")])
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            model.build((None, 20))
        for _ in range(3):
            model.train_on_batch(x, y)
        results[i] = model.get_weights()

    assert _run_threads(target) == []
    for weights in results.values():
        for got, want in zip(weights, expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_set_num_threads_while_computing(backend):
    """Changing the thread count while other threads compute keeps every result correct."""
    a, b = _inputs(1)
    expected = _work(a, b)
    previous = tc.get_num_threads()
    stop = threading.Event()

    def toggler():
        i = 0
        while not stop.is_set():
            tc.set_num_threads(1 + i % 3)
            i += 1

    switcher = threading.Thread(target=toggler)
    switcher.start()
    try:
        def target(_i):
            for _ in range(3):
                got = _work(a, b)
                for name, value in expected.items():
                    np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-5,
                                               err_msg=name)
        errors = _run_threads(target, 3)
    finally:
        stop.set()
        switcher.join()
        tc.set_num_threads(previous)
    assert errors == []


def test_numba_parallel_kernels_from_threads():
    """Regression: parallel Numba kernels launched from 4 threads at once must not abort the
    process (the workqueue layer's 'Concurrent access has been detected' abort)."""
    script = """
import threading
import tensorcore as tc
tc.set_backend("numba")
tc.set_num_threads(2)
a = tc.ones((700, 700)); b = tc.ones((700, 700))
def work():
    for _ in range(10):
        assert float((a + b).data[3, 3]) == 2.0
        assert float((a @ b).data[0, 0]) == 700.0
        assert float(a.sum().item()) == 490000.0
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("ok")
"""
    result = _python(script)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def _python(script: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=HANG_GUARD_S, cwd=REPO)


FORK_SCRIPT = """
import os, sys
import numpy as np
import tensorcore as tc
tc.set_backend({backend!r})
tc.set_num_threads(2)
a = tc.tensor(np.arange(1 << 20, dtype=np.float32).reshape(1024, 1024) % 7)
b = tc.ones((1024, 1024))
def check():
    assert float((a + b).data[5, 6]) == float(a.data[5, 6]) + 1.0
    assert float((a @ b).data[2, 0]) == float(a.data[2].astype(np.float64).sum())
    assert float(tc.exp(a * 0).sum().item()) == float(1 << 20)
check()                       # the parent has used its worker threads
pid = os.fork()
if pid == 0:
    try:
        check()               # the child computes with a fresh pool
        tc.set_num_threads(2)
        check()
    except BaseException as error:
        print("child failed:", repr(error), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
check()                       # and the parent still works afterwards
print("child status", os.waitstatus_to_exitcode(status))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("which", ["c", "numba"])
def test_forked_child_computes_after_parent_used_threads(which):
    """os.fork after the parent ran threaded kernels: the child computes and exits cleanly."""
    from conftest import BACKENDS
    if which not in BACKENDS:
        pytest.skip(f"backend {which} not selected")
    result = _python(FORK_SCRIPT.format(backend=which))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "child status 0" in result.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_pool_after_c_threads():
    """multiprocessing with the fork start method works after the C thread pool ran."""
    script = """
import multiprocessing as mp
import numpy as np
import tensorcore as tc
tc.set_num_threads(2)
x = tc.ones((1024, 1024))
assert float((x + x).sum().item()) == 2.0 * (1 << 20)
def job(n):
    t = tc.full((512, 512), float(n))
    return float((t @ t).data[0, 0])
with mp.get_context("fork").Pool(2) as pool:
    print(pool.map(job, [1, 2, 3]))
"""
    result = _python(script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[512.0, 2048.0, 4608.0]" in result.stdout


def test_kernels_release_the_gil(backend):
    """While one thread is inside a long kernel call, another Python thread keeps running."""
    rng = np.random.default_rng(7)
    a = tc.tensor(rng.normal(size=(1200, 1200)))     # float64: a long matmul
    a @ a                                             # warm up (compilation for Numba)
    counter = [0]
    done = threading.Event()
    advanced = []

    def count():
        while not done.is_set():
            counter[0] += 1

    def call():
        for _ in range(3):
            before = counter[0]
            a @ a
            advanced.append(counter[0] - before)
        done.set()

    counter_thread = threading.Thread(target=count)
    worker = threading.Thread(target=call)
    counter_thread.start()
    worker.start()
    worker.join()
    done.set()
    counter_thread.join()
    print(f"counter advanced by {advanced} during the calls ({backend})")
    assert all(n > 0 for n in advanced), advanced
