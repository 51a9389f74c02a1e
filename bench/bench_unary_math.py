"""float32 exp, log, sin, tanh on 4096x4096 through the Tensor API vs NumPy (target >= 1.5).

Run: `pytest bench/bench_unary_math.py --benchmark-only` (both sides in one group each), or
`python bench/bench_unary_math.py` for the ratios side by side: single-thread CPU time
(time.process_time, TENSORCORE threads = 1; NumPy's ufuncs are single-threaded), which a
shared machine distorts least, and the 2-thread wall-clock ratio of `python -m tensorcore
bench --only exp log sin tanh`. Accuracy of the same kernels: `python bench/ulp_error.py`.
"""

from __future__ import annotations

import pytest

import sys
import time

from _cases import SIDES, run_case

NAMES = ["exp 4096^2", "log 4096^2", "sin 4096^2", "tanh 4096^2"]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)


def _cpu_ms(fn, repeats: int) -> float:
    """Smallest CPU time of `repeats` calls (after one warm-up call), in ms."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best * 1e3


def main(repeats: int = 5) -> int:
    """Print single-thread CPU-time ratios, then the 2-thread wall-clock table."""
    from tensorcore import _bench

    threads = _bench.THREADS
    _bench.THREADS = 1                  # read by the case builders (tc.set_num_threads)
    print("single thread, CPU time (min of %d calls); ratio = numpy / tensorcore" % repeats)
    print(f"| {'case':12s} | {'tensorcore':>10s} | {'numpy':>10s} | {'ratio':>5s} |")
    for name in NAMES:
        ours, theirs = _bench.CASES[name][0]()
        mine, ref = _cpu_ms(ours, repeats), _cpu_ms(theirs, repeats)
        print(f"| {name:12s} | {mine:7.2f} ms | {ref:7.2f} ms | {ref / mine:5.2f} |", flush=True)
    _bench.THREADS = threads
    print(f"\n{_bench.THREADS} threads, wall clock (python -m tensorcore bench):")
    _bench.run(NAMES, repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
