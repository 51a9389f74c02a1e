"""Issue #13's conv cases single-threaded, by CPU time: tensorcore (1 thread) and PyTorch
(torch.set_num_threads(1)) / NumPy (1 OpenBLAS thread) in the same process, alternating.

On a machine shared with other jobs the 2-thread wall-clock ratios of
`python -m tensorcore bench --only conv max_pool` measure the load as much as the kernels;
CPU time of one thread leaves out the time a thread waits for a core. Prints, per case, the
minimum CPU time of each side over --repeats calls, the ratio (reference / tensorcore) and
GFLOP/s where the case has a flop count.

    python bench/conv_cpu_time.py [--repeats 5] [--epoch-images 3200] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["TENSORCORE_NUM_THREADS"] = "1"

from tensorcore import _bench  # noqa: E402

_bench.THREADS = 1


def cases(epoch_images: int) -> dict:
    """name -> (builder, reference name, flops or None)."""
    return {
        "gemm conv 50176x576x64": (_bench.case_conv_gemm, "numpy", _bench.CONV_FLOPS),
        "conv2d 3x3 64->64 fwd": (lambda: _bench.case_conv(False), "torch", _bench.CONV_FLOPS),
        "conv2d 3x3 64->64 fwd+bwd": (lambda: _bench.case_conv(True), "torch",
                                      3 * _bench.CONV_FLOPS),
        "max_pool2d 2x2 fwd+bwd": (_bench.case_maxpool, "torch", None),
        f"convnet epoch on {epoch_images} images": (
            lambda: _bench.case_convnet_epoch(epoch_images), "torch", None),
    }


def cpu_min(fn, repeats: int) -> float:
    """Minimum process CPU time of `repeats` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epoch-images", type=int, default=3200)
    parser.add_argument("--only", nargs="+", default=None,
                        help="run the cases whose name contains one of these words")
    args = parser.parse_args(argv)
    table = cases(args.epoch_images)
    names = [n for n in table if args.only is None or any(w in n for w in args.only)]
    print("one thread each side, process CPU time, min of "
          f"{args.repeats} alternating calls; ratio = reference / tensorcore")
    print(f"| {'case':32s} | {'tensorcore':>10s} | {'reference':>16s} | ratio | "
          "tc GFLOP/s | ref GFLOP/s |")
    for name in names:
        builder, ref_name, flops = table[name]
        case = builder()
        if case is None:
            print(f"| {name:32s} | skipped: {ref_name} is not installed")
            continue
        ours, theirs = case
        ours(), theirs()                       # warm up (scratch buffers, JIT, caches)
        mine, ref = float("inf"), float("inf")
        rounds = 1 if "epoch" in name else args.repeats
        for _ in range(rounds):
            mine = min(mine, cpu_min(ours, 1 if "epoch" in name else 2))
            ref = min(ref, cpu_min(theirs, 1 if "epoch" in name else 2))
        rates = (f"{flops / mine / 1e9:10.1f} | {flops / ref / 1e9:11.1f}" if flops
                 else f"{'':10s} | {'':11s}")
        print(f"| {name:32s} | {mine * 1e3:8.1f} ms | {ref_name:>6s} {ref * 1e3:6.1f} ms | "
              f"{ref / mine:5.2f} | {rates} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
