"""Broadcast add 4096x4096 + 4096 through the Tensor API vs NumPy a + b.

Run: `pytest bench/bench_elementwise.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = [
    "broadcast add 4096^2+4096",
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
