"""GEMM memory bounds (docs/memory-bounds.md): the packed-B scratch is bounded by the cache
blocking whatever K is, matrix-vector products (m == 1 or n == 1) do not pack at all, and
a K of 2**31 computes. RSS is measured in fresh subprocesses (Linux /proc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F32, F64 = 0, 1

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="needs /proc (Linux)")


@pytest.fixture(scope="module")
def C():
    return pytest.importorskip("tensorcore._C")


def _run(code: str, threads: int = 2) -> dict:
    """Runs `code` (which prints one JSON line last) in a fresh interpreter."""
    prelude = (
        "import os, json, numpy as np\n"
        "def rss():\n"
        "    with open('/proc/self/statm') as f:\n"
        "        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) * 1024\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TENSORCORE_NUM_THREADS=str(threads))
    run = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                         text=True, env=env, cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_dot_of_5e7_elements_keeps_rss_flat():
    """Was: 1.2 GB of packing scratch (NR * K elements), kept after the call."""
    out = _run(
        "import tensorcore as tc\n"
        "n = 50_000_000\n"
        "a = np.ones(n, np.float32); b = np.full(n, 0.5, np.float32)\n"
        "tc.matmul(np.ones(8, np.float32), np.ones(8, np.float32))  # pool, caches\n"
        "before, peak0 = rss(), peak()\n"
        "r = float(tc.matmul(a, b).numpy())\n"
        "after = rss()\n"
        "del a, b\n"
        "print(json.dumps({'r': r, 'rise': after - before,\n"
        "                  'peak': peak() - max(peak0, before)}))\n")
    assert out["r"] == 25_000_000.0
    assert out["rise"] < 32 * 2 ** 20, out
    assert out["peak"] < 32 * 2 ** 20, out


def test_long_k_gemm_scratch_is_bounded():
    """m = n = 7, K = 2**23 through the packed path with zero-stride operands: the packed
    B would be NR * K elements (192 MiB) if it held all of K."""
    out = _run(
        "import tensorcore._C as C\n"
        "k = 2 ** 23\n"
        "one = np.ones(1, np.float32); c = np.full((7, 7), np.nan, np.float32)\n"
        "p = lambda x: C.ffi.cast('void *', x.ctypes.data)\n"
        "before = rss()\n"
        "st = C.lib.tc_gemm(0, 7, 7, k, 1.0, p(one), 0, 0, p(one), 0, 0, 0.0, p(c), 7, 1)\n"
        "assert st == 0, C.ffi.string(C.lib.tc_last_error())\n"
        "print(json.dumps({'c': sorted(set(c.ravel().tolist())), 'rise': rss() - before}))\n")
    assert out["c"] == [2.0 ** 23]
    assert out["rise"] < 32 * 2 ** 20, out


def test_k_of_2_pow_31_computes():
    """Was: 'out of memory for packing buffers'. Zero strides: one element stands for the
    whole vector, so the test needs no 8 GB of input."""
    out = _run(
        "import tensorcore._C as C\n"
        "k = 2 ** 31\n"
        "a = np.ones(1, np.float32); b = np.full(1, 0.5, np.float32)\n"
        "c = np.full(1, np.nan, np.float32)\n"
        "p = lambda x: C.ffi.cast('void *', x.ctypes.data)\n"
        "before = rss()\n"
        "st = C.lib.tc_gemm(0, 1, 1, k, 1.0, p(a), 0, 0, p(b), 0, 0, 0.0, p(c), 1, 1)\n"
        "assert st == 0, C.ffi.string(C.lib.tc_last_error())\n"
        "print(json.dumps({'c': float(c[0]), 'rise': rss() - before}))\n")
    assert out["c"] == 2.0 ** 30
    assert out["rise"] < 32 * 2 ** 20, out


def _ptr(C, arr):
    return C.ffi.cast("void *", arr.ctypes.data)


def _es(arr):
    return arr.strides[0] // arr.itemsize, arr.strides[1] // arr.itemsize


def _gemm(C, a, b, c, alpha=1.0, beta=0.0):
    code = F32 if a.dtype == np.float32 else F64
    st = C.lib.tc_gemm(code, a.shape[0], b.shape[1], a.shape[1], alpha, _ptr(C, a), *_es(a),
                       _ptr(C, b), *_es(b), beta, _ptr(C, c), *_es(c))
    assert st == 0, C.ffi.string(C.lib.tc_last_error())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_k_groups_match_numpy(C, dtype):
    """K long enough that the packed B of one NC block takes several regions (K groups)."""
    rng = np.random.default_rng(5)
    m, n, k = 7, 9, 200_003 if dtype == np.float32 else 120_001
    a = rng.standard_normal((m, k)).astype(dtype)
    b = np.asfortranarray(rng.standard_normal((k, n)).astype(dtype))
    c0 = rng.standard_normal((m, n)).astype(dtype)
    c = c0.copy()
    _gemm(C, a, b, c, alpha=0.5, beta=-1.0)
    ref = 0.5 * (a.astype(np.float64) @ b.astype(np.float64)) - c0
    tol = 3e-5 * k ** 0.5 if dtype == np.float32 else 1e-12 * k
    np.testing.assert_allclose(c, ref, rtol=tol, atol=tol)


def _layouts(rng, arr):
    yield arr
    yield np.asfortranarray(arr)
    big = np.zeros((arr.shape[0] * 2, arr.shape[1] * 3), arr.dtype)
    big[::2, ::3] = arr
    yield big[::2, ::3]
    yield np.ascontiguousarray(arr[::-1, ::-1])[::-1, ::-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 300, 40), (1, 3000, 1), (40, 1, 300), (1, 7, 200_000),
                                   (5, 200_000, 1), (40, 1, 70_001), (1, 40, 70_001)],
                         ids=lambda s: "x".join(map(str, s)) if isinstance(s, tuple) else "")
def test_gemv_paths_match_numpy_and_thread_count(C, dtype, shape):
    """m == 1 or n == 1 in every layout: row, column, K-split dot forms; alpha, beta; the
    result is bit-identical with 1 and 2 threads (the K pieces depend on K only)."""
    m, n, k = shape
    rng = np.random.default_rng(sum(shape))
    a0 = rng.standard_normal((m, k)).astype(dtype)
    b0 = rng.standard_normal((k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    ref = 1.5 * (a0.astype(np.float64) @ b0.astype(np.float64)) + 0.25 * c0
    tol = 3e-5 * k ** 0.5 if dtype == np.float32 else 1e-12 * k
    try:
        for a, b in zip(_layouts(rng, a0), list(_layouts(rng, b0))[::-1]):
            results = []
            for threads in (1, 2):
                C.lib.tc_set_num_threads(threads)
                c = c0.copy()
                _gemm(C, a, b, c, alpha=1.5, beta=0.25)
                np.testing.assert_allclose(c, ref, rtol=tol, atol=tol)
                results.append(c)
            np.testing.assert_array_equal(results[0], results[1])
            c = np.full((m, n), np.nan, dtype)
            _gemm(C, a, b, c)             # beta == 0: NaN in C is not read
            assert np.isfinite(c).all()
    finally:
        C.lib.tc_set_num_threads(0)
