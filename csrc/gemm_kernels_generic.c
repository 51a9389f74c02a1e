/* Portable C micro-kernels (always built; the only ones under TC_NO_SIMD).
 * Contract: see tc_gemm_ukr_fn in gemm_internal.h. Accumulators live in a local
 * MR x NR array, ordered so the inner i-loop is unit stride for the compiler to
 * vectorize with the baseline ISA. */
#include "gemm_internal.h"
#include "tensorcore.h"

enum { TC_GEN_MR = 8, TC_GEN_NR = 4 };

static void tc_ukr_generic_f32(int64_t kc, const void *alpha_p, const void *a_p, const void *b_p,
                               const void *beta_p, void *c_p, int64_t ldc)
{
    const float *a = a_p, *b = b_p;
    float *c = c_p;
    const float alpha = *(const float *)alpha_p, beta = *(const float *)beta_p;
    float acc[TC_GEN_NR][TC_GEN_MR] = {{0}};
    for (int64_t p = 0; p < kc; ++p) {
        for (int j = 0; j < TC_GEN_NR; ++j) {
            const float bj = b[j];
            for (int i = 0; i < TC_GEN_MR; ++i)
                acc[j][i] += a[i] * bj;
        }
        a += TC_GEN_MR;
        b += TC_GEN_NR;
    }
    for (int j = 0; j < TC_GEN_NR; ++j) {
        float *cj = c + j * ldc;
        if (beta == 0.0f)
            for (int i = 0; i < TC_GEN_MR; ++i)
                cj[i] = alpha * acc[j][i];
        else
            for (int i = 0; i < TC_GEN_MR; ++i)
                cj[i] = alpha * acc[j][i] + beta * cj[i];
    }
}

static void tc_ukr_generic_f64(int64_t kc, const void *alpha_p, const void *a_p, const void *b_p,
                               const void *beta_p, void *c_p, int64_t ldc)
{
    const double *a = a_p, *b = b_p;
    double *c = c_p;
    const double alpha = *(const double *)alpha_p, beta = *(const double *)beta_p;
    double acc[TC_GEN_NR][TC_GEN_MR] = {{0}};
    for (int64_t p = 0; p < kc; ++p) {
        for (int j = 0; j < TC_GEN_NR; ++j) {
            const double bj = b[j];
            for (int i = 0; i < TC_GEN_MR; ++i)
                acc[j][i] += a[i] * bj;
        }
        a += TC_GEN_MR;
        b += TC_GEN_NR;
    }
    for (int j = 0; j < TC_GEN_NR; ++j) {
        double *cj = c + j * ldc;
        if (beta == 0.0)
            for (int i = 0; i < TC_GEN_MR; ++i)
                cj[i] = alpha * acc[j][i];
        else
            for (int i = 0; i < TC_GEN_MR; ++i)
                cj[i] = alpha * acc[j][i] + beta * cj[i];
    }
}

const tc_gemm_kernel tc_gemm_kernel_generic_f32 = {
    .name = "generic 8x4 f32", .dtype = TC_FLOAT32, .esize = 4,
    .mr = TC_GEN_MR, .nr = TC_GEN_NR, .kc = 256, .mc = 128, .nc = 2048,
    .ukr = tc_ukr_generic_f32,
};

const tc_gemm_kernel tc_gemm_kernel_generic_f64 = {
    .name = "generic 8x4 f64", .dtype = TC_FLOAT64, .esize = 8,
    .mr = TC_GEN_MR, .nr = TC_GEN_NR, .kc = 256, .mc = 96, .nc = 2048,
    .ukr = tc_ukr_generic_f64,
};
