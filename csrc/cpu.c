/* CPU feature detection and the run-time SIMD level.
 *
 * Invariants: every answer is computed once and cached in an atomic int (-1 = not yet
 * known); computing it twice from racing threads gives the same value, so a plain
 * relaxed store is enough. A feature counts only when the CPU reports it (CPUID) AND
 * the OS saves the matching register state (XGETBV on XCR0), so a kernel chosen here
 * never faults with #UD. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"
#include "tc_internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TC_X86 1
#include <cpuid.h>

/* XCR0 via the xgetbv instruction; only called after CPUID reported OSXSAVE. */
static uint64_t tc_xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Bit flags for the features the kernels need. */
enum { TC_F_AVX2_FMA = 1, TC_F_AVX512F = 2, TC_F_AVX512VL = 4 };

static int tc_cpu_detect(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    const int has_fma = (ecx >> 12) & 1, has_osxsave = (ecx >> 27) & 1, has_avx = (ecx >> 28) & 1;
    if (!has_osxsave || !has_avx)
        return 0;
    const uint64_t xcr0 = tc_xgetbv0();
    const int os_ymm = (xcr0 & 0x6) == 0x6;      /* XMM and YMM state */
    const int os_zmm = (xcr0 & 0xe6) == 0xe6;    /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if (!os_ymm)
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    int flags = 0;
    if (((ebx >> 5) & 1) && has_fma)
        flags |= TC_F_AVX2_FMA;
    if (os_zmm && ((ebx >> 16) & 1))
        flags |= TC_F_AVX512F;
    if (os_zmm && ((ebx >> 31) & 1))
        flags |= TC_F_AVX512VL;
    return flags;
}

static int tc_cpu_flags(void)
{
    static atomic_int cached = -1;
    int f = atomic_load_explicit(&cached, memory_order_relaxed);
    if (f < 0) {
        f = tc_cpu_detect();
        atomic_store_explicit(&cached, f, memory_order_relaxed);
    }
    return f;
}

int tc_cpu_has_avx2_fma(void) { return (tc_cpu_flags() & TC_F_AVX2_FMA) != 0; }
int tc_cpu_has_avx512f(void) { return (tc_cpu_flags() & TC_F_AVX512F) != 0; }
#else
int tc_cpu_has_avx2_fma(void) { return 0; }
int tc_cpu_has_avx512f(void) { return 0; }
#endif

/* Highest level the hardware allows AND the build compiled kernels for. The AVX-512
 * kernels are compiled for avx512f+avx512vl+fma, so they need all three. */
static int tc_simd_level_supported(void)
{
#if defined(TC_X86) && !defined(TC_NO_SIMD)
    const int f = tc_cpu_flags();
    if ((f & TC_F_AVX512F) && (f & TC_F_AVX512VL) && (f & TC_F_AVX2_FMA))
        return TC_SIMD_AVX512;
    if (f & TC_F_AVX2_FMA)
        return TC_SIMD_AVX2;
#endif
#if defined(__aarch64__) && !defined(TC_NO_SIMD)
    return TC_SIMD_NEON;                /* ASIMD is mandatory on AArch64 */
#endif
    return TC_SIMD_GENERIC;
}

/* TENSORCORE_SIMD=generic|avx2|avx512|neon caps the level (it can only lower it). */
static int tc_simd_level_compute(void)
{
    int level = tc_simd_level_supported();
    const char *env = getenv("TENSORCORE_SIMD");
    if (env != NULL) {
        int cap = level;
        if (strcmp(env, "generic") == 0)
            cap = TC_SIMD_GENERIC;
        else if (strcmp(env, "avx2") == 0)
            cap = TC_SIMD_AVX2;
        else if (strcmp(env, "avx512") == 0)
            cap = TC_SIMD_AVX512;
        else if (strcmp(env, "neon") == 0)
            cap = TC_SIMD_NEON;
        if (cap < level)
            level = cap;
    }
    return level;
}

int tc_simd_level_id(void)
{
    static atomic_int cached = -1;
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level < 0) {
        level = tc_simd_level_compute();
        atomic_store_explicit(&cached, level, memory_order_relaxed);
    }
    return level;
}

const char *tc_simd_level(void)
{
    switch (tc_simd_level_id()) {
    case TC_SIMD_AVX512: return "avx512";
    case TC_SIMD_AVX2: return "avx2";
    case TC_SIMD_NEON: return "neon";
    default: return "generic";
    }
}
