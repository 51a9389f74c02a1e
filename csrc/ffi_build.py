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
import shutil
import sys

import cffi

CSRC_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(CSRC_DIR)
HEADER = os.path.join(CSRC_DIR, "tensorcore.h")

# Python-facing shims: same as the public functions but take NumPy BYTE strides (so the
# wrapper passes ``a.strides`` tuples unchanged) and a flat fast path for C-contiguous
# same-shape operands. Declared in SHIM_CDEF below.
SHIM_SOURCE = r"""
#include "tensorcore.h"

#define TC_PY_MAX_DIMS 32

/* Converts ndim byte strides to element strides; returns 0 if ndim is out of range or
 * a stride is not a multiple of the item size. */
static int tc_py_elems(int ndim, const int64_t *bytes, int64_t itemsize, int64_t *elems)
{
    if (ndim < 0 || ndim > TC_PY_MAX_DIMS || (ndim > 0 && bytes == NULL)) {
        return 0;
    }
    for (int d = 0; d < ndim; d++) {
        if (bytes[d] % itemsize != 0) {
            return 0;
        }
        elems[d] = bytes[d] / itemsize;
    }
    return 1;
}

static int64_t tc_py_itemsize(int dtype)
{
    return dtype == TC_BOOL ? 1 : ((dtype == TC_FLOAT64 || dtype == TC_INT64) ? 8 : 4);
}

#define TC_PY_STRIDES(NAME, BYTES, DTYPE)                                         \
    int64_t NAME[TC_PY_MAX_DIMS];                                                 \
    if (!tc_py_elems(ndim, BYTES, tc_py_itemsize(DTYPE), NAME)) {                 \
        return TC_ERR_INVALID;                                                    \
    }

static int tc_py_binary(int op, int dtype, int ndim, const int64_t *shape,
                        void *out, const int64_t *ob, const void *a, const int64_t *ab,
                        const void *b, const int64_t *bb)
{
    int odt = op >= TC_EQUAL ? TC_BOOL : dtype;
    TC_PY_STRIDES(os, ob, odt)
    TC_PY_STRIDES(as, ab, dtype)
    TC_PY_STRIDES(bs, bb, dtype)
    return tc_binary(op, dtype, ndim, shape, out, os, a, as, b, bs);
}

static int tc_py_binary_flat(int op, int dtype, int64_t n, void *out, const void *a,
                             const void *b)
{
    static const int64_t unit[1] = {1};
    return tc_binary(op, dtype, 1, &n, out, unit, a, unit, b, unit);
}

static int tc_py_unary(int op, int dtype, int ndim, const int64_t *shape,
                       void *out, const int64_t *ob, const void *a, const int64_t *ab)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_unary(op, dtype, ndim, shape, out, os, a, as);
}

static int tc_py_unary_flat(int op, int dtype, int64_t n, void *out, const void *a)
{
    static const int64_t unit[1] = {1};
    return tc_unary(op, dtype, 1, &n, out, unit, a, unit);
}

static int tc_py_where(int dtype, int ndim, const int64_t *shape,
                       void *out, const int64_t *ob, const void *c, const int64_t *cb,
                       const void *a, const int64_t *ab, const void *b, const int64_t *bb)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(cs, cb, TC_BOOL)
    TC_PY_STRIDES(as, ab, dtype)
    TC_PY_STRIDES(bs, bb, dtype)
    return tc_where(dtype, ndim, shape, out, os, c, cs, a, as, b, bs);
}

static int tc_py_clip(int dtype, int ndim, const int64_t *shape,
                      void *out, const int64_t *ob, const void *a, const int64_t *ab,
                      const void *lo, const void *hi)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_clip(dtype, ndim, shape, out, os, a, as, lo, hi);
}

static int tc_py_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
                      void *out, const int64_t *ob, const void *src, const int64_t *sb)
{
    TC_PY_STRIDES(os, ob, dst_dtype)
    TC_PY_STRIDES(ss, sb, src_dtype)
    return tc_copy(src_dtype, dst_dtype, ndim, shape, out, os, src, ss);
}

static int tc_py_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t mask,
                        void *out, const int64_t *ob, const void *a, const int64_t *ab,
                        int64_t ddof)
{
    int odt = (op == TC_REDUCE_SUM && dtype > TC_FLOAT64) ? TC_INT64 : dtype;
    TC_PY_STRIDES(os, ob, odt)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_reduce(op, dtype, ndim, shape, mask, out, os, a, as, ddof);
}

static int tc_py_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                           void *out, const int64_t *ob, const void *a,
                           const int64_t *ab)
{
    if (ndim < 1) {
        return tc_argreduce(op, dtype, ndim, shape, axis, (int64_t *)out, NULL, a, NULL);
    }
    int64_t os[TC_PY_MAX_DIMS];
    if (!tc_py_elems(ndim - 1, ob, 8, os)) {
        return TC_ERR_INVALID;
    }
    TC_PY_STRIDES(as, ab, dtype)
    return tc_argreduce(op, dtype, ndim, shape, axis, (int64_t *)out, os, a, as);
}

static int tc_py_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
                         void *out, const int64_t *ob, const void *a, const int64_t *ab)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_softmax(dtype, ndim, shape, axis, log, out, os, a, as);
}

static int tc_py_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
                        const int64_t *abb, const int64_t *bbb, const int64_t *cbb,
                        int64_t m, int64_t n, int64_t k,
                        const void *a, int64_t rsa, int64_t csa,
                        const void *b, int64_t rsb, int64_t csb,
                        void *c, int64_t rsc, int64_t csc)
{
    int64_t isz = tc_py_itemsize(dtype);
    TC_PY_STRIDES(ab, abb, dtype)
    TC_PY_STRIDES(bb, bbb, dtype)
    TC_PY_STRIDES(cb, cbb, dtype)
    (void)ndim;
    if (rsa % isz || csa % isz || rsb % isz || csb % isz || rsc % isz || csc % isz) {
        return TC_ERR_INVALID;
    }
    return tc_matmul(dtype, batch_ndim, batch_shape, ab, bb, cb, m, n, k,
                     a, rsa / isz, csa / isz, b, rsb / isz, csb / isz,
                     c, rsc / isz, csc / isz);
}
"""
# tc_py_matmul uses the macro with the batch rank as `ndim`.
SHIM_SOURCE = SHIM_SOURCE.replace(
    "    int64_t isz = tc_py_itemsize(dtype);\n    TC_PY_STRIDES(ab",
    "    int64_t isz = tc_py_itemsize(dtype);\n    int ndim = batch_ndim;\n    TC_PY_STRIDES(ab",
)

