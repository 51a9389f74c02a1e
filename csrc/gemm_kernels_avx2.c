/* AVX2 + FMA micro-kernels (f32 16x6 plus its 16 x 1..5 narrow variant, f64 8x6), compiled through target attributes so
 * the file needs no special compiler flags; chosen at run time only when cpu.c reports
 * AVX2 + FMA with OS ymm support. Contract: tc_gemm_ukr_fn (gemm_internal.h).
 *
 * Register plan (16 ymm): 12 accumulators (NR columns x 2 vectors of the MR-tall A
 * column), 2 A vectors, 1 broadcast of a B element. Software prefetch: A 8 k-steps ahead
 * (into the next micro-panel near the end), and the C tile at entry. */
#include "gemm_internal.h"
#include "tensorcore.h"

#ifdef TC_GEMM_HAVE_X86_KERNELS
#include <immintrin.h>

#define TC_AVX2 __attribute__((target("avx2,fma")))

enum { TC_A2_S_MR = 16, TC_A2_S_NR = 6, TC_A2_D_MR = 8, TC_A2_D_NR = 6 };

/* How far ahead (in k steps) A is prefetched into L1 from the L2-resident block. */
enum { TC_A2_PF_DIST = 8 };

/* 16 x NN f32 tile, 1 <= NN <= 6 (a compile-time constant after inlining): the full
 * kernel is NN = 6; NN < 6 serves a narrow last B micro-panel (B rows keep their
 * 6-element stride, only NN columns of C are touched). With NN <= 3 there are too few
 * accumulators to hide the FMA latency (4 cycles, 2 FMA units: 8 independent sums
 * needed), so even and odd k steps go to two sets of accumulators, added at the end. */
