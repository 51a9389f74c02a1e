"""Chapter-5 convnet: one epoch through model.fit, Conv2D 3x3 64->64 on (64, 28, 28, 64)
forward and forward+backward, MaxPooling2D 2x2 forward+backward, and the GEMM of the same
shape as the conv, each vs PyTorch (NumPy for the GEMM); skipped without torch.

Run: `pytest bench/bench_conv.py --benchmark-only` (ratios and GFLOP/s:
`python -m tensorcore bench --only conv max_pool`). extra_info["gflops"] holds the GFLOP/s
of each side of a conv/GEMM case.
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case
from tensorcore import _bench


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", ["gemm conv 50176x576x64", "conv2d 3x3 64->64 fwd",
                                  "conv2d 3x3 64->64 fwd+bwd"])
def test_conv_gflops(benchmark, side, name):
    run_case(benchmark, name, side)
    benchmark.extra_info["gflops"] = _bench.FLOPS[name] / benchmark.stats.stats.median / 1e9


@pytest.mark.parametrize("side", SIDES)
def test_max_pool2d(benchmark, side):
    run_case(benchmark, "max_pool2d 2x2 fwd+bwd", side)


@pytest.mark.parametrize("side", SIDES)
def test_convnet_epoch(benchmark, side):
    run_case(benchmark, "convnet epoch (fit)", side, rounds=3)
