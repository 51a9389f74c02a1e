"""One chapter-2 MNIST epoch through model.fit vs PyTorch eager (skipped without torch).

Run: `pytest bench/bench_training.py --benchmark-only` (ratios: `python -m tensorcore bench`).
"""

from __future__ import annotations

import pytest

from _cases import SIDES, run_case


@pytest.mark.parametrize("side", SIDES)
def test_mnist_epoch(benchmark, side):
    run_case(benchmark, "mnist epoch (fit)", side, rounds=3)