TC_AVX2 static inline __attribute__((always_inline)) void
tc_tile_avx2_f32(const int nn, int64_t kc, const float *a, const float *b, float alpha,
                 float beta, float *c, int64_t ldc)
{
    const int ku = nn <= 3 ? 2 : 1;
    __m256 acc[2][TC_A2_S_NR][2];
#pragma GCC unroll 2
    for (int u = 0; u < ku; ++u)
#pragma GCC unroll 6
        for (int j = 0; j < nn; ++j)
            acc[u][j][0] = acc[u][j][1] = _mm256_setzero_ps();
    /* C is read (beta != 0) or written only after the k loop: start fetching its lines
     * now (the first and last element of each column, so an unaligned column's second
     * line too). Columns ldc apart miss the caches; measured +3-15% on the bench shapes. */
#pragma GCC unroll 6
    for (int j = 0; j < nn; ++j) {
        _mm_prefetch((const char *)(c + j * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + j * ldc + TC_A2_S_MR - 1), _MM_HINT_T0);
    }
    int64_t p = 0;
    for (; p + ku <= kc; p += ku) {
#pragma GCC unroll 2
        for (int u = 0; u < ku; ++u) {
            const __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
            _mm_prefetch((const char *)(a + TC_A2_PF_DIST * TC_A2_S_MR), _MM_HINT_T0);
#pragma GCC unroll 6
            for (int j = 0; j < nn; ++j) {
                const __m256 bj = _mm256_broadcast_ss(b + j);
                acc[u][j][0] = _mm256_fmadd_ps(a0, bj, acc[u][j][0]);
                acc[u][j][1] = _mm256_fmadd_ps(a1, bj, acc[u][j][1]);
            }
            a += TC_A2_S_MR;
            b += TC_A2_S_NR;
        }
    }
    if (p < kc) {   /* two sets and an odd kc: the last step goes to set 0 */
        const __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
#pragma GCC unroll 6
        for (int j = 0; j < nn; ++j) {
            const __m256 bj = _mm256_broadcast_ss(b + j);
            acc[0][j][0] = _mm256_fmadd_ps(a0, bj, acc[0][j][0]);
            acc[0][j][1] = _mm256_fmadd_ps(a1, bj, acc[0][j][1]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int j = 0; j < nn; ++j) {
        float *cj = c + j * ldc;
        __m256 s0 = acc[0][j][0], s1 = acc[0][j][1];
        if (ku == 2) {
            s0 = _mm256_add_ps(s0, acc[1][j][0]);
            s1 = _mm256_add_ps(s1, acc[1][j][1]);
        }
        if (beta == 0.0f) {
            _mm256_storeu_ps(cj, _mm256_mul_ps(va, s0));
            _mm256_storeu_ps(cj + 8, _mm256_mul_ps(va, s1));
        } else {
            _mm256_storeu_ps(cj, _mm256_fmadd_ps(va, s0, _mm256_mul_ps(vb, _mm256_loadu_ps(cj))));
            _mm256_storeu_ps(cj + 8, _mm256_fmadd_ps(va, s1,
                                                     _mm256_mul_ps(vb, _mm256_loadu_ps(cj + 8))));
        }
    }
}

TC_AVX2 static void tc_ukr_avx2_f32(int64_t kc, const void *alpha_p, const void *a_p,
                                    const void *b_p, const void *beta_p, void *c_p, int64_t ldc)
{
    tc_tile_avx2_f32(TC_A2_S_NR, kc, a_p, b_p, *(const float *)alpha_p,
                     *(const float *)beta_p, c_p, ldc);
}

/* tc_gemm_ukr_narrow_fn: 16 x nn, 1 <= nn < 6. */
TC_AVX2 static void tc_ukr_avx2_f32_narrow(int nn, int64_t kc, const void *alpha_p,
                                           const void *a_p, const void *b_p,
                                           const void *beta_p, void *c_p, int64_t ldc)
{
    const float alpha = *(const float *)alpha_p, beta = *(const float *)beta_p;
    switch (nn) {
    case 1: tc_tile_avx2_f32(1, kc, a_p, b_p, alpha, beta, c_p, ldc); break;
    case 2: tc_tile_avx2_f32(2, kc, a_p, b_p, alpha, beta, c_p, ldc); break;
    case 3: tc_tile_avx2_f32(3, kc, a_p, b_p, alpha, beta, c_p, ldc); break;
    case 4: tc_tile_avx2_f32(4, kc, a_p, b_p, alpha, beta, c_p, ldc); break;
    default: tc_tile_avx2_f32(5, kc, a_p, b_p, alpha, beta, c_p, ldc); break;
    }
}

TC_AVX2 static void tc_ukr_avx2_f64(int64_t kc, const void *alpha_p, const void *a_p,
                                    const void *b_p, const void *beta_p, void *c_p, int64_t ldc)
{
    const double *a = a_p, *b = b_p;
    double *c = c_p;
    __m256d acc[TC_A2_D_NR][2];
#pragma GCC unroll 6
    for (int j = 0; j < TC_A2_D_NR; ++j) {
        acc[j][0] = _mm256_setzero_pd();
        acc[j][1] = _mm256_setzero_pd();
    }
#pragma GCC unroll 6
    for (int j = 0; j < TC_A2_D_NR; ++j) {   /* C's lines, as in the f32 kernel */
        _mm_prefetch((const char *)(c + j * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + j * ldc + TC_A2_D_MR - 1), _MM_HINT_T0);
    }
    for (int64_t p = 0; p < kc; ++p) {
        const __m256d a0 = _mm256_loadu_pd(a), a1 = _mm256_loadu_pd(a + 4);
        _mm_prefetch((const char *)(a + TC_A2_PF_DIST * TC_A2_D_MR), _MM_HINT_T0);
#pragma GCC unroll 6
        for (int j = 0; j < TC_A2_D_NR; ++j) {
            const __m256d bj = _mm256_broadcast_sd(b + j);
            acc[j][0] = _mm256_fmadd_pd(a0, bj, acc[j][0]);
            acc[j][1] = _mm256_fmadd_pd(a1, bj, acc[j][1]);
        }
        a += TC_A2_D_MR;
        b += TC_A2_D_NR;
    }
    const __m256d va = _mm256_set1_pd(*(const double *)alpha_p);
    const double beta = *(const double *)beta_p;
    if (beta == 0.0) {
#pragma GCC unroll 6
        for (int j = 0; j < TC_A2_D_NR; ++j) {
            _mm256_storeu_pd(c + j * ldc, _mm256_mul_pd(va, acc[j][0]));
            _mm256_storeu_pd(c + j * ldc + 4, _mm256_mul_pd(va, acc[j][1]));
        }
    } else {
        const __m256d vb = _mm256_set1_pd(beta);
#pragma GCC unroll 6
        for (int j = 0; j < TC_A2_D_NR; ++j) {
            double *cj = c + j * ldc;
            _mm256_storeu_pd(cj, _mm256_fmadd_pd(va, acc[j][0],
                                                 _mm256_mul_pd(vb, _mm256_loadu_pd(cj))));
            _mm256_storeu_pd(cj + 4, _mm256_fmadd_pd(va, acc[j][1],
                                                     _mm256_mul_pd(vb, _mm256_loadu_pd(cj + 4))));
        }
    }
}

const tc_gemm_kernel tc_gemm_kernel_avx2_f32 = {
    .name = "avx2 16x6 f32", .dtype = TC_FLOAT32, .esize = 4,
    .mr = TC_A2_S_MR, .nr = TC_A2_S_NR, .kc = 384, .mc = 192, .nc = 4092,
    .ukr = tc_ukr_avx2_f32, .ukr_narrow = tc_ukr_avx2_f32_narrow,
};

const tc_gemm_kernel tc_gemm_kernel_avx2_f64 = {
    .name = "avx2 8x6 f64", .dtype = TC_FLOAT64, .esize = 8,
    .mr = TC_A2_D_MR, .nr = TC_A2_D_NR, .kc = 256, .mc = 144, .nc = 2040,
    .ukr = tc_ukr_avx2_f64,
};

#endif
