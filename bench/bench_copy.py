"""Materialized transpose of 4096x4096 vs np.ascontiguousarray(a.T).

Run: `pytest bench/bench_copy.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = [
    "transpose copy 4096^2",
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
