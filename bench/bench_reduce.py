"""Sums over axis 0 and axis 1 of 4096x4096 vs NumPy.

Run: `pytest bench/bench_reduce.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = [
    "sum axis 0 4096^2",
    "sum axis 1 4096^2",
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
