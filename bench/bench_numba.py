"""pytest-benchmark: Numba backend vs NumPy, side by side in one run.

Run: ``python -m pytest bench/bench_numba.py --benchmark-only --benchmark-group-by=group``.
Ratios: compare the ``numba`` and ``numpy`` rows of each group (min or median).
"""

from __future__ import annotations

import numpy as np
import pytest

nb = pytest.importorskip("tensorcore.backend.numba_backend")

N = 1024


@pytest.fixture(scope="module", autouse=True)
def _two_threads():
    previous = nb.get_num_threads()
    nb.set_num_threads(2)
    yield
    nb.set_num_threads(previous)


@pytest.fixture(scope="module")
def matrices():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N)).astype(np.float32)
    b = rng.standard_normal((N, N)).astype(np.float32)
    return a, b, np.empty((N, N), dtype=np.float32)


@pytest.fixture(scope="module")
def broadcast_operands():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4096, 4096)).astype(np.float32)
    row = rng.standard_normal(4096).astype(np.float32)
    return x, row, np.empty_like(x)


@pytest.mark.benchmark(group="matmul 1024^3 f32")
def test_matmul_numba(benchmark, matrices):
    a, b, out = matrices
    nb.matmul(a, b, out)  # compile outside the timing
    benchmark(nb.matmul, a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-3, atol=1e-3)


@pytest.mark.benchmark(group="matmul 1024^3 f32")
def test_matmul_numpy(benchmark, matrices):
    a, b, out = matrices
    benchmark(np.matmul, a, b, out=out)


@pytest.mark.benchmark(group="add 4096x4096 + 4096 f32")
def test_broadcast_add_numba(benchmark, broadcast_operands):
    x, row, out = broadcast_operands
    row_view = np.broadcast_to(row, x.shape)
    nb.binary("add", x, row_view, out)
    benchmark(nb.binary, "add", x, row_view, out)
    np.testing.assert_array_equal(out, x + row)


@pytest.mark.benchmark(group="add 4096x4096 + 4096 f32")
def test_broadcast_add_numpy(benchmark, broadcast_operands):
    x, row, out = broadcast_operands
    benchmark(np.add, x, row, out=out)
