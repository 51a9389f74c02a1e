"""The plain C library and header: compile examples/c/matmul_example.c and check it."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import tensorcore as tc

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "c", "matmul_example.c")
COMPILER = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")


def test_header_and_library_are_installed():
    assert os.path.isfile(os.path.join(tc.get_include(), "tensorcore.h"))
    path = tc.get_library_path()
    assert os.path.isfile(path) and os.path.basename(path).startswith("libtensorcore")


def test_tc_version_is_the_package_version():
    from tensorcore import _C
    assert _C.ffi.string(_C.lib.tc_version()).decode() == tc.__version__


def _parse(output: str) -> dict:
    lines = {}
    for line in output.splitlines():
        name, _, rest = line.partition(":")
        lines[name] = rest.strip()
    return lines


@pytest.mark.skipif(COMPILER is None, reason="no C compiler (gcc/cc/$CC) found")
def test_c_example_matches_numpy(tmp_path):
    library = tc.get_library_path()
    libdir = os.path.dirname(library)
    exe = str(tmp_path / "matmul_example")
    cmd = [COMPILER, "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", EXAMPLE,
           "-I", tc.get_include(), "-L", libdir, "-l:" + os.path.basename(library),
           "-Wl,-rpath," + libdir, "-o", exe]
    build = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    run = subprocess.run([exe], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    out = _parse(run.stdout)

    def floats(name):
        return np.array([float(v) for v in out[name].split()], dtype=np.float32)

    assert out["version"] == tc.__version__
    a = floats("a").reshape(3, 4)
    b = floats("b").reshape(4, 5)
    bias = np.arange(5, dtype=np.float32)
    expected = a @ b
    np.testing.assert_allclose(floats("matmul").reshape(3, 5), expected, rtol=1e-6, atol=1e-6)
    expected = expected + bias
    np.testing.assert_allclose(floats("add_bias").reshape(3, 5), expected, rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(floats("sum_axis1"), expected.sum(axis=1), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(floats("transpose").reshape(5, 3), expected.T, rtol=1e-6,
                               atol=1e-6)
    assert out["error"].startswith("status=-1 message=tc_gemm:")
    assert out["ok"] == ""
