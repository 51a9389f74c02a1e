/* Contiguous float32 math loops (exp, sigmoid, log, tanh, sin, cos) compiled three times
 * (generic, AVX2+FMA, AVX-512F) and picked at run time from the CPU's features. The math is
 * the branch-free scalar code of tc_internal.h (tc_exp_f32) and tc_vmath.h, which gcc
 * vectorizes, so every variant gives the same results up to FMA contraction. Building with
 * TC_NO_SIMD keeps only the generic variant. `out` may equal `a` (in place). */
#include <stdatomic.h>

#include "tc_internal.h"
#include "tc_vmath.h"

#define TC_VMAP_BODY(EXPR)                                                              \
    for (int64_t i = 0; i < n; i++) {                                                   \
        float x = a[i];                                                                 \
        out[i] = (EXPR);                                                                \
    }
/* sin / cos in blocks of 256: a block whose |x| all lie within TC_SINCOSF_LIMIT (the usual
 * case) runs the float32 polynomial, one within TC_SINCOS_LIMIT the double one (both
 * vectorized); a block with a larger |x|, an infinity or a NaN runs element by element,
 * with libm for those elements. The check reads the block before any of it is written, so
 * in-place calls see their inputs. */
#define TC_VSINCOS_BODY(OFFSET)                                                         \
    for (int64_t start = 0; start < n; start += 256) {                                  \
        int64_t stop = n - start < 256 ? n : start + 256;                               \
        int beyond_f = 0, beyond_d = 0;                                                 \
        for (int64_t i = start; i < stop; i++) {                                        \
            beyond_f |= !(fabsf(a[i]) <= TC_SINCOSF_LIMIT);                             \
            beyond_d |= !(fabsf(a[i]) <= TC_SINCOS_LIMIT);                              \
        }                                                                               \
        if (!beyond_f) {                                                                \
            for (int64_t i = start; i < stop; i++) {                                    \
                out[i] = tc_sincosf_f32(a[i], OFFSET);                                  \
            }                                                                           \
        } else if (!beyond_d) {                                                         \
            for (int64_t i = start; i < stop; i++) {                                    \
                out[i] = tc_sincos_f32(a[i], OFFSET);                                   \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = start; i < stop; i++) {                                    \
                out[i] = tc_sincos_any_f32(a[i], OFFSET);                               \
            }                                                                           \
        }                                                                               \
    }

/* The loops, one line each: NAME and BODY. */
#define TC_VMATH_LOOPS(X)                                                               \
    X(exp, TC_VMAP_BODY(tc_exp_f32(x)))                                                 \
    X(sigmoid, TC_VMAP_BODY(tc_sigmoid_f32(x)))                                         \
    X(log, TC_VMAP_BODY(tc_log_f32(x)))                                                 \
    X(tanh, TC_VMAP_BODY(tc_tanh_f32(x)))                                               \
    X(sin, TC_VSINCOS_BODY(0))                                                          \
    X(cos, TC_VSINCOS_BODY(1))

typedef void (*tc_vfn)(float *out, const float *a, int64_t n);

#define TC_GENERIC_LOOP(NAME, BODY)                                                     \
    static void tc_v##NAME##_generic(float *out, const float *a, int64_t n) { BODY }
TC_VMATH_LOOPS(TC_GENERIC_LOOP)

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_SIMD_MATH 1
#define TC_SIMD_LOOPS(NAME, BODY)                                                       \
    __attribute__((target("avx2,fma")))                                                 \
    static void tc_v##NAME##_avx2(float *out, const float *a, int64_t n) { BODY }       \
    __attribute__((target("avx512f,prefer-vector-width=512")))                          \
    static void tc_v##NAME##_avx512(float *out, const float *a, int64_t n) { BODY }
TC_VMATH_LOOPS(TC_SIMD_LOOPS)
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

#ifdef TC_SIMD_MATH
#define TC_PICK(NAME)                                                                   \
    (level == 3 ? tc_v##NAME##_avx512 : level == 2 ? tc_v##NAME##_avx2                  \
                                                   : tc_v##NAME##_generic)
#else
#define TC_PICK(NAME) tc_v##NAME##_generic
#endif

/* The entry points tc_v<name>_f32 declared in tc_internal.h. */
#define TC_DISPATCH(NAME, BODY)                                                         \
    void tc_v##NAME##_f32(float *out, const float *a, int64_t n)                        \
    {                                                                                   \
        int level = tc_pick_level();                                                    \
        (void)level;                                                                    \
        tc_vfn fn = TC_PICK(NAME);                                                      \
        fn(out, a, n);                                                                  \
    }
TC_VMATH_LOOPS(TC_DISPATCH)
