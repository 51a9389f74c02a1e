"""User @njit code calling tensorcore's C kernels (tensorcore.numba_interop)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

numba = pytest.importorskip("numba")
tci = pytest.importorskip("tensorcore.numba_interop")


@numba.njit
def _chain(a, bs, out):
    """A user loop: out = a @ b0 @ b1 @ ... through tensorcore's GEMM, then + 1 and relu."""
    cur = a.copy()
    for i in range(bs.shape[0]):
        nxt = np.empty((cur.shape[0], bs.shape[2]), cur.dtype)
        tci.matmul(cur, bs[i], nxt)
        cur = nxt
    ones = np.ones_like(cur)
    tci.binary(tci.ADD, cur, ones, out)
    tci.unary(tci.RELU, out, out)
    return out


def test_jitted_loop_calls_tensorcore_kernels():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 5))
    bs = rng.standard_normal((3, 5, 5)) * 0.5
    out = _chain(a, bs, np.empty((6, 5)))
    expected = a
    for b in bs:
        expected = expected @ b
    np.testing.assert_allclose(out, np.maximum(expected + 1, 0), rtol=1e-12, atol=1e-12)


@numba.njit
def _raw(a, b, c):
    m, k = a.shape
    n = b.shape[1]
    s = a.itemsize
    return tci.tc_gemm(tci.dtype_code(a), m, n, k, 1.0, a.ctypes.data, a.strides[0] // s,
                       a.strides[1] // s, b.ctypes.data, b.strides[0] // s, b.strides[1] // s,
                       0.0, c.ctypes.data, n, 1)


def test_raw_function_pointer_with_strided_views():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((8, 6)).astype(np.float32)
    b = rng.standard_normal((7, 8)).astype(np.float32)
    av, bv = a[::2, ::-1], b[1:, ::-2]  # strided and reversed views, no copies
    c = np.empty((av.shape[0], bv.shape[1]), np.float32)
    assert _raw(av, bv, c) == 0
    np.testing.assert_allclose(c, av @ bv, rtol=1e-5, atol=1e-5)
    # an error path: wrong shapes raise instead of touching memory
    with pytest.raises(ValueError, match="shapes do not match"):
        tci.matmul(av, av, c)


def test_import_tensorcore_does_not_import_numba():
    code = "import sys, tensorcore; print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr
