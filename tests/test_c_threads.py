"""The C core's thread pool: concurrent callers, changing the thread count, fork."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

from tensorcore.backend import c_backend as cb

SHAPE = (512, 1024)          # well above the threading threshold


def big_inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(SHAPE).astype(np.float32),
            rng.standard_normal(SHAPE).astype(np.float32))


def run_ops(seed: int, errors: list, rounds: int = 5) -> None:
    """Compute several threaded ops and record any mismatch with NumPy."""
    a, b = big_inputs(seed)
    try:
        for _ in range(rounds):
            out = np.empty(SHAPE, np.float32)
            cb.binary("add", a, b, out)
            np.testing.assert_allclose(out, a + b, rtol=1e-6)
            col = np.empty((1, SHAPE[1]), np.float32)
            cb.reduce("sum", a, (0,), col)
            np.testing.assert_allclose(col, a.astype(np.float64).sum(0, keepdims=True),
                                       rtol=1e-4, atol=1e-4)
            t = np.empty(SHAPE[::-1], np.float32)
            cb.copy(a.T, t)
            np.testing.assert_array_equal(t, a.T)
    except Exception as exc:      # noqa: BLE001 - reported by the main thread
        errors.append(exc)


@pytest.fixture(autouse=True)
def restore_threads():
    before = cb.get_num_threads()
    yield
    cb.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_same_op_from_four_python_threads(threads):
    cb.set_num_threads(threads)
    errors: list = []
    workers = [threading.Thread(target=run_ops, args=(seed, errors)) for seed in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors[0]


def test_set_num_threads_while_other_threads_compute():
    errors: list = []
    workers = [threading.Thread(target=run_ops, args=(seed, errors, 8)) for seed in range(3)]
    for worker in workers:
        worker.start()
    for n in [1, 3, 2, 1, 4, 2] * 5:
        cb.set_num_threads(n)
        assert cb.get_num_threads() == n
    for worker in workers:
        worker.join()
    assert not errors, errors[0]


def test_set_num_threads_values():
    cb.set_num_threads(3)
    assert cb.get_num_threads() == 3
    a, b = big_inputs(0)
    out = np.empty(SHAPE, np.float32)
    cb.binary("multiply", a, b, out)
    np.testing.assert_allclose(out, a * b, rtol=1e-6)
    cb.set_num_threads(1)
    assert cb.get_num_threads() == 1
    cb.binary("multiply", a, b, out)
    np.testing.assert_allclose(out, a * b, rtol=1e-6)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_can_use_the_pool():
    cb.set_num_threads(2)
    errors: list = []
    run_ops(0, errors, rounds=2)            # the parent has started the pool
    assert not errors
    pid = os.fork()
    if pid == 0:                            # child: any failure -> nonzero exit code
        code = 1
        try:
            child_errors: list = []
            run_ops(1, child_errors, rounds=2)
            code = 0 if not child_errors and cb.get_num_threads() == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    run_ops(2, errors, rounds=1)            # the parent's pool still works
    assert not errors


def test_env_var_sets_default_thread_count():
    import subprocess

    code = ("from tensorcore.backend import c_backend as cb; "
            "print(cb.get_num_threads())")
    env = dict(os.environ, TENSORCORE_NUM_THREADS="3")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "3"
