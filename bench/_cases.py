"""Shared helper for the pytest-benchmark files: side-by-side cases from tensorcore._bench.

Each bench file parametrizes over ("tensorcore", reference) for one case; both sides land
in one pytest-benchmark group so the report shows them next to each other. A case whose
reference (PyTorch) is not installed is skipped.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_name, None)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

from tensorcore import _bench  # noqa: E402

SIDES = ["tensorcore", "reference"]
_built: dict[str, tuple] = {}


def run_case(benchmark, name: str, side: str, rounds: int | None = None) -> None:
    """Benchmark one side of the named case of tensorcore._bench.CASES."""
    builder, target, ref_name, _ = _bench.CASES[name]
    if name not in _built:
        _built[name] = builder()
    case = _built[name]
    if case is None:
        pytest.skip(f"{ref_name} is not installed")
    benchmark.group = f"{name} (target ratio >= {target} vs {ref_name})"
    benchmark.extra_info["side"] = side if side == "tensorcore" else ref_name
    fn = case[0] if side == "tensorcore" else case[1]
    if rounds is None:
        benchmark(fn)
    else:
        benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
