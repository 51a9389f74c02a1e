"""GEMM benchmark: tensorcore's tc_gemm (through the cffi extension) vs np.matmul.

Two modes:
  pytest bench/bench_gemm.py --benchmark-only     pytest-benchmark, one group per shape
  python bench/bench_gemm.py [--dtype float64]   a table of GFLOP/s and ratios
  TC_BENCH_THREADS=1 python bench/bench_gemm.py --cpu-time   the same, one thread, CPU time

Ratio = NumPy time / tensorcore time (> 1: tensorcore is faster). Both sides get the
same thread count: tc_set_num_threads(n) and OPENBLAS_NUM_THREADS=n (set before NumPy is
imported in script mode). OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE distort OpenBLAS: unset
them for the run, e.g. `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/...`.
Pointers and strides are prepared outside the timed loop, so the cffi call (~1 us) is
the only per-call overhead on the tensorcore side.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable

THREADS = int(os.environ.get("TC_BENCH_THREADS", "2"))
if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
    for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(_name, None)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DTYPE_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}


def make_case(name: str, rng: np.random.Generator, dtype=np.float32):
    """Return (a, b) for one named benchmark shape; transposes are strided views."""
    def r(*shape):
        return rng.standard_normal(shape).astype(dtype)
    if name == "1024^3":
        return r(1024, 1024), r(1024, 1024)
    if name == "x@W 128x784@784x512":
        return r(128, 784), r(784, 512)
    if name == "x.T@dy 784x128@128x512":
        return r(128, 784).T, r(128, 512)
    if name == "dy@W.T 128x512@512x784":
        return r(128, 512), r(784, 512).T
    raise KeyError(name)


CASES = ["1024^3", "x@W 128x784@784x512", "x.T@dy 784x128@128x512",
         "dy@W.T 128x512@512x784"]


def tc_caller(lib, ffi, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Callable[[], int]:
    """A zero-argument callable running C = A @ B with tc_gemm, arguments pre-bound."""
    es = a.itemsize
    m, k = a.shape
    n = b.shape[1]
    args = (DTYPE_CODES[a.dtype], m, n, k, 1.0,
            ffi.cast("void *", a.ctypes.data), a.strides[0] // es, a.strides[1] // es,
            ffi.cast("void *", b.ctypes.data), b.strides[0] // es, b.strides[1] // es, 0.0,
            ffi.cast("void *", c.ctypes.data), c.strides[0] // es, c.strides[1] // es)
    gemm = lib.tc_gemm

    def run() -> int:
        return gemm(*args)
    return run


def np_caller(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Callable[[], np.ndarray]:
    """A zero-argument callable running np.matmul(a, b, out=c)."""
    matmul = np.matmul

    def run() -> np.ndarray:
        return matmul(a, b, out=c)
    return run


def best_time(fn: Callable[[], object], min_time: float = 0.05,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Best per-call time over batches lasting about min_time seconds each."""
    fn()
    t0 = clock()
    fn()
    once = max(clock() - t0, 1e-7)
    inner = max(1, int(min_time / once))
    t0 = clock()
    for _ in range(inner):
        fn()
    return (clock() - t0) / inner


# ---- pytest-benchmark mode -------------------------------------------------------------

try:
    import pytest
except ImportError:  # script mode works without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="module")
    def tc_lib():
        """The extension with its pool set to THREADS threads."""
        mod = pytest.importorskip("tensorcore._C")
        mod.lib.tc_set_num_threads(THREADS)
        return mod

    @pytest.mark.parametrize("case", CASES)
    @pytest.mark.parametrize("impl", ["tensorcore", "numpy"])
    def test_gemm_f32(benchmark, tc_lib, case, impl):
        """Time one shape with one implementation (group = shape)."""
        rng = np.random.default_rng(0)
        a, b = make_case(case, rng)
        c = np.empty((a.shape[0], b.shape[1]), np.float32)
        if impl == "tensorcore":
            fn = tc_caller(tc_lib.lib, tc_lib.ffi, a, b, c)
        else:
            fn = np_caller(a, b, c)
        benchmark.group = f"gemm f32 {case} ({THREADS} threads)"
        benchmark.extra_info["gflop"] = 2.0 * a.shape[0] * a.shape[1] * b.shape[1] / 1e9
        benchmark(fn)
        np.testing.assert_allclose(c, a @ b, rtol=1e-3, atol=1e-2)


# ---- script mode -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Print GFLOP/s of tensorcore and NumPy per shape and their time ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="alternating timing rounds; the best of each side is kept")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the calling thread's CPU time (needs TC_BENCH_THREADS=1:"
                             " both libraries then compute on this thread); on a shared"
                             " machine it leaves out the time the thread waits for a core")
    args = parser.parse_args(argv)
    if args.cpu_time and THREADS != 1:
        parser.error("--cpu-time needs TC_BENCH_THREADS=1")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    import tensorcore._C as C
    C.lib.tc_set_num_threads(THREADS)
    dtype = np.dtype(args.dtype)
    kernel = C.ffi.string(C.lib.tc_gemm_kernel_name(DTYPE_CODES[dtype])).decode()
    print(f"tensorcore kernel: {kernel}; threads: {THREADS}; numpy {np.__version__}")
    print(f"{'shape':26s} {'tc GFLOP/s':>11s} {'np GFLOP/s':>11s} {'ratio np/tc time':>17s}")
    rng = np.random.default_rng(0)
    runs = []
    for case in CASES:
        a, b = make_case(case, rng, dtype)
        c_tc = np.empty((a.shape[0], b.shape[1]), dtype)
        c_np = np.empty_like(c_tc)
        runs.append((case, 2.0 * a.shape[0] * a.shape[1] * b.shape[1], c_tc, c_np,
                     tc_caller(C.lib, C.ffi, a, b, c_tc), np_caller(a, b, c_np)))
    best_tc = {case: float("inf") for case in CASES}
    best_np = dict(best_tc)
    # Rounds alternate a tensorcore block and a NumPy block, each preceded by a pause:
    # OpenBLAS worker threads keep spinning for a while after a call and would steal the
    # second core from tensorcore's pool (and vice versa) if calls were interleaved.
    for _ in range(args.repeats):
        time.sleep(0.5)
        for case, _flop, _c, _cn, run_tc, _rn in runs:
            best_tc[case] = min(best_tc[case], best_time(run_tc, clock=clock))
        time.sleep(0.5)
        for case, _flop, _c, _cn, _rt, run_np in runs:
            best_np[case] = min(best_np[case], best_time(run_np, clock=clock))
    for case, flop, c_tc, c_np, _rt, _rn in runs:
        np.testing.assert_allclose(c_tc, c_np, rtol=1e-3, atol=1e-2)
        t_tc, t_np = best_tc[case], best_np[case]
        print(f"{case:26s} {flop / t_tc / 1e9:11.1f} {flop / t_np / 1e9:11.1f} "
              f"{t_np / t_tc:17.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
