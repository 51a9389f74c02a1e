"""float32 exp, log, sin, tanh on 4096x4096 through the Tensor API vs NumPy (target >= 1.5).

Run: `pytest bench/bench_unary_math.py --benchmark-only` (ratios: `python -m tensorcore bench
--only exp log sin tanh`). Accuracy of the same kernels: `python bench/ulp_error.py`.
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case

NAMES = ["exp 4096^2", "log 4096^2", "sin 4096^2", "tanh 4096^2"]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", NAMES)
def test_case(benchmark, name, side):
    run_case(benchmark, name, side)
