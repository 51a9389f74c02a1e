/* Contiguous float32 exp / sigmoid loops compiled three times (generic, AVX2+FMA,
 * AVX-512F) and picked at run time from the CPU's features. The math is the
 * branch-free tc_exp_f32 of tc_internal.h, so every variant gives the same results up to
 * FMA contraction. Building with TC_NO_SIMD keeps only the generic variant. */
#include <stdatomic.h>

#include "tc_internal.h"

#define TC_VEXP_BODY                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                   \
        out[i] = tc_exp_f32(a[i]);                                                      \
    }
/* sigmoid from e = exp(-|x|): x >= 0 -> 1 / (1 + e), x < 0 -> e / (1 + e). */
#define TC_VSIGMOID_BODY                                                                \
    for (int64_t i = 0; i < n; i++) {                                                   \
        float x = a[i];                                                                 \
        float e = tc_exp_f32(x < 0.0f ? x : -x);                                        \
        float r = 1.0f / (1.0f + e);                                                    \
        out[i] = x >= 0.0f ? r : (x != x ? x : e * r);                                  \
    }

static void tc_vexp_generic(float *out, const float *a, int64_t n) { TC_VEXP_BODY }
static void tc_vsigmoid_generic(float *out, const float *a, int64_t n) { TC_VSIGMOID_BODY }

typedef void (*tc_vfn)(float *out, const float *a, int64_t n);

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_SIMD_MATH 1
__attribute__((target("avx2,fma")))
static void tc_vexp_avx2(float *out, const float *a, int64_t n) { TC_VEXP_BODY }
__attribute__((target("avx2,fma")))
static void tc_vsigmoid_avx2(float *out, const float *a, int64_t n) { TC_VSIGMOID_BODY }
__attribute__((target("avx512f,prefer-vector-width=512")))
static void tc_vexp_avx512(float *out, const float *a, int64_t n) { TC_VEXP_BODY }
__attribute__((target("avx512f,prefer-vector-width=512")))
static void tc_vsigmoid_avx512(float *out, const float *a, int64_t n) { TC_VSIGMOID_BODY }
#endif

/* 0 = not chosen yet, 1 = generic, 2 = avx2, 3 = avx512 (races only rewrite the same). */
static _Atomic int tc_math_level = 0;

static int tc_pick_level(void)
{
    int level = tc_math_level;
    if (level == 0) {
        level = 1;
#ifdef TC_SIMD_MATH
        if (tc_cpu_has_avx512f()) {
            level = 3;
        } else if (tc_cpu_has_avx2_fma()) {
            level = 2;
        }
#endif
        tc_math_level = level;
    }
    return level;
}

void tc_vexp_f32(float *out, const float *a, int64_t n)
{
    int level = tc_pick_level();
#ifdef TC_SIMD_MATH
    if (level == 3) {
        tc_vexp_avx512(out, a, n);
        return;
    }
    if (level == 2) {
        tc_vexp_avx2(out, a, n);
        return;
    }
#endif
    (void)level;
    tc_vexp_generic(out, a, n);
}

void tc_vsigmoid_f32(float *out, const float *a, int64_t n)
{
    int level = tc_pick_level();
#ifdef TC_SIMD_MATH
    if (level == 3) {
        tc_vsigmoid_avx512(out, a, n);
        return;
    }
    if (level == 2) {
        tc_vsigmoid_avx2(out, a, n);
        return;
    }
#endif
    (void)level;
    tc_vsigmoid_generic(out, a, n);
}
