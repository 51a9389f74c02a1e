#!/usr/bin/env bash
# AddressSanitizer + UBSan (and ThreadSanitizer for the pool) run of the C core (called from
# .ci/run; run it alone from the repo root: bash .ci/sanitize.sh).
#
# 1. tests/c/test_capi.c: the public C API without Python, built with
#    -fsanitize=address,undefined -fno-sanitize-recover=all, run with leak detection ON
#    (1b: the examples/c program the same way; 1c: tests/c/test_pool.c, the thread pool,
#    under ThreadSanitizer).
# 2. The extension built with TENSORCORE_SANITIZE=1 into a TEMPORARY copy of the package (the
#    working tree's tensorcore/_C*.so is never touched), then the C-backend kernel tests
#    (tests/test_c_backend.py, tests/test_gemm.py) and the quick fuzz profile restricted to the
#    C backend vs NumPy, run against that copy with libasan preloaded into Python
#    (detect_leaks=0: the interpreter itself leaks by design).
# Any sanitizer report fails the script (reports are fatal, and the logs are also grepped).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
python="${PYTHON:-python3}"
cc="${CC:-gcc}"

work="$(mktemp -d "${TMPDIR:-/tmp}/tensorcore-sanitize.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "sanitize: work directory $work"

libasan="$("$cc" -print-file-name=libasan.so)"
libubsan="$("$cc" -print-file-name=libubsan.so)"
if [ ! -e "$libasan" ] || [ ! -e "$libubsan" ]; then
    echo "sanitize: $cc has no libasan/libubsan; cannot run" >&2
    exit 1
fi
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

fail_on_reports() {
    # $1: log file. Sanitizer reports are fatal already; this also catches any that were not.
    if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$1" >/dev/null; then
        echo "sanitize: sanitizer report in $1:" >&2
        grep -E -A20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$1" | head -80 >&2
        exit 1
    fi
}

