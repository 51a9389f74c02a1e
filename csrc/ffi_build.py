"""cffi builder for the tensorcore._C extension (out-of-line API mode).

Used by setup.py (``cffi_modules=["csrc/ffi_build.py:ffibuilder"]``) and, for
development, run directly (``python csrc/ffi_build.py``) to build the extension in
place into ``tensorcore/``.

Environment switches: ``TENSORCORE_NO_SIMD=1`` compiles without the SIMD paths (defines
``TC_NO_SIMD``); ``TENSORCORE_SANITIZE=1`` adds AddressSanitizer/UBSan instrumentation.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig

import cffi

CSRC_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(CSRC_DIR)
HEADER = os.path.join(CSRC_DIR, "tensorcore.h")

PY_DIR = os.path.join(CSRC_DIR, "python")
# The Python-facing shims (byte strides, flat fast paths): csrc/python/tc_py.c, declared in
# csrc/python/tc_py.h (which includes tensorcore.h). Compiled into tensorcore._C only.
SHIM_HEADER = os.path.join(PY_DIR, "tc_py.h")
SHIM_SOURCES = [os.path.join(PY_DIR, "tc_py.c")]
# Every header the C sources include. setuptools rebuilds an extension only when a file in its
# sources or depends is newer than the built library, so without these a header-only change
# left the previous (stale) library in place.
HEADERS = sorted(glob.glob(os.path.join(CSRC_DIR, "*.h")) + glob.glob(os.path.join(PY_DIR, "*.h")))


def header_depends(relative: bool = True) -> list[str]:
    """The headers as setuptools ``depends=`` (relative to the repo root when building from it,
    like the sources)."""
    if relative and os.path.abspath(os.getcwd()) == REPO_DIR:
        return [os.path.relpath(path, REPO_DIR) for path in HEADERS]
    return list(HEADERS)


def _preprocessor() -> list[str]:
    """The C compiler's command (CC, as Python was built, else cc) for running cpp."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def header_cdef(path: str = SHIM_HEADER) -> str:
    """Return a header as cffi cdef text: run through the C preprocessor with TC_CDEF defined
    (so tensorcore.h skips <stdint.h>, whose types cffi knows) and the X-macro op lists of
    tensorcore.h expanded into the op enums."""
    command = _preprocessor() + ["-E", "-P", "-DTC_CDEF", "-I", CSRC_DIR, "-I", PY_DIR, path]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return result.stdout


def compile_args() -> tuple[list[str], list[str], list[tuple[str, str | None]]]:
    """Return (extra_compile_args, extra_link_args, define_macros) from the environment."""
    # -fwrapv: integer ops wrap like NumPy's; -fno-trapping-math: lets gcc if-convert and
    # vectorize float compares (results unchanged, FP exception flags are not observed);
    # -fno-math-errno: sqrt loops vectorize (nothing reads errno; results are identical).
    cflags = ["-O3", "-std=c11", "-pthread", "-fwrapv", "-fno-strict-aliasing",
              "-fno-trapping-math", "-fno-math-errno", "-Wall", "-Wno-unused-function"]
    ldflags = ["-pthread"]
    macros: list[tuple[str, str | None]] = []
    if os.environ.get("TENSORCORE_NO_SIMD", "") not in ("", "0"):
        macros.append(("TC_NO_SIMD", "1"))
    if os.environ.get("TENSORCORE_SANITIZE", "") not in ("", "0"):
        sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-fno-omit-frame-pointer", "-g"]
        cflags += sanitize
        ldflags += sanitize
    return cflags, ldflags, macros


def make_builder(relative: bool = True) -> cffi.FFI:
    """Create the cffi builder for tensorcore._C (sources relative to the repo if asked)."""
    builder = cffi.FFI()
    builder.cdef(header_cdef())
    cflags, ldflags, macros = compile_args()
    sources = sorted(glob.glob(os.path.join(CSRC_DIR, "*.c"))) + SHIM_SOURCES
    # setuptools wants paths relative to setup.py when building from the repo root
    if relative and os.path.abspath(os.getcwd()) == REPO_DIR:
        sources = [os.path.relpath(path, REPO_DIR) for path in sources]
    builder.set_source(
        "tensorcore._C",
        '#include "tc_py.h"',
        sources=sources,
        include_dirs=[CSRC_DIR, PY_DIR],
        depends=header_depends(relative),
        define_macros=macros,
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        libraries=["m"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> str:
    """Compile the extension under build/cffi and copy it into tensorcore/; return its path."""
    tmpdir = os.path.join(REPO_DIR, "build", "cffi")
    os.makedirs(tmpdir, exist_ok=True)
    builder = make_builder(relative=False)     # compile() runs inside tmpdir
    built = builder.compile(tmpdir=tmpdir, verbose=False)
    target_dir = os.path.join(REPO_DIR, "tensorcore")
    target = os.path.join(target_dir, os.path.basename(built))
    shutil.copy2(built, target + ".tmp")
    os.replace(target + ".tmp", target)      # atomic: a running process keeps its copy
    return target


if __name__ == "__main__":
    print(build_in_place())
    sys.exit(0)
