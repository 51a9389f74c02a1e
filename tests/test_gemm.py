"""Tests of the C GEMM (csrc/gemm*.c): the standalone C harness and tc_gemm / tc_matmul
called through the cffi extension, against np.matmul."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(REPO, "csrc")

DTYPES = {np.float32: 0, np.float64: 1, np.int32: 2, np.int64: 3}


# ---- the C harness (every SIMD level, stride pattern, edge size) ----------------------

def _c_compiler() -> str | None:
    for name in (os.environ.get("CC"), "gcc", "cc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _c_sources() -> list[str]:
    names = sorted(f for f in os.listdir(CSRC) if f.startswith("gemm") and f.endswith(".c"))
    names += ["cpu.c", "threads.c", "error.c"]
    return [os.path.join(CSRC, f) for f in names] + [
        os.path.join(REPO, "tests", "c", "test_gemm.c")]


@pytest.mark.parametrize("no_simd", [False, True], ids=["simd", "no_simd"])
def test_c_harness(tmp_path, no_simd):
    """Compile tests/c/test_gemm.c with the GEMM sources and run it (every SIMD level of
    the CPU, and TENSORCORE_GEMM_ISA forced below it)."""
    cc = _c_compiler()
    if cc is None:
        pytest.skip("no C compiler")
    exe = str(tmp_path / "test_gemm")
    cmd = [cc, "-O2", "-std=c11", "-pthread", "-I" + CSRC, *_c_sources(), "-lm", "-o", exe]
    if no_simd:
        cmd.insert(1, "-DTC_NO_SIMD")
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    env = {k: v for k, v in os.environ.items() if k != "TENSORCORE_SIMD"}
    run = subprocess.run([exe], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all levels passed" in run.stdout
    if no_simd:
        assert "kernels: avx" not in run.stdout
    elif "kernels: avx" in run.stdout:
        # TENSORCORE_GEMM_ISA=generic below an AVX level: the portable kernel, SIMD packing
        assert re.search(r"gemm_isa=generic\ntest_gemm: level=avx\w+ kernels: generic \S+ f32 "
                         r"\| generic \S+ f64.*\n.*: \d+ checks, 0 failures", run.stdout)


def test_thread_pool_stress(tmp_path):
    """tests/c/test_pool.c: every index of every tc_parallel_for job runs exactly once with
    2-4 threads, stalling pieces and two callers at once (also run under TSan in CI)."""
    cc = _c_compiler()
    if cc is None:
        pytest.skip("no C compiler")
    exe = str(tmp_path / "test_pool")
    sources = [os.path.join(CSRC, f) for f in ("threads.c", "error.c")]
    cmd = [cc, "-O2", "-std=c11", "-pthread", "-I" + CSRC, *sources,
           os.path.join(REPO, "tests", "c", "test_pool.c"), "-lm", "-o", exe]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([exe], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_pool: ok" in run.stdout


# ---- through the extension ---------------------------------------------------------------

@pytest.fixture(scope="module")
def C():
    """The built extension module (skip when it is not built)."""
    return pytest.importorskip("tensorcore._C")


def _ptr(C, arr: np.ndarray):
    return C.ffi.cast("void *", arr.ctypes.data)


def _es(arr: np.ndarray) -> tuple[int, int]:
    """Row and column strides of a 2-D array, in elements."""
    return arr.strides[0] // arr.itemsize, arr.strides[1] // arr.itemsize


def _gemm(C, a, b, c, alpha=1.0, beta=0.0) -> None:
    m, k = a.shape
    n = b.shape[1]
    st = C.lib.tc_gemm(DTYPES[a.dtype.type], m, n, k, alpha, _ptr(C, a), *_es(a),
                       _ptr(C, b), *_es(b), beta, _ptr(C, c), *_es(c))
    assert st == 0, C.ffi.string(C.lib.tc_last_error())


def _random(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-5, 6, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _view(rng, arr: np.ndarray, kind: str) -> np.ndarray:
    """`arr`'s values as a view with the requested memory layout."""
    if kind == "row":
        return arr
    if kind == "col":
        return np.asfortranarray(arr)
    if kind == "transposed":
        return np.ascontiguousarray(arr.T).T
    if kind == "negative":
        return np.ascontiguousarray(arr[::-1, ::-1])[::-1, ::-1]
    if kind == "strided":
        big = np.zeros((arr.shape[0] * 2, arr.shape[1] * 3), arr.dtype)
        big[::2, ::3] = arr
        return big[::2, ::3]
    raise AssertionError(kind)


