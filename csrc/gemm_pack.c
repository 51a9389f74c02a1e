/* Packing into micro-panels and the per-thread scratch buffers of the packed GEMM.
 * Packing only moves bits, so f32 / f64 are handled as 32- / 64-bit words. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"

/* Columns per block of the transposing (cs == 1) pack. */
enum { TC_PACK_QB = 8 };

/* Copies `cols` columns of `bytes` contiguous bytes each (column q at src + q * cs_bytes)
 * to dst, back to back. Inlined with a constant `bytes` (one micro-panel height) the
 * copies become a few vector moves instead of a memcpy call per 24-128 bytes. */
static inline __attribute__((always_inline)) void
tc_pack_columns(size_t bytes, int64_t cols, const char *src, int64_t cs_bytes, char *dst)
{
    for (int64_t q = 0; q < cols; ++q)
        memcpy(dst + (size_t)q * bytes, src + q * cs_bytes, bytes);
}

/* Full micro-panel of a source with unit stride along the panel height (rs == 1): w * esize
 * bytes per column. Returns 0 when that width has no specialised copy. */
static int tc_pack_full_unit(size_t bytes, int64_t cols, const char *src, int64_t cs_bytes,
                             char *dst)
{
    switch (bytes) {
    case 24: tc_pack_columns(24, cols, src, cs_bytes, dst); return 1;
    case 32: tc_pack_columns(32, cols, src, cs_bytes, dst); return 1;
    case 48: tc_pack_columns(48, cols, src, cs_bytes, dst); return 1;
    case 64: tc_pack_columns(64, cols, src, cs_bytes, dst); return 1;
    case 96: tc_pack_columns(96, cols, src, cs_bytes, dst); return 1;
    case 128: tc_pack_columns(128, cols, src, cs_bytes, dst); return 1;
    default: return 0;
    }
}

/* Source element (r, q) is src[r * rs + q * cs]; rs and cs may be negative or zero.
 * Writes exactly ceil(rows / w) * w * cols words (see tc_gemm_pack). */
static void tc_pack_u32(int w, int64_t rows, int64_t cols, const uint32_t *src, int64_t rs,
                        int64_t cs, uint32_t *dst)
{
    for (int64_t r0 = 0; r0 < rows; r0 += w, dst += (int64_t)w * cols) {
        const int h = rows - r0 < w ? (int)(rows - r0) : w;
        const uint32_t *s = src + r0 * rs;
        if (rs == 1 && h == w &&
            tc_pack_full_unit((size_t)w * sizeof(uint32_t), cols, (const char *)s,
                              cs * (int64_t)sizeof(uint32_t), (char *)dst)) {
            continue;
        } else if (rs == 1) {
            for (int64_t q = 0; q < cols; ++q) {
                memcpy(dst + q * w, s + q * cs, (size_t)h * sizeof(uint32_t));
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
            }
        } else if (cs == 1) {
            /* Transposing copy in column blocks so the w x TC_PACK_QB destination
             * block stays in L1 while the h source rows stream through it. */
            for (int64_t q0 = 0; q0 < cols; q0 += TC_PACK_QB) {
                const int64_t qn = cols - q0 < TC_PACK_QB ? cols - q0 : TC_PACK_QB;
                for (int r = 0; r < h; ++r) {
                    const uint32_t *srow = s + r * rs + q0;
                    uint32_t *d = dst + q0 * w + r;
                    if (qn == TC_PACK_QB) {
                        for (int q = 0; q < TC_PACK_QB; ++q)
                            d[q * w] = srow[q];
                    } else {
                        for (int64_t q = 0; q < qn; ++q)
                            d[q * w] = srow[q];
                    }
                }
            }
            for (int64_t q = 0; q < cols && h < w; ++q)
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
        } else {
            for (int64_t q = 0; q < cols; ++q) {
                for (int r = 0; r < h; ++r)
                    dst[q * w + r] = s[r * rs + q * cs];
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
            }
        }
    }
}

