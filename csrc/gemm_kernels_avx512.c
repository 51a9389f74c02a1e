/* AVX-512 micro-kernels (f32 32x12, f64 16x12), compiled through target attributes so
 * the file needs no special compiler flags; chosen at run time only when cpu.c reports
 * AVX-512F + VL + FMA with OS zmm support. Contract: tc_gemm_ukr_fn (gemm_internal.h).
 *
 * Register plan (32 zmm): 24 accumulators (NR columns x 2 vectors of the MR-tall
 * A column), 2 A vectors, 1 broadcast of a B element. Zen 4 issues one 512-bit FMA per
 * cycle with latency 4, so 24 independent chains keep the FMA pipes full while the
 * 14 loads per k step stay below the load ports' budget. */
#include "gemm_internal.h"
#include "tensorcore.h"

#ifdef TC_GEMM_HAVE_X86_KERNELS
#include <immintrin.h>

#define TC_AVX512 __attribute__((target("avx512f,avx512vl,fma")))

enum { TC_A512_S_MR = 32, TC_A512_S_NR = 12, TC_A512_D_MR = 16, TC_A512_D_NR = 12 };

/* How far ahead (in k steps) A is prefetched into L1 from the L2-resident block. */
enum { TC_A512_PF_DIST = 8 };

TC_AVX512 static void tc_ukr_avx512_f32(int64_t kc, const void *alpha_p, const void *a_p,
                                        const void *b_p, const void *beta_p, void *c_p,
                                        int64_t ldc)
{
    const float *a = a_p, *b = b_p;
    float *c = c_p;
    __m512 acc[TC_A512_S_NR][2];
#pragma GCC unroll 12
    for (int j = 0; j < TC_A512_S_NR; ++j) {
        acc[j][0] = _mm512_setzero_ps();
        acc[j][1] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < kc; ++p) {
        const __m512 a0 = _mm512_loadu_ps(a), a1 = _mm512_loadu_ps(a + 16);
        _mm_prefetch((const char *)(a + TC_A512_PF_DIST * TC_A512_S_MR), _MM_HINT_T0);
        _mm_prefetch((const char *)(a + TC_A512_PF_DIST * TC_A512_S_MR + 16), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_S_NR; ++j) {
            const __m512 bj = _mm512_set1_ps(b[j]);
            acc[j][0] = _mm512_fmadd_ps(a0, bj, acc[j][0]);
            acc[j][1] = _mm512_fmadd_ps(a1, bj, acc[j][1]);
        }
        a += TC_A512_S_MR;
        b += TC_A512_S_NR;
    }
    const __m512 va = _mm512_set1_ps(*(const float *)alpha_p);
    const float beta = *(const float *)beta_p;
    if (beta == 0.0f) {
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_S_NR; ++j) {
            _mm512_storeu_ps(c + j * ldc, _mm512_mul_ps(va, acc[j][0]));
            _mm512_storeu_ps(c + j * ldc + 16, _mm512_mul_ps(va, acc[j][1]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_S_NR; ++j) {
            float *cj = c + j * ldc;
            _mm512_storeu_ps(cj, _mm512_fmadd_ps(va, acc[j][0],
                                                 _mm512_mul_ps(vb, _mm512_loadu_ps(cj))));
            _mm512_storeu_ps(cj + 16, _mm512_fmadd_ps(va, acc[j][1],
                                                      _mm512_mul_ps(vb, _mm512_loadu_ps(cj + 16))));
        }
    }
}

TC_AVX512 static void tc_ukr_avx512_f64(int64_t kc, const void *alpha_p, const void *a_p,
                                        const void *b_p, const void *beta_p, void *c_p,
                                        int64_t ldc)
{
    const double *a = a_p, *b = b_p;
    double *c = c_p;
    __m512d acc[TC_A512_D_NR][2];
#pragma GCC unroll 12
    for (int j = 0; j < TC_A512_D_NR; ++j) {
        acc[j][0] = _mm512_setzero_pd();
        acc[j][1] = _mm512_setzero_pd();
    }
    for (int64_t p = 0; p < kc; ++p) {
        const __m512d a0 = _mm512_loadu_pd(a), a1 = _mm512_loadu_pd(a + 8);
        _mm_prefetch((const char *)(a + TC_A512_PF_DIST * TC_A512_D_MR), _MM_HINT_T0);
        _mm_prefetch((const char *)(a + TC_A512_PF_DIST * TC_A512_D_MR + 8), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_D_NR; ++j) {
            const __m512d bj = _mm512_set1_pd(b[j]);
            acc[j][0] = _mm512_fmadd_pd(a0, bj, acc[j][0]);
            acc[j][1] = _mm512_fmadd_pd(a1, bj, acc[j][1]);
        }
        a += TC_A512_D_MR;
        b += TC_A512_D_NR;
    }
    const __m512d va = _mm512_set1_pd(*(const double *)alpha_p);
    const double beta = *(const double *)beta_p;
    if (beta == 0.0) {
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_D_NR; ++j) {
            _mm512_storeu_pd(c + j * ldc, _mm512_mul_pd(va, acc[j][0]));
            _mm512_storeu_pd(c + j * ldc + 8, _mm512_mul_pd(va, acc[j][1]));
        }
    } else {
        const __m512d vb = _mm512_set1_pd(beta);
#pragma GCC unroll 12
        for (int j = 0; j < TC_A512_D_NR; ++j) {
            double *cj = c + j * ldc;
            _mm512_storeu_pd(cj, _mm512_fmadd_pd(va, acc[j][0],
                                                 _mm512_mul_pd(vb, _mm512_loadu_pd(cj))));
            _mm512_storeu_pd(cj + 8, _mm512_fmadd_pd(va, acc[j][1],
                                                     _mm512_mul_pd(vb, _mm512_loadu_pd(cj + 8))));
        }
    }
}

const tc_gemm_kernel tc_gemm_kernel_avx512_f32 = {
    .name = "avx512 32x12 f32", .dtype = TC_FLOAT32, .esize = 4,
    .mr = TC_A512_S_MR, .nr = TC_A512_S_NR, .kc = 384, .mc = 384, .nc = 4092,
    .ukr = tc_ukr_avx512_f32,
};

const tc_gemm_kernel tc_gemm_kernel_avx512_f64 = {
    .name = "avx512 16x12 f64", .dtype = TC_FLOAT64, .esize = 8,
    .mr = TC_A512_D_MR, .nr = TC_A512_D_NR, .kc = 256, .mc = 256, .nc = 2040,
    .ukr = tc_ukr_avx512_f64,
};

#endif