# ---- 1. the C API test program, leaks detected ------------------------------------------
echo "== [1/2] tests/c/test_capi.c with -fsanitize=address,undefined, detect_leaks=1"
flags=(-O1 -g -std=c11 -pthread -fwrapv -fno-strict-aliasing -fno-trapping-math
       -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
# The C core is compiled once (one compiler per core) and linked into both programs of 1/1b.
mkdir -p "$work/obj"
echo "+ $cc ${flags[*]} -Icsrc -c csrc/<each>.c -o $work/obj/<each>.o"
printf '%s\n' csrc/*.c | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} bash -c \
    '"$1" "${@:4}" -Icsrc -c "$2" -o "$3/$(basename "$2" .c).o"' bash "$cc" {} "$work/obj" \
    "${flags[@]}"
objects=("$work"/obj/*.o)
echo "+ $cc ${flags[*]} <C core objects> tests/c/test_capi.c -lm -o $work/test_capi"
"$cc" "${flags[@]}" -Icsrc "${objects[@]}" tests/c/test_capi.c -lm -o "$work/test_capi"
echo "+ ASAN_OPTIONS=detect_leaks=1 $work/test_capi"
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" "$work/test_capi" 2>&1 | tee "$work/capi.log"
status="${PIPESTATUS[0]}"
fail_on_reports "$work/capi.log"
[ "$status" -eq 0 ] || { echo "sanitize: test_capi failed ($status)" >&2; exit 1; }

# ---- 1b. the embedding example (examples/c), linked with the sanitized C core ------------
echo "== [1b/2] examples/c/matmul_example.c with -fsanitize=address,undefined, detect_leaks=1"
echo "+ $cc ${flags[*]} <C core objects> examples/c/matmul_example.c -lm -o $work/example"
"$cc" "${flags[@]}" -Icsrc "${objects[@]}" examples/c/matmul_example.c -lm -o "$work/example"
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" "$work/example" 2>&1 | tee "$work/example.log"
status="${PIPESTATUS[0]}"
fail_on_reports "$work/example.log"
[ "$status" -eq 0 ] || { echo "sanitize: matmul_example failed ($status)" >&2; exit 1; }

# ---- 1c. the thread pool under ThreadSanitizer --------------------------------------------
echo "== [1c/2] tests/c/test_pool.c with -fsanitize=thread"
libtsan="$("$cc" -print-file-name=libtsan.so)"
if [ ! -e "$libtsan" ]; then
    # not fatal: the same stress test runs unsanitized in pytest (tests/test_gemm.py)
    echo "sanitize: $cc has no libtsan; ThreadSanitizer step skipped"
else
    tflags=(-O1 -g -std=c11 -pthread -fsanitize=thread -fno-omit-frame-pointer)
    echo "+ $cc ${tflags[*]} -Icsrc csrc/threads.c csrc/error.c tests/c/test_pool.c -o $work/test_pool"
    "$cc" "${tflags[@]}" -Icsrc csrc/threads.c csrc/error.c tests/c/test_pool.c -lm \
        -o "$work/test_pool"
    TSAN_OPTIONS="halt_on_error=1" "$work/test_pool" 2>&1 | tee "$work/pool.log"
    status="${PIPESTATUS[0]}"
    if grep -E "WARNING: ThreadSanitizer" "$work/pool.log" >/dev/null; then
        echo "sanitize: ThreadSanitizer report in $work/pool.log" >&2
        exit 1
    fi
    [ "$status" -eq 0 ] || { echo "sanitize: test_pool failed ($status)" >&2; exit 1; }
fi

# ---- 2. the Python C-backend tests against a sanitized copy of the extension -------------
echo "== [2/2] sanitized tensorcore._C in a temporary copy of the package"
copy="$work/tree"
mkdir -p "$copy"
cp -r csrc "$copy/csrc"
cp -r tests "$copy/tests"
cp -r tensorcore "$copy/tensorcore"
find "$copy" -name "__pycache__" -type d -prune -exec rm -rf {} +
rm -f "$copy"/tensorcore/_C*.so
rm -rf "$copy/tests/.hypothesis"
echo "+ (cd $copy && TENSORCORE_SANITIZE=1 $python csrc/ffi_build.py)"
built="$(cd "$copy" && TENSORCORE_SANITIZE=1 "$python" csrc/ffi_build.py | tail -n 1)"
echo "sanitize: built $built"
case "$built" in
    "$copy"/tensorcore/_C*.so) ;;
    *) echo "sanitize: the sanitized build landed outside the copy: $built" >&2; exit 1 ;;
esac

export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export TENSORCORE_TEST_BACKENDS=c
export TENSORCORE_BACKEND=c
export TENSORCORE_FUZZ_EXAMPLES="${TENSORCORE_FUZZ_EXAMPLES:-150}"
preload="$libasan"
# the C backend must be the sanitized one from the copy, not the working tree's
check='import tensorcore, tensorcore._C as C
assert tensorcore.__file__.startswith("'"$copy"'"), tensorcore.__file__
print("sanitize: using", C.__file__)'
echo "+ LD_PRELOAD=$preload $python -c <import check>"
(cd "$copy" && LD_PRELOAD="$preload" "$python" -c "$check")
# test_gemm's C harness and thread-pool stress test build programs of their own without the
# sanitized extension (pytest runs them; 1c runs the pool under TSan): not repeated here.
tests=(tests/test_c_backend.py tests/test_gemm.py tests/test_fuzz.py::test_fuzz_programs
       --deselect tests/test_gemm.py::test_c_harness
       --deselect tests/test_gemm.py::test_thread_pool_stress)
# one worker per core when pytest-xdist is installed (the workers inherit LD_PRELOAD)
if "$python" -c "import xdist" 2>/dev/null; then
    tests=(-n auto "${tests[@]}")
fi
echo "+ cd $copy && LD_PRELOAD=$preload TENSORCORE_TEST_BACKENDS=c" \
    "$python -m pytest -q -p no:cacheprovider ${tests[*]}"
set +e
(cd "$copy" && LD_PRELOAD="$preload" "$python" -m pytest -q -p no:cacheprovider \
    "${tests[@]}") 2>&1 | tee "$work/pytest.log"
status="${PIPESTATUS[0]}"
set -e
fail_on_reports "$work/pytest.log"
[ "$status" -eq 0 ] || { echo "sanitize: sanitized pytest failed ($status)" >&2; exit 1; }
echo "sanitize: OK (no AddressSanitizer/UBSan reports)"