static void tc_pack_u64(int w, int64_t rows, int64_t cols, const uint64_t *src, int64_t rs,
                        int64_t cs, uint64_t *dst)
{
    for (int64_t r0 = 0; r0 < rows; r0 += w, dst += (int64_t)w * cols) {
        const int h = rows - r0 < w ? (int)(rows - r0) : w;
        const uint64_t *s = src + r0 * rs;
        if (rs == 1 && h == w &&
            tc_pack_full_unit((size_t)w * sizeof(uint64_t), cols, (const char *)s,
                              cs * (int64_t)sizeof(uint64_t), (char *)dst)) {
            continue;
        } else if (rs == 1) {
            for (int64_t q = 0; q < cols; ++q) {
                memcpy(dst + q * w, s + q * cs, (size_t)h * sizeof(uint64_t));
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
            }
        } else if (cs == 1) {
            /* Transposing copy in column blocks so the w x TC_PACK_QB destination
             * block stays in L1 while the h source rows stream through it. */
            for (int64_t q0 = 0; q0 < cols; q0 += TC_PACK_QB) {
                const int64_t qn = cols - q0 < TC_PACK_QB ? cols - q0 : TC_PACK_QB;
                for (int r = 0; r < h; ++r) {
                    const uint64_t *srow = s + r * rs + q0;
                    uint64_t *d = dst + q0 * w + r;
                    if (qn == TC_PACK_QB) {
                        for (int q = 0; q < TC_PACK_QB; ++q)
                            d[q * w] = srow[q];
                    } else {
                        for (int64_t q = 0; q < qn; ++q)
                            d[q * w] = srow[q];
                    }
                }
            }
            for (int64_t q = 0; q < cols && h < w; ++q)
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
        } else {
            for (int64_t q = 0; q < cols; ++q) {
                for (int r = 0; r < h; ++r)
                    dst[q * w + r] = s[r * rs + q * cs];
                for (int r = h; r < w; ++r)
                    dst[q * w + r] = 0;
            }
        }
    }
}

void tc_gemm_pack(int esize, int w, int64_t rows, int64_t cols, const void *src, int64_t rs,
                  int64_t cs, void *dst)
{
#ifdef TC_GEMM_HAVE_X86_KERNELS
    if (esize == 4 && cs == 1 && tc_simd_level_id() >= TC_SIMD_AVX2) {
        const float *s = src;
        float *d = dst;
        for (int64_t r0 = 0; r0 < rows; r0 += w, d += (int64_t)w * cols) {
            const int h = rows - r0 < w ? (int)(rows - r0) : w;
            tc_gemm_pack_panel_t8_f32(w, h, cols, s + r0 * rs, rs, d);
        }
        return;
    }
#endif
    if (esize == 4)
        tc_pack_u32(w, rows, cols, src, rs, cs, dst);
    else
        tc_pack_u64(w, rows, cols, src, rs, cs, dst);
}

/* ---- per-thread scratch -------------------------------------------------------------
 * Each thread owns at most three cached buffers (slot 0: B panel, slot 1: A block,
 * slot 2: the im2col tile of conv.c). They
 * are reused across calls so large blocks do not pay mmap + page faults every call, and
 * freed by a pthread key destructor when the thread exits (the process's main thread
 * leaves them to exit()). */
enum { TC_SCRATCH_SLOTS = 3 };

typedef struct tc_scratch {
    void *ptr[TC_SCRATCH_SLOTS];
    size_t size[TC_SCRATCH_SLOTS];
} tc_scratch;

static _Thread_local tc_scratch tc_scratch_tls;
static pthread_key_t tc_scratch_key;
static pthread_once_t tc_scratch_once = PTHREAD_ONCE_INIT;
static int tc_scratch_key_ok;

static void tc_scratch_destroy(void *p)
{
    tc_scratch *s = p;
    for (int i = 0; i < TC_SCRATCH_SLOTS; ++i) {
        free(s->ptr[i]);
        s->ptr[i] = NULL;
        s->size[i] = 0;
    }
}

static void tc_scratch_make_key(void)
{
    tc_scratch_key_ok = pthread_key_create(&tc_scratch_key, tc_scratch_destroy) == 0;
}

void *tc_gemm_scratch(int slot, size_t bytes)
{
    tc_scratch *s = &tc_scratch_tls;
    if (bytes <= s->size[slot])
        return s->ptr[slot];
    free(s->ptr[slot]);
    s->ptr[slot] = NULL;
    s->size[slot] = 0;
    /* aligned_alloc needs a size that is a multiple of the alignment. */
    const size_t rounded = (bytes + 4095) & ~(size_t)4095;
    if (rounded < bytes)
        return NULL;
    void *p = aligned_alloc(64, rounded);
    if (p == NULL)
        return NULL;
    s->ptr[slot] = p;
    s->size[slot] = rounded;
    pthread_once(&tc_scratch_once, tc_scratch_make_key);
    if (tc_scratch_key_ok)
        pthread_setspecific(tc_scratch_key, s);
    return p;
}
