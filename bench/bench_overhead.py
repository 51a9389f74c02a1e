"""1000 small (4x4) additions with requires_grad vs PyTorch (skipped without torch).

Run: `pytest bench/bench_overhead.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = [
    "1000 small adds (grad)",
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
