"""Where one chapter-2 training step spends its time, and how far it is from the limit.

    python bench/step_breakdown.py [--steps 200] [--threads 2] [--repeat 3] [--no-torch]

Trains the chapter-2 network (Dense 512 relu, Dense 10 softmax, RMSprop, batch 128) through
`model.fit` on the first `steps` batches of MNIST, with every public function of the C
backend wrapped by a timer, and splits the step by entry point (each is one kernel call:
GEMM, bias + activation, ReLU backward, softmax-crossentropy, RMSprop update, other
elementwise/reduction kernels); the rest is Python (tape, dispatch, layers, the fit loop,
plus about 0.3 us of timer per kernel call). PyTorch's epoch on the same batches (same
network, optimizer, batch; `tensorcore._bench.torch_epoch`) is timed in the same run.

With --threads 1 every figure is CPU time of the process (time.process_time: OpenBLAS,
PyTorch and tensorcore all compute on the calling thread), which a machine shared with
other jobs distorts far less than wall time; otherwise wall time (time.perf_counter).

The limit of one step, measured in the same run:
  GEMM: the step's five products (x@W1, x.T@dy1, h@W2, h.T@dy2, dy2@W2.T) timed with
        NumPy's OpenBLAS matmul, and
  optimizer: RMSprop reads variable, gradient, mean square and writes variable and mean
        square: 5 x 4 bytes per parameter, at the copy bandwidth of a 64 MiB np.copyto.
Both limit terms are the fastest of repeated runs; the steps are the fastest of --repeat
epochs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BATCH = 128
# C-backend functions grouped into the step's parts.
GROUPS = {
    "matmul": "GEMM (5 per step)",
    "bias_act": "bias + ReLU (fused)",
    "relu_backward": "ReLU backward + bias column sum (fused)",
    "relu_backward_colsum": "ReLU backward + bias column sum (fused)",
    "softmax_crossentropy": "softmax-crossentropy (fused)",
    "rmsprop_update": "RMSprop update (4 variables)",
}


CLOCK = time.perf_counter     # time.process_time with --threads 1


def _best_time(fn, repeats: int = 30) -> float:
    """Fastest of `repeats` calls: the limit is what the hardware allows, not the noise."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = CLOCK()
        fn()
        best = min(best, CLOCK() - start)
    return best


def _timed_backend(c_backend, totals: dict, counts: dict) -> None:
    """Wrap every public function of the C backend module with a timer (kept for the run)."""
    for name in dir(c_backend):
        fn = getattr(c_backend, name)
        if name.startswith("_") or not isinstance(fn, types.FunctionType) \
                or fn.__module__ != c_backend.__name__:
            continue

        def timed(*args, _fn=fn, _name=name, **kwargs):
            start = CLOCK()
            try:
                return _fn(*args, **kwargs)
            finally:
                totals[_name] = totals.get(_name, 0.0) + CLOCK() - start
                counts[_name] = counts.get(_name, 0) + 1
        setattr(c_backend, name, timed)


def limit_seconds(params: int) -> tuple[float, float]:
    """(GEMM time at OpenBLAS speed, optimizer bytes at copy bandwidth) of one step."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 784), dtype=np.float32)
    w1 = rng.standard_normal((784, 512), dtype=np.float32)
    h = rng.standard_normal((BATCH, 512), dtype=np.float32)
    w2 = rng.standard_normal((512, 10), dtype=np.float32)
    dy1 = rng.standard_normal((BATCH, 512), dtype=np.float32)
    dy2 = rng.standard_normal((BATCH, 10), dtype=np.float32)
    products = [(x, w1), (x.T, dy1), (h, w2), (h.T, dy2), (dy2, w2.T)]
    outs = [np.empty((a.shape[0], b.shape[1]), np.float32) for a, b in products]

    def gemms():
        for (a, b), out in zip(products, outs):
            np.matmul(a, b, out=out)
    gemm = _best_time(gemms)
    src = np.ones(16 << 20, np.float32)
    dst = np.empty_like(src)
    copy = _best_time(lambda: np.copyto(dst, src), 10)
    bandwidth = 2 * src.nbytes / copy            # bytes read + written per second
    return gemm, 5 * 4 * params / bandwidth


def main(argv: list[str] | None = None) -> int:
    global CLOCK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    if args.threads == 1:
        CLOCK = time.process_time

    import tensorcore as tc
    from tensorcore import _bench
    from tensorcore.backend import c_backend

    tc.set_num_threads(args.threads)
    x, y, labels = _bench.mnist_arrays()
    n = args.steps * BATCH
    x, y, labels = x[:n], y[:n], labels[:n]
    torch = None if args.no_torch else _bench._torch()
    if torch is not None:
        torch.set_num_threads(args.threads)

    def best_epoch(run) -> float:
        run()                                     # warm up (first-use setup)
        best = float("inf")
        for _ in range(args.repeat):
            start = CLOCK()
            run()
            best = min(best, CLOCK() - start)
        return best / args.steps

    plain = best_epoch(lambda: _bench.tc_epoch(x, y))
    theirs = best_epoch(lambda: _bench.torch_epoch(torch, x, labels)) if torch else None
    totals: dict = {}
    counts: dict = {}
    _timed_backend(c_backend, totals, counts)
    start = CLOCK()
    _bench.tc_epoch(x, y)
    total = CLOCK() - start
    parts = {label: 0.0 for label in GROUPS.values()}
    others: dict = {}
    for name, seconds in totals.items():
        if name in GROUPS:
            parts[GROUPS[name]] += seconds
        else:
            others[name] = seconds
    other_kernels = sum(others.values())
    python = total - sum(parts.values()) - other_kernels
    clock = "CPU time (process_time)" if CLOCK is time.process_time else "wall time"
    print(f"tensorcore {tc.__version__}: {args.steps} steps, {args.threads} threads, {clock}; "
          f"step {plain * 1e3:.3f} ms (fastest of {args.repeat} epochs)"
          + (f", PyTorch {torch.__version__} step {theirs * 1e3:.3f} ms, ratio "
             f"{theirs / plain:.2f}" if theirs else ""))
    print(f"shares of one timed epoch ({total / args.steps * 1e3:.3f} ms per step with the "
          "timers):")
    top = ", ".join(f"{name} {counts[name] / args.steps:g}"
                    for name in sorted(others, key=others.get, reverse=True)[:4])
    calls = sum(counts.values()) / args.steps
    for label, seconds in [*parts.items(), (f"other kernels ({top} per step)", other_kernels),
                           ("Python: tape, dispatch, layers, fit loop", python)]:
        print(f"  {label:62s} {seconds / total * 100:5.1f} %  "
              f"{seconds / args.steps * 1e3:6.3f} ms")
    print(f"  ({calls:g} kernel calls per step)")
    params = 784 * 512 + 512 + 512 * 10 + 10
    gemm, optimizer = limit_seconds(params)
    limit = gemm + optimizer
    print(f"limit: GEMM at OpenBLAS speed {gemm * 1e3:.3f} ms + optimizer {params} params "
          f"x 20 B at copy bandwidth {optimizer * 1e3:.3f} ms = {limit * 1e3:.3f} ms; "
          f"step / limit = {plain / limit:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
