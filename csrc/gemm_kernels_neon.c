/* AArch64 ASIMD (NEON) micro-kernels: f32 8x12, f64 8x6. ASIMD is part of every AArch64
 * CPU, so they are chosen whenever the build targets aarch64 (unless TC_NO_SIMD, or
 * TENSORCORE_SIMD / TENSORCORE_GEMM_ISA = generic). Contract: tc_gemm_ukr_fn
 * (gemm_internal.h).
 *
 * Register plan (32 q registers): f32: 24 accumulators (12 columns x 2 quads of the 8-tall
 * A column), 2 A quads, 3 B quads (12 B values, used by lane); f64: 24 accumulators
 * (6 columns x 4 pairs), 4 A pairs, 3 B pairs. */
#include "gemm_internal.h"
#include "tensorcore.h"

#ifdef TC_GEMM_HAVE_NEON_KERNELS
#include <arm_neon.h>

enum { TC_NE_S_MR = 8, TC_NE_S_NR = 12, TC_NE_D_MR = 8, TC_NE_D_NR = 6 };

static void tc_ukr_neon_f32(int64_t kc, const void *alpha_p, const void *a_p, const void *b_p,
                            const void *beta_p, void *c_p, int64_t ldc)
{
    const float *a = a_p, *b = b_p;
    float *c = c_p;
    float32x4_t acc[TC_NE_S_NR][2];
    for (int j = 0; j < TC_NE_S_NR; ++j)
        acc[j][0] = acc[j][1] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < kc; ++p) {
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
#define TC_NE_S_COL(J, BV, L)                                   \
        acc[J][0] = vfmaq_laneq_f32(acc[J][0], a0, BV, L);      \
        acc[J][1] = vfmaq_laneq_f32(acc[J][1], a1, BV, L);
        TC_NE_S_COL(0, b0, 0) TC_NE_S_COL(1, b0, 1) TC_NE_S_COL(2, b0, 2) TC_NE_S_COL(3, b0, 3)
        TC_NE_S_COL(4, b1, 0) TC_NE_S_COL(5, b1, 1) TC_NE_S_COL(6, b1, 2) TC_NE_S_COL(7, b1, 3)
        TC_NE_S_COL(8, b2, 0) TC_NE_S_COL(9, b2, 1) TC_NE_S_COL(10, b2, 2)
        TC_NE_S_COL(11, b2, 3)
#undef TC_NE_S_COL
        a += TC_NE_S_MR;
        b += TC_NE_S_NR;
    }
    const float alpha = *(const float *)alpha_p, beta = *(const float *)beta_p;
    for (int j = 0; j < TC_NE_S_NR; ++j) {
        float *cj = c + j * ldc;
        float32x4_t r0 = vmulq_n_f32(acc[j][0], alpha), r1 = vmulq_n_f32(acc[j][1], alpha);
        if (beta != 0.0f) {
            r0 = vfmaq_n_f32(r0, vld1q_f32(cj), beta);
            r1 = vfmaq_n_f32(r1, vld1q_f32(cj + 4), beta);
        }
        vst1q_f32(cj, r0);
        vst1q_f32(cj + 4, r1);
    }
}

static void tc_ukr_neon_f64(int64_t kc, const void *alpha_p, const void *a_p, const void *b_p,
                            const void *beta_p, void *c_p, int64_t ldc)
{
    const double *a = a_p, *b = b_p;
    double *c = c_p;
    float64x2_t acc[TC_NE_D_NR][4];
    for (int j = 0; j < TC_NE_D_NR; ++j)
        for (int i = 0; i < 4; ++i)
            acc[j][i] = vdupq_n_f64(0.0);
    for (int64_t p = 0; p < kc; ++p) {
        const float64x2_t a0 = vld1q_f64(a), a1 = vld1q_f64(a + 2), a2 = vld1q_f64(a + 4),
                          a3 = vld1q_f64(a + 6);
        const float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2), b2 = vld1q_f64(b + 4);
#define TC_NE_D_COL(J, BV, L)                                   \
        acc[J][0] = vfmaq_laneq_f64(acc[J][0], a0, BV, L);      \
        acc[J][1] = vfmaq_laneq_f64(acc[J][1], a1, BV, L);      \
        acc[J][2] = vfmaq_laneq_f64(acc[J][2], a2, BV, L);      \
        acc[J][3] = vfmaq_laneq_f64(acc[J][3], a3, BV, L);
        TC_NE_D_COL(0, b0, 0) TC_NE_D_COL(1, b0, 1) TC_NE_D_COL(2, b1, 0)
        TC_NE_D_COL(3, b1, 1) TC_NE_D_COL(4, b2, 0) TC_NE_D_COL(5, b2, 1)
#undef TC_NE_D_COL
        a += TC_NE_D_MR;
        b += TC_NE_D_NR;
    }
    const double alpha = *(const double *)alpha_p, beta = *(const double *)beta_p;
    for (int j = 0; j < TC_NE_D_NR; ++j) {
        double *cj = c + j * ldc;
        for (int i = 0; i < 4; ++i) {
            float64x2_t r = vmulq_n_f64(acc[j][i], alpha);
            if (beta != 0.0)
                r = vfmaq_n_f64(r, vld1q_f64(cj + 2 * i), beta);
            vst1q_f64(cj + 2 * i, r);
        }
    }
}

const tc_gemm_kernel tc_gemm_kernel_neon_f32 = {
    .name = "neon 8x12 f32", .dtype = TC_FLOAT32, .esize = 4,
    .mr = TC_NE_S_MR, .nr = TC_NE_S_NR, .kc = 256, .mc = 128, .nc = 4092,
    .ukr = tc_ukr_neon_f32,
};

const tc_gemm_kernel tc_gemm_kernel_neon_f64 = {
    .name = "neon 8x6 f64", .dtype = TC_FLOAT64, .esize = 8,
    .mr = TC_NE_D_MR, .nr = TC_NE_D_NR, .kc = 256, .mc = 96, .nc = 2040,
    .ukr = tc_ukr_neon_f64,
};

#endif
