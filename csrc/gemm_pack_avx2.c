/* AVX2 transposing pack for float32 (the cs == 1 case of tc_gemm_pack): 8 x 8 blocks are
 * transposed in registers instead of moved one element at a time; leftover rows
 * (h % 8) and columns (cols % 8) are moved one by one.
 * Compiled through a target attribute; tc_gemm_pack calls it only when the SIMD level
 * is AVX2 or higher. */
#include <string.h>

#include "gemm_internal.h"

#ifdef TC_GEMM_HAVE_X86_KERNELS
#include <immintrin.h>

/* Transposes the 8 x 8 block with row r at src + r * rs (8 contiguous floats each) and
 * stores its column q at dst + q * ldd (8 contiguous floats). */
__attribute__((target("avx2,fma"))) static inline void
tc_transpose8x8_f32(const float *src, int64_t rs, float *dst, int64_t ldd)
{
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + rs);
    __m256 r2 = _mm256_loadu_ps(src + 2 * rs), r3 = _mm256_loadu_ps(src + 3 * rs);
    __m256 r4 = _mm256_loadu_ps(src + 4 * rs), r5 = _mm256_loadu_ps(src + 5 * rs);
    __m256 r6 = _mm256_loadu_ps(src + 6 * rs), r7 = _mm256_loadu_ps(src + 7 * rs);
    /* pairs of rows interleaved, then 4-row groups, then 128-bit halves swapped */
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(dst + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* Transposes rows [0, h) (1 <= h <= 8, any other rows ignored) of the 8-column block with
 * row r at src + r * rs into the packed columns dst[q * w + r], q < 8, r < h, for w = h:
 * the block's 8 * w destination floats are contiguous. Rows past h are never read (row
 * h - 1 is loaded again in their place); each column is stored with an 8-float store that
 * spills into the next column's slots, rewritten by the next store, except the last
 * column, stored with a mask. */
__attribute__((target("avx2,fma"))) static inline void
tc_transpose_rows8_f32(int h, const float *src, int64_t rs, float *dst)
{
    __m256 r[8];
    for (int i = 0; i < 8; ++i)
        r[i] = _mm256_loadu_ps(src + (i < h ? i : h - 1) * rs);
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    const __m256 col[8] = {
        _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
        _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
        _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
        _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31),
    };
    for (int q = 0; q < 7; ++q)
        _mm256_storeu_ps(dst + q * h, col[q]);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(h), lane);
    _mm256_maskstore_ps(dst + 7 * h, mask, col[7]);
}

/* One micro-panel: rows [0, h) of src (row r at src + r * rs, unit column stride, cols
 * columns) into dst (element (r, q) at dst[q * w + r]); rows h..w-1 are zero-filled.
 * Precondition: 1 <= h <= w. Reads only the h x cols source elements; each 8-float
 * store covers rows r0..r0+7 < h of one column, so it stays inside the panel. */
__attribute__((target("avx2,fma"))) void
tc_gemm_pack_panel_t8_f32(int w, int h, int64_t cols, const float *src, int64_t rs, float *dst)
{
    const int64_t c8 = cols & ~(int64_t)7;
    if (w < 8 && h == w) {
        /* Short full panels (the NR-wide B panels): 8 columns at a time in registers. */
        for (int64_t q0 = 0; q0 < c8; q0 += 8)
            tc_transpose_rows8_f32(h, src + q0, rs, dst + q0 * w);
        for (int64_t q = c8; q < cols; ++q)
            for (int r = 0; r < h; ++r)
                dst[q * w + r] = src[r * rs + q];
        return;
    }
    const int h8 = h & ~7;
    for (int r0 = 0; r0 < h8; r0 += 8)
        for (int64_t q0 = 0; q0 < c8; q0 += 8)
            tc_transpose8x8_f32(src + r0 * rs + q0, rs, dst + q0 * w + r0, w);
    for (int64_t q = c8; q < cols; ++q)
        for (int r = 0; r < h8; ++r)
            dst[q * w + r] = src[r * rs + q];
    for (int64_t q = 0; q < cols; ++q) {
        for (int r = h8; r < h; ++r)
            dst[q * w + r] = src[r * rs + q];
        for (int r = h; r < w; ++r)
            dst[q * w + r] = 0.0f;
    }
}
#endif