SHIM_CDEF = """
int tc_py_binary(int op, int dtype, int ndim, const int64_t *shape,
                 void *out, const int64_t *ob, const void *a, const int64_t *ab,
                 const void *b, const int64_t *bb);
int tc_py_binary_flat(int op, int dtype, int64_t n, void *out, const void *a,
                      const void *b);
int tc_py_unary(int op, int dtype, int ndim, const int64_t *shape,
                void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_unary_flat(int op, int dtype, int64_t n, void *out, const void *a);
int tc_py_where(int dtype, int ndim, const int64_t *shape,
                void *out, const int64_t *ob, const void *c, const int64_t *cb,
                const void *a, const int64_t *ab, const void *b, const int64_t *bb);
int tc_py_clip(int dtype, int ndim, const int64_t *shape,
               void *out, const int64_t *ob, const void *a, const int64_t *ab,
               const void *lo, const void *hi);
int tc_py_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
               void *out, const int64_t *ob, const void *src, const int64_t *sb);
int tc_py_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t mask,
                 void *out, const int64_t *ob, const void *a, const int64_t *ab,
                 int64_t ddof);
int tc_py_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                    void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
                  void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
                 const int64_t *abb, const int64_t *bbb, const int64_t *cbb,
                 int64_t m, int64_t n, int64_t k,
                 const void *a, int64_t rsa, int64_t csa,
                 const void *b, int64_t rsb, int64_t csb,
                 void *c, int64_t rsc, int64_t csc);
"""


def header_cdef(path: str = HEADER) -> str:
    """Return the public header as cffi cdef text (preprocessor and extern "C" removed)."""
    kept = []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#") or 'extern "C"' in stripped:
            continue
        kept.append(line)
    text = "\n".join(kept)
    # the closing brace of the (removed) extern "C" block is the last lone "}"
    head, sep, tail = text.rpartition("\n}")
    if sep and tail.strip() == "":
        text = head
    return text


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
    builder.cdef(header_cdef() + SHIM_CDEF)
    cflags, ldflags, macros = compile_args()
    sources = sorted(glob.glob(os.path.join(CSRC_DIR, "*.c")))
    # setuptools wants paths relative to setup.py when building from the repo root
    if relative and os.path.abspath(os.getcwd()) == REPO_DIR:
        sources = [os.path.relpath(path, REPO_DIR) for path in sources]
    builder.set_source(
        "tensorcore._C",
        SHIM_SOURCE,
        sources=sources,
        include_dirs=[CSRC_DIR],
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
