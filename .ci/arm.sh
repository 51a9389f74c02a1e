#!/usr/bin/env bash
# AArch64 correctness of the C core (called from .ci/run; alone: bash .ci/arm.sh).
# Cross-compiles the C library with its C API test program (tests/c/test_capi.c) and the
# GEMM harness (tests/c/test_gemm.c) for aarch64 with Debian's gcc-aarch64-linux-gnu and
# runs them under qemu-user: the NEON micro-kernels (f32 8x12, f64 8x6) and the generic
# ones, and (test_capi) the NEON float32 arithmetic and sum loops (csrc/neon_loops.c), checked
# exactly against scalar references. Skipped with a message when the tools are missing and
# cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

cc=aarch64-linux-gnu-gcc
sysroot=/usr/aarch64-linux-gnu
if ! command -v "$cc" >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
            >/dev/null 2>&1 || true
    fi
fi
if ! command -v "$cc" >/dev/null || ! command -v qemu-aarch64 >/dev/null || [ ! -d "$sysroot" ]; then
    echo "arm: SKIPPED (needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user;" \
         "apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tensorcore-arm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
flags=(-O2 -std=c11 -pthread -fwrapv -fno-strict-aliasing -fno-trapping-math -Icsrc)
gemm_sources=(csrc/gemm*.c csrc/cpu.c csrc/threads.c csrc/error.c)

"$cc" "${flags[@]}" csrc/*.c tests/c/test_capi.c -lm -o "$work/test_capi"
"$cc" "${flags[@]}" "${gemm_sources[@]}" tests/c/test_gemm.c -lm -o "$work/test_gemm"
run() { qemu-aarch64 -L "$sysroot" "$@"; }

out="$(run "$work/test_capi")"
echo "$out"
grep -q "simd neon, gemm neon" <<<"$out" || { echo "arm: NEON kernel not selected" >&2; exit 1; }
grep -q " 0 failures" <<<"$out" || exit 1
# test_gemm re-executes itself per level through /proc/self/exe, which is qemu here: run
# each level explicitly instead.
for level in neon generic; do
    out="$(TENSORCORE_SIMD=$level run "$work/test_gemm")"
    echo "$out"
    grep -q "level=$level: .* 0 failures" <<<"$out" || { echo "arm: $level FAILED" >&2; exit 1; }
done
echo "arm: ok (aarch64 under qemu-user)"
