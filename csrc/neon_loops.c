/* NEON inner loops for float32 add / subtract / multiply / divide and the sum folds
 * (contract: neon_loops.h). Four 128-bit vectors (16 floats) per step, then one vector,
 * then scalars; every lane does the same IEEE operation as the plain C loop, so results
 * match it bit for bit. Compiled only for AArch64 (ASIMD is part of the base ISA). */
#include "neon_loops.h"

#ifdef TC_HAVE_NEON_LOOPS
#include <arm_neon.h>

/* True when o[0..n) is x[0..n) itself or does not overlap it. */
static int tc_neon_same_or_apart(const float *o, const float *x, int64_t n)
{
    return o == x || o + n <= x || x + n <= o;
}

/* One case of tc_neon_binary_f32: VOP on vectors, SOP on scalars; LOADA / LOADB give
 * the vector of a / b at element i (a broadcast register for a scalar operand), XA / XB
 * the scalar. */
#define TC_NEON_BINARY_CASE(VOP, SOP, LOADA, LOADB, XA, XB)                               \
    do {                                                                                 \
        int64_t i = 0;                                                                   \
        for (; i + 16 <= n; i += 16) {                                                   \
            const float32x4_t r0 = VOP(LOADA(i), LOADB(i));                              \
            const float32x4_t r1 = VOP(LOADA(i + 4), LOADB(i + 4));                      \
            const float32x4_t r2 = VOP(LOADA(i + 8), LOADB(i + 8));                      \
            const float32x4_t r3 = VOP(LOADA(i + 12), LOADB(i + 12));                    \
            vst1q_f32(o + i, r0);                                                        \
            vst1q_f32(o + i + 4, r1);                                                    \
            vst1q_f32(o + i + 8, r2);                                                    \
            vst1q_f32(o + i + 12, r3);                                                   \
        }                                                                                \
        for (; i + 4 <= n; i += 4)                                                       \
            vst1q_f32(o + i, VOP(LOADA(i), LOADB(i)));                                   \
        for (; i < n; ++i)                                                               \
            o[i] = XA(i) SOP XB(i);                                                      \
    } while (0)

#define TC_NEON_VA(i) vld1q_f32(a + (i))
#define TC_NEON_VB(i) vld1q_f32(b + (i))
#define TC_NEON_SA(i) va
#define TC_NEON_SB(i) vb
#define TC_NEON_XA(i) a[i]
#define TC_NEON_XB(i) b[i]
#define TC_NEON_XSA(i) xa
#define TC_NEON_XSB(i) xb

/* The three stride cases of one op. */
#define TC_NEON_BINARY_OP(VOP, SOP)                                                       \
    do {                                                                                 \
        if (sa == 1 && sb == 1) {                                                        \
            TC_NEON_BINARY_CASE(VOP, SOP, TC_NEON_VA, TC_NEON_VB, TC_NEON_XA, TC_NEON_XB); \
        } else if (sa == 1) {                                                            \
            const float xb = b[0];                                                       \
            const float32x4_t vb = vdupq_n_f32(xb);                                      \
            TC_NEON_BINARY_CASE(VOP, SOP, TC_NEON_VA, TC_NEON_SB, TC_NEON_XA, TC_NEON_XSB); \
        } else {                                                                         \
            const float xa = a[0];                                                       \
            const float32x4_t va = vdupq_n_f32(xa);                                      \
            TC_NEON_BINARY_CASE(VOP, SOP, TC_NEON_SA, TC_NEON_VB, TC_NEON_XSA, TC_NEON_XB); \
        }                                                                                \
    } while (0)

