"""Where one chapter-2 training step spends its time, and how far it is from the limit.

    python bench/step_breakdown.py [--steps 200] [--threads 2]

Trains the chapter-2 network (Dense 512 relu, Dense 10 softmax, RMSprop, batch 128) through
`model.fit` on the first `steps` batches of MNIST under cProfile, and splits the time by
C-backend entry point (each is one kernel call: GEMM, bias + activation, ReLU backward,
softmax-crossentropy, RMSprop update, other elementwise/reduction kernels); everything else
is Python (tape, dispatch, layers, the fit loop). The profiler adds overhead to Python
calls, so the Python share is an upper bound; the kernel shares are what the kernels cost.

The limit of one step, measured in the same run:
  GEMM: the step's five products (x@W1, x.T@dy1, h@W2, h.T@dy2, dy2@W2.T) timed with
        NumPy's OpenBLAS matmul, and
  optimizer: RMSprop reads variable, gradient, mean square and writes variable and mean
        square: 5 x 4 bytes per parameter, at the copy bandwidth of a 64 MiB np.copyto.
Both limit terms are the fastest of repeated runs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BATCH = 128
# C-backend functions grouped into the step's parts.
GROUPS = {
    "matmul": "GEMM (5 per step)",
    "bias_act": "bias + ReLU (fused)",
    "relu_backward": "ReLU backward",
    "softmax_crossentropy": "softmax-crossentropy (fused)",
    "rmsprop_update": "RMSprop update (4 variables)",
}


def _best_time(fn, repeats: int = 30) -> float:
    """Fastest of `repeats` calls: the limit is what the hardware allows, not the noise."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    import numpy as np

    import tensorcore as tc
    from tensorcore import datasets, layers, models, utils

    tc.set_num_threads(args.threads)
    (x, y), _ = datasets.mnist.load_data()
    n = args.steps * BATCH
    x = x[:n].reshape(n, 784).astype(np.float32) / 255
    y = utils.to_categorical(y[:n], 10).astype(np.float32)

    def epoch():
        model = models.Sequential([layers.Dense(512, activation="relu"),
                                   layers.Dense(10, activation="softmax")])
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
        return model

    model = epoch()                               # warm up (first-use setup)
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    start = time.perf_counter()
    epoch()
    plain = (time.perf_counter() - start) / args.steps
    profile = cProfile.Profile()
    profile.runcall(epoch)
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())    # tottime over all functions
    parts = {label: 0.0 for label in GROUPS.values()}
    other_kernels = 0.0
    others: dict = {}
    for (filename, _line, name), entry in stats.items():
        # cumulative time of each backend entry point: its Python lines plus the C call
        if filename.endswith(os.path.join("backend", "c_backend.py")) and not \
                name.startswith("_"):
            if name in GROUPS:
                parts[GROUPS[name]] += entry[3]
            else:
                other_kernels += entry[3]
                others[name] = others.get(name, 0.0) + entry[3]
    python = total - sum(parts.values()) - other_kernels
    print(f"tensorcore {tc.__version__}: {args.steps} steps, {args.threads} threads; "
          f"step without profiler {plain * 1e3:.2f} ms; profiled shares:")
    top = ", ".join(sorted(others, key=others.get, reverse=True)[:4])
    for label, seconds in [*parts.items(), (f"other kernels ({top})", other_kernels),
                           ("Python: tape, dispatch, layers, fit loop", python)]:
        print(f"  {label:52s} {seconds / total * 100:5.1f} %  "
              f"{seconds / total * plain * 1e3:6.3f} ms")
    gemm, optimizer = limit_seconds(params)
    limit = gemm + optimizer
    print(f"limit: GEMM at OpenBLAS speed {gemm * 1e3:.3f} ms + optimizer {params} params "
          f"x 20 B at copy bandwidth {optimizer * 1e3:.3f} ms = {limit * 1e3:.3f} ms; "
          f"step / limit = {plain / limit:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