def _tol(dtype, k):
    return {np.float32: 2e-5 * max(k, 1) ** 0.5, np.float64: 1e-12 * max(k, 1)}.get(dtype, 0)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_gemm_random_shapes(C, dtype, threads):
    rng = np.random.default_rng(1234 + threads)
    C.lib.tc_set_num_threads(threads)
    kinds = ["row", "col", "transposed", "negative", "strided"]
    try:
        for trial in range(40):
            m, n, k = (int(v) for v in rng.integers(0, 90, size=3))
            if trial % 5 == 0:
                m, n, k = (int(v) for v in rng.integers(100, 400, size=3))
            a = _view(rng, _random(rng, (m, k), dtype), kinds[trial % 5])
            b = _view(rng, _random(rng, (k, n), dtype), kinds[(trial // 5) % 5])
            c = _view(rng, np.full((m, n), np.nan if dtype in (np.float32, np.float64) else 77,
                                   dtype), kinds[(trial // 2) % 5])
            _gemm(C, a, b, c)
            ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
            np.testing.assert_allclose(c, ref, rtol=_tol(dtype, k), atol=_tol(dtype, k),
                                       err_msg=f"m={m} n={n} k={k} trial={trial}")
    finally:
        C.lib.tc_set_num_threads(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_alpha_beta_and_broadcast(C, dtype):
    rng = np.random.default_rng(7)
    m, n, k = 70, 45, 300
    row = _random(rng, (1, k), dtype)
    a = np.broadcast_to(row, (m, k))                     # zero row stride
    col = _random(rng, (k, 1), dtype)
    b = np.broadcast_to(col, (k, n))                     # zero column stride
    c0 = _random(rng, (m, n), dtype)
    c = c0.copy()
    _gemm(C, a, b, c, alpha=-0.5, beta=2.0)
    ref = -0.5 * (a.astype(np.float64) @ b.astype(np.float64)) + 2.0 * c0
    np.testing.assert_allclose(c, ref, rtol=_tol(dtype, k), atol=_tol(dtype, k))


def test_chapter2_shapes(C):
    """The three training-loop products, with the transposes read through strides."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = rng.standard_normal((784, 512)).astype(np.float32)
    dy = rng.standard_normal((128, 512)).astype(np.float32)
    for a, b in ((x, w), (x.T, dy), (dy, w.T)):
        c = np.full((a.shape[0], b.shape[1]), np.nan, np.float32)
        _gemm(C, a, b, c)
        np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64),
                                   rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_threads_private_and_shared_packed_b(C, dtype):
    """With 2 threads the driver packs B once per thread when a region's packed B fits in
    L2 (each thread's copy, no panel flags) and shares one copy otherwise; both, split over
    M or N, with several K blocks and beta != 0, must match one thread and NumPy."""
    rng = np.random.default_rng(11)
    shapes = [(512, 128, 784), (128, 784, 512), (40, 700, 900), (600, 600, 700)]
    try:
        for m, n, k in shapes:
            a = _random(rng, (k, m), dtype).T               # unit stride along M
            b = _random(rng, (k, n), dtype)
            c0 = _random(rng, (m, n), dtype)
            ref = 0.5 * (a.astype(np.float64) @ b.astype(np.float64)) + 0.5 * c0
            out = {}
            for threads in (1, 2):
                C.lib.tc_set_num_threads(threads)
                out[threads] = c0.copy()
                _gemm(C, a, b, out[threads], alpha=0.5, beta=0.5)
                np.testing.assert_allclose(out[threads], ref, rtol=_tol(dtype, k),
                                           atol=_tol(dtype, k),
                                           err_msg=f"m={m} n={n} k={k} threads={threads}")
            np.testing.assert_array_equal(out[1], out[2], err_msg=f"m={m} n={n} k={k}")
    finally:
        C.lib.tc_set_num_threads(0)


def test_gemm_zero_sizes(C):
    a = np.ones((3, 0), np.float32)
    b = np.ones((0, 4), np.float32)
    c = np.full((3, 4), np.nan, np.float32)
    _gemm(C, a, b, c)
    assert (c == 0).all()
    c[:] = 2
    _gemm(C, a, b, c, beta=3.0)
    assert (c == 6).all()


def _matmul(C, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul semantics for >= 2-D inputs via tc_matmul (broadcast batch dims)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_b = np.broadcast_to(a, batch + a.shape[-2:])
    b_b = np.broadcast_to(b, batch + b.shape[-2:])
    m, k = a.shape[-2:]
    n = b.shape[-1]
    out = np.full(batch + (m, n), np.nan if a.dtype.kind == "f" else 5, a.dtype)
    es = a.itemsize
    nd = len(batch)
    shape = C.ffi.new("int64_t[]", list(batch) or [0])
    abs_ = C.ffi.new("int64_t[]", [s // es for s in a_b.strides[:-2]] or [0])
    bbs = C.ffi.new("int64_t[]", [s // es for s in b_b.strides[:-2]] or [0])
    cbs = C.ffi.new("int64_t[]", [s // es for s in out.strides[:-2]] or [0])
    st = C.lib.tc_matmul(DTYPES[a.dtype.type], nd, shape, abs_, bbs, cbs, m, n, k,
                         _ptr(C, a_b), a_b.strides[-2] // es, a_b.strides[-1] // es,
                         _ptr(C, b_b), b_b.strides[-2] // es, b_b.strides[-1] // es,
                         _ptr(C, out), out.strides[-2] // es, out.strides[-1] // es)
    assert st == 0, C.ffi.string(C.lib.tc_last_error())
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shapes", [
    ((2, 3, 5, 7), (2, 3, 7, 4)),
    ((3, 1, 20, 30), (4, 30, 9)),          # broadcast batch dims
    ((6, 40, 50), (50, 60)),               # one B for every batch item
    ((1, 2, 130, 140), (2, 140, 150)),     # packed path in each item
    ((64, 8, 8), (64, 8, 8)),              # many tiny items: batch-parallel path
    ((0, 4, 5), (5, 6)),                   # empty batch
])
def test_matmul_batched(C, dtype, shapes):
    rng = np.random.default_rng(11)
    a = _random(rng, shapes[0], dtype)
    b = _random(rng, shapes[1], dtype)
    out = _matmul(C, a, b)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    k = a.shape[-1]
    np.testing.assert_allclose(out, ref, rtol=_tol(dtype, k), atol=_tol(dtype, k))


def test_matmul_transposed_batch(C):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 33, 21)).astype(np.float32).transpose(0, 2, 1)  # (4, 21, 33)
    b = rng.standard_normal((4, 19, 33)).astype(np.float32).transpose(0, 2, 1)  # (4, 33, 19)
    out = _matmul(C, a, b)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-4, atol=1e-4)


def test_errors(C):
    x = np.zeros((2, 2), np.float32)
    p = _ptr(C, x)
    assert C.lib.tc_gemm(4, 2, 2, 2, 1.0, p, 2, 1, p, 2, 1, 0.0, p, 2, 1) == -1
    assert b"tc_gemm" in C.ffi.string(C.lib.tc_last_error())
    assert C.lib.tc_gemm(0, -1, 2, 2, 1.0, p, 2, 1, p, 2, 1, 0.0, p, 2, 1) == -1
    assert C.lib.tc_gemm(0, 2, 2, 2, 1.0, C.ffi.NULL, 2, 1, p, 2, 1, 0.0, p, 2, 1) == -1
    assert C.lib.tc_gemm(0, 2, 2, 2, 1.0, p, 2, 1, p, 2, 1, 0.0, C.ffi.NULL, 2, 1) == -1


def test_kernel_name_and_level(C):
    level = C.ffi.string(C.lib.tc_simd_level()).decode()
    assert level in ("avx512", "avx2", "generic")
    name = C.ffi.string(C.lib.tc_gemm_kernel_name(0)).decode()
    assert name.startswith(level) and name.endswith("f32")
    assert C.ffi.string(C.lib.tc_gemm_kernel_name(1)).decode().endswith("f64")


@pytest.mark.parametrize("level", ["generic", "avx2", "avx512"])
def test_forced_level_in_subprocess(C, level):
    """TENSORCORE_SIMD caps the level; each kernel agrees with NumPy through the ffi."""
    code = (
        "import numpy as np, tensorcore._C as C\n"
        "lib, ffi = C.lib, C.ffi\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.standard_normal((150, 170)).astype(np.float32)\n"
        "b = rng.standard_normal((170, 130)).astype(np.float32).T.copy().T\n"
        "c = np.full((150, 130), np.nan, np.float32)\n"
        "p = lambda x: ffi.cast('void *', x.ctypes.data)\n"
        "assert lib.tc_gemm(0, 150, 130, 170, 1.0, p(a), 170, 1, p(b), 1, 170, 0.0,"
        " p(c), 130, 1) == 0\n"
        "np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)\n"
        "print(ffi.string(lib.tc_simd_level()).decode())\n"
    )
    env = dict(os.environ, TENSORCORE_SIMD=level)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=REPO)
    assert run.returncode == 0, run.stderr
    order = ["generic", "avx2", "avx512"]
    got = run.stdout.strip()
    assert order.index(got) <= order.index(level)
