"""Cache-aware GEMM blocking (csrc/gemm_blocking.c): detected caches, the BLIS analytical
model's KC/MC/NC, TENSORCORE_GEMM_ISA, and their display in tc.show_config()."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def C():
    return pytest.importorskip("tensorcore._C")


def _sysfs_caches() -> dict[int, int] | None:
    base = "/sys/devices/system/cpu/cpu0/cache"
    if not os.path.isdir(base):
        return None
    found = {}
    for name in sorted(os.listdir(base)):
        if not name.startswith("index"):
            continue
        read = lambda f: open(os.path.join(base, name, f)).read().strip()  # noqa: E731
        try:
            if read("type") == "Instruction":
                continue
            size = read("size")
            scale = {"K": 1024, "M": 1024 ** 2}.get(size[-1], 1)
            found[int(read("level"))] = int(size.rstrip("KM")) * scale
        except OSError:
            return None
    return found


def test_cache_sizes_match_the_os(C):
    sizes = C.ffi.new("int64_t[3]")
    assert C.lib.tc_cache_sizes(sizes) == 0
    assert sizes[0] > 0 and sizes[1] > sizes[0]
    sysfs = _sysfs_caches()
    if not sysfs:
        pytest.skip("no sysfs cache description to compare with")
    for level in (1, 2, 3):
        if level in sysfs:
            assert sizes[level - 1] == sysfs[level], (level, list(sizes), sysfs)


@pytest.mark.parametrize("dtype", [0, 1])
def test_blocks_fit_their_caches(C, dtype):
    """The model's promises: B micro-panel in L1, A block in L2, B panel (KC x NC) within
    the 8 MiB packed-B floor; KC a multiple of 8, MC of MR, NC of NR."""
    sizes = C.ffi.new("int64_t[3]")
    assert C.lib.tc_cache_sizes(sizes) == 0
    blocks = C.ffi.new("int64_t[5]")
    assert C.lib.tc_gemm_blocks(dtype, blocks) == 0
    mr, nr, kc, mc, nc = list(blocks)
    es = 4 if dtype == 0 else 8
    assert kc % 8 == 0 and mc % mr == 0 and nc % nr == 0
    assert kc * nr * es < sizes[0]
    assert mc * kc * es < sizes[1]
    assert kc * nc * es <= 8 << 20
    assert C.lib.tc_gemm_blocks(2, blocks) == -1
    assert b"tc_gemm_blocks" in C.ffi.string(C.lib.tc_last_error())


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_gemm_isa_switch(isa):
    """TENSORCORE_GEMM_ISA picks the C kernel family (never above what the CPU has); the
    chosen kernel computes a product with edge tiles correctly; show_config shows it."""
    code = (
        "import numpy as np, tensorcore as tc\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.standard_normal((150, 300)).astype(np.float32)\n"
        "b = rng.standard_normal((300, 70)).astype(np.float32)\n"
        "np.testing.assert_allclose(tc.matmul(a, b).numpy(), a.astype(np.float64) @ b,"
        " rtol=1e-4, atol=1e-3)\n"
        "tc.show_config()\n"
    )
    env = dict(os.environ, TENSORCORE_GEMM_ISA=isa,
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TENSORCORE_SIMD", None)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=REPO)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(None, 1) for line in run.stdout.splitlines() if " " in line)
    simd = lines["c.simd"].strip()
    order = ["generic", "avx2", "avx512"]
    want = order[min(order.index(isa), order.index(simd))]
    assert lines["c.gemm_kernel_f32"].startswith(want)
    assert "KC=" in lines["c.gemm_blocks_f32"] and "L1d=" in lines["c.caches"]
