"""GEMM targets through the backend interface (C and Numba) vs np.matmul.

Run: `pytest bench/bench_fused_gemm.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = [
    "gemm 1024^3 (C)",
    "gemm 1024^3 (Numba)",
    "gemm x@W 128x784x512",
    "gemm x.T@dy 784x128x512",
    "gemm dy@W.T 128x512x784",
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
