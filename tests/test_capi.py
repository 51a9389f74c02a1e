"""Builds tests/c/test_capi.c (the public C API, no Python) and runs it.

With a compiler that has AddressSanitizer/UBSan the program is built with
-fsanitize=address,undefined and run with leak detection ON, so a leak, an out-of-bounds access
or undefined behaviour in the C core fails this test. Skipped only when there is no C compiler.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(REPO, "csrc")
PROGRAM = os.path.join(REPO, "tests", "c", "test_capi.c")
BASE_FLAGS = ["-O1", "-g", "-std=c11", "-pthread", "-fwrapv", "-fno-strict-aliasing",
              "-fno-trapping-math"]
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer"]


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "gcc", "cc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(cc: str, flags: list[str], exe: str) -> subprocess.CompletedProcess:
    sources = sorted(glob.glob(os.path.join(CSRC, "*.c")))
    return subprocess.run([cc, *flags, "-I" + CSRC, *sources, PROGRAM, "-lm", "-o", exe],
                          capture_output=True, text=True)


def test_c_api_program_under_sanitizers(tmp_path):
    """The C API program passes, with ASan + UBSan + LeakSanitizer when available."""
    cc = _compiler()
    if cc is None:
        pytest.skip("no C compiler")
    exe = str(tmp_path / "test_capi")
    build = _build(cc, BASE_FLAGS + SANITIZE_FLAGS, exe)
    sanitized = build.returncode == 0
    if not sanitized:      # a compiler without the sanitizer runtimes: still run the checks
        build = _build(cc, BASE_FLAGS, exe)
    assert build.returncode == 0, build.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:halt_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    env.pop("LD_PRELOAD", None)
    run = subprocess.run([exe], capture_output=True, text=True, env=env)
    output = run.stdout + run.stderr
    print(f"sanitized={sanitized}\n{output}")
    assert run.returncode == 0, output
    assert "0 failures" in run.stdout, output
    assert "runtime error:" not in output and "Sanitizer" not in output, output
