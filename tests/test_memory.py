"""Memory stays bounded: long loops of small ops with backward, and freed intermediates.

RSS is read from /proc/self/statm (Linux; skipped elsewhere) and Python allocations with
tracemalloc. Bounds are set per iteration so they only catch real leaks yet any steady one:
RSS may grow by 512 B per iteration and traced Python memory by 200 B per iteration (each the
median of seven windows, so a one-off allocation does not count); a leak of one small array
(plus its Tensor) per iteration is above both. Leaks inside the C core are covered by
tests/test_capi.py (LeakSanitizer on the C API program).
"""

from __future__ import annotations

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import tensorcore as tc


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _small_step(w: tc.Tensor, x: tc.Tensor, b: tc.Tensor) -> None:
    (tc.relu(x @ w + b) * 2.0).sum().backward()
    w.grad = None
    b.grad = None


def _step(w: tc.Tensor, x: tc.Tensor, b: tc.Tensor) -> None:
    y = tc.relu(x @ w + b)
    loss = (tc.softmax(y, axis=-1) * y).sum() + tc.logsumexp(y) + (y[0] * 2).mean()
    loss.backward()
    w.grad = None
    b.grad = None


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_long_loop_with_backward_keeps_rss_bounded(backend):
    """Forward/backward loops of small ops do not grow RSS window after window.

    RSS is read after each of 7 windows of 400 iterations. A leak grows every window; a
    one-off (malloc extending its heap once: about 1 MB in one window of 32 measured, zero in
    the others) grows one. So the median window must stay under 512 B per iteration (a quarter
    of the 2 KB the former single 8k-iteration reading allowed)."""
    steps, windows = 400, 7
    rng = np.random.default_rng(0)
    w = tc.tensor(rng.normal(size=(8, 4)).astype(np.float32), requires_grad=True)
    b = tc.tensor(np.zeros(4, np.float32), requires_grad=True)
    x = tc.tensor(rng.normal(size=(3, 8)).astype(np.float32))
    for _ in range(500):                 # warm up: kernel compilation, caches, pools
        _small_step(w, x, b)
    gc.collect()
    readings = [_rss_bytes()]
    for _ in range(windows):
        for _ in range(steps):
            _small_step(w, x, b)
        gc.collect()
        readings.append(_rss_bytes())
    growths = sorted(after - before for before, after in zip(readings, readings[1:]))
    median = growths[len(growths) // 2]
    print(f"RSS every {steps} iterations (KB, backend {backend}): "
          f"{[r // 1024 for r in readings]}")
    assert median < 512 * steps, (
        f"RSS grows {median // 1024} KB per {steps} iterations (median of {windows} windows): "
        f"{[r // 1024 for r in readings]} KB")


def test_python_allocations_do_not_accumulate(backend):
    """tracemalloc: live Python memory does not grow window after window.

    Traced memory is read after each of 7 windows of 100 iterations. A leak grows every
    window by 100 times its size; a one-off allocation (the interpreter grows a table of its
    own once: a single ~1.9 MB block appears around iteration 1700 and stays, traced memory is
    flat around it over 4000 iterations) grows one window, and tracing's own warm-up the first.
    So the median window must stay under 200 B per iteration: one leaked small array (with its
    Tensor) per iteration is several times that."""
    steps, windows = 100, 7
    rng = np.random.default_rng(1)
    w = tc.tensor(rng.normal(size=(6, 5)).astype(np.float64), requires_grad=True)
    b = tc.tensor(np.zeros(5), requires_grad=True)
    x = tc.tensor(rng.normal(size=(4, 6)))
    for _ in range(200):
        _step(w, x, b)
    gc.collect()
    tracemalloc.start()
    try:
        _step(w, x, b)              # tracemalloc's first traced call
        gc.collect()
        readings = [tracemalloc.get_traced_memory()[0]]
        for _ in range(windows):
            for _ in range(steps):
                _step(w, x, b)
            gc.collect()
            readings.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    growths = sorted(after - before for before, after in zip(readings, readings[1:]))
    median = growths[len(growths) // 2]
    print(f"traced memory every {steps} iterations: {readings} B")
    assert median < 200 * steps, (
        f"traced Python memory grows {median} B per {steps} iterations (median of {windows} "
        f"windows): {readings}")


def test_intermediates_are_freed_after_backward(backend):
    """Once backward ran and the user drops the loss, no intermediate tensor stays alive."""
    x = tc.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    h = tc.tanh(x @ x.T)
    s = tc.softmax(h * 3.0, axis=0)
    loss = (s * h).sum()
    refs = [weakref.ref(t) for t in (h, s, loss)]
    loss.backward()
    assert x.grad is not None
    del h, s, loss
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} intermediates still alive after backward: {alive}"


def test_graph_freed_without_backward(backend):
    """A graph that is never backpropagated is freed with its last reference (no cycles kept)."""
    x = tc.ones((4, 4), requires_grad=True)
    y = (x * 2).exp().sum(axis=0)
    ref = weakref.ref(y)
    gc.disable()
    try:
        del y
        assert ref() is None, "the graph is only freed by the cycle collector"
    finally:
        gc.enable()


def test_model_training_does_not_grow_memory(backend):
    """Repeated fit() epochs on a small model keep RSS bounded (no per-batch leak)."""
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs /proc (Linux)")
    from tensorcore import layers, models
    rng = np.random.default_rng(2)
    x = rng.normal(size=(256, 10)).astype(np.float32)
    y = rng.integers(0, 3, size=256)
    tc.random.seed(0)
    model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10,)),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    gc.collect()
    start = _rss_bytes()
    model.fit(x, y, epochs=6, batch_size=8, verbose=0)   # 192 steps
    gc.collect()
    growth_mb = (_rss_bytes() - start) / 2 ** 20
    print(f"RSS growth over 6 epochs: {growth_mb:.1f} MB")
    assert growth_mb < 30
