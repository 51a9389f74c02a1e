"""`import tensorcore` vs `import torch`, each in a fresh interpreter (skipped without torch).

Run: `pytest bench/bench_import.py --benchmark-only` (ratios: `python -m tensorcore bench`).
The measured time includes interpreter start-up; the ratio in `python -m tensorcore bench`
subtracts `python -c pass`.
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case


@pytest.mark.parametrize("side", SIDES)
def test_import(benchmark, side):
    run_case(benchmark, "import (fresh process)", side, rounds=10)