int tc_neon_binary_f32(int op, float *o, const float *a, int64_t sa, const float *b,
                       int64_t sb, int64_t n)
{
    const int unit_a = sa == 1, unit_b = sb == 1;
    if (!((unit_a && unit_b) || (unit_a && sb == 0) || (sa == 0 && unit_b)))
        return 0;
    if ((unit_a && !tc_neon_same_or_apart(o, a, n)) ||
        (unit_b && !tc_neon_same_or_apart(o, b, n)))
        return 0;
    switch (op) {
    case TC_NEON_ADD: TC_NEON_BINARY_OP(vaddq_f32, +); return 1;
    case TC_NEON_SUB: TC_NEON_BINARY_OP(vsubq_f32, -); return 1;
    case TC_NEON_MUL: TC_NEON_BINARY_OP(vmulq_f32, *); return 1;
    case TC_NEON_DIV: TC_NEON_BINARY_OP(vdivq_f32, /); return 1;
    default: return 0;
    }
}

double tc_neon_sum8_f32(const float *x, int64_t n)
{
    /* acc0 = lanes 0, 1; acc1 = lanes 2, 3; acc2 = lanes 4, 5; acc3 = lanes 6, 7. */
    float64x2_t acc0 = vdupq_n_f64(0.0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t lo = vld1q_f32(x + i), hi = vld1q_f32(x + i + 4);
        acc0 = vaddq_f64(acc0, vcvt_f64_f32(vget_low_f32(lo)));
        acc1 = vaddq_f64(acc1, vcvt_high_f64_f32(lo));
        acc2 = vaddq_f64(acc2, vcvt_f64_f32(vget_low_f32(hi)));
        acc3 = vaddq_f64(acc3, vcvt_high_f64_f32(hi));
    }
    double lane0 = vgetq_lane_f64(acc0, 0);
    for (; i < n; ++i)
        lane0 += (double)x[i];
    acc0 = vsetq_lane_f64(lane0, acc0, 0);
    /* ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) */
    const float64x2_t pairs = vpaddq_f64(vpaddq_f64(acc0, acc1), vpaddq_f64(acc2, acc3));
    return vgetq_lane_f64(pairs, 0) + vgetq_lane_f64(pairs, 1);
}

/* acc[j..j+4) (two double vectors) += the 4 floats of row x at j, converted. */
#define TC_NEON_COL_ADD4(lo, hi, x)                                                       \
    do {                                                                                 \
        const float32x4_t v_ = vld1q_f32(x);                                             \
        lo = vaddq_f64(lo, vcvt_f64_f32(vget_low_f32(v_)));                              \
        hi = vaddq_f64(hi, vcvt_high_f64_f32(v_));                                       \
    } while (0)

void tc_neon_col_sum_f32(double *acc, const char *p, int64_t n, int64_t rows, int64_t rs)
{
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *x0 = (const float *)(p + r * rs), *x1 = (const float *)(p + (r + 1) * rs);
        const float *x2 = (const float *)(p + (r + 2) * rs);
        const float *x3 = (const float *)(p + (r + 3) * rs);
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            float64x2_t lo = vld1q_f64(acc + j), hi = vld1q_f64(acc + j + 2);
            TC_NEON_COL_ADD4(lo, hi, x0 + j);
            TC_NEON_COL_ADD4(lo, hi, x1 + j);
            TC_NEON_COL_ADD4(lo, hi, x2 + j);
            TC_NEON_COL_ADD4(lo, hi, x3 + j);
            vst1q_f64(acc + j, lo);
            vst1q_f64(acc + j + 2, hi);
        }
        for (; j < n; ++j)
            acc[j] = (((acc[j] + (double)x0[j]) + (double)x1[j]) + (double)x2[j]) + (double)x3[j];
    }
    for (; r < rows; ++r) {
        const float *x = (const float *)(p + r * rs);
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            float64x2_t lo = vld1q_f64(acc + j), hi = vld1q_f64(acc + j + 2);
            TC_NEON_COL_ADD4(lo, hi, x + j);
            vst1q_f64(acc + j, lo);
            vst1q_f64(acc + j + 2, hi);
        }
        for (; j < n; ++j)
            acc[j] += (double)x[j];
    }
}
#endif
