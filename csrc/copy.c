/* tc_copy: strided copy with dtype conversion (NumPy "unsafe" astype rules), plus a
 * cache-blocked path for transposed same-dtype copies. */
#include <string.h>

#include "tc_internal.h"

#define TC_TILE 64

#define TC_CAST_LOOP(NAME, TS, TD, EXPR)                                                \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        TD *o = (TD *)p[0];                                                             \
        const TS *a = (const TS *)p[1];                                                 \
        int64_t so = s[0], sa = s[1];                                                   \
        (void)params;                                                                   \
        if (so == 1 && sa == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                           \
                TS x = a[i];                                                            \
                o[i] = (TD)(EXPR);                                                      \
            }                                                                           \
        } else if (so == 1 && sa == 0) {                                                \
            TS x = a[0];                                                                \
            TD v = (TD)(EXPR);                                                          \
            for (int64_t i = 0; i < n; i++) {                                           \
                o[i] = v;                                                               \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                TS x = a[i * sa];                                                       \
                o[i * so] = (TD)(EXPR);                                                 \
            }                                                                           \
        }                                                                               \
    }

/* Casts from one source type to the five destination types. C conversion of float to
 * int truncates toward zero (out-of-range values are unspecified, as in NumPy). */
#define TC_CAST_FROM(SUF, TS)                                                           \
    TC_CAST_LOOP(tc_cast_##SUF##_f32, TS, float, x)                                     \
    TC_CAST_LOOP(tc_cast_##SUF##_f64, TS, double, x)                                    \
    TC_CAST_LOOP(tc_cast_##SUF##_i32, TS, int32_t, x)                                   \
    TC_CAST_LOOP(tc_cast_##SUF##_i64, TS, int64_t, x)                                   \
    TC_CAST_LOOP(tc_cast_##SUF##_b, TS, uint8_t, x != 0)

TC_CAST_FROM(f32, float)
TC_CAST_FROM(f64, double)
TC_CAST_FROM(i32, int32_t)
TC_CAST_FROM(i64, int64_t)
TC_CAST_FROM(b, uint8_t)

#define TC_CAST_ROW(SUF)                                                                \
    {tc_cast_##SUF##_f32, tc_cast_##SUF##_f64, tc_cast_##SUF##_i32, tc_cast_##SUF##_i64, \
     tc_cast_##SUF##_b}

/* Indexed [src dtype][dst dtype]. */
static const tc_inner_fn tc_cast_table[5][5] = {
    TC_CAST_ROW(f32), TC_CAST_ROW(f64), TC_CAST_ROW(i32), TC_CAST_ROW(i64), TC_CAST_ROW(b),
};

/* Same-dtype copy by element size; the unit-stride case is a memcpy. */
#define TC_MOVE_LOOP(NAME, T)                                                           \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        T *o = (T *)p[0];                                                               \
        const T *a = (const T *)p[1];                                                   \
        int64_t so = s[0], sa = s[1];                                                   \
        (void)params;                                                                   \
        if (so == 1 && sa == 1) {                                                       \
            if ((const void *)o != (const void *)a) {   /* out may be src itself */     \
                memcpy(o, a, (size_t)n * sizeof(T));                                    \
            }                                                                           \
        } else if (so == 1 && sa == 0) {                                                \
            T v = a[0];                                                                 \
            for (int64_t i = 0; i < n; i++) {                                           \
                o[i] = v;                                                               \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                o[i * so] = a[i * sa];                                                  \
            }                                                                           \
        }                                                                               \
    }

TC_MOVE_LOOP(tc_move_1, uint8_t)
TC_MOVE_LOOP(tc_move_4, uint32_t)
TC_MOVE_LOOP(tc_move_8, uint64_t)

/* ---- blocked transpose ------------------------------------------------------------
 * Used when out is unit-stride along the last coalesced dim L and src is unit-stride
 * along another dim J. The copy walks micro-tiles of (64 / itemsize) x (64 / itemsize)
 * elements: each micro-tile reads whole cache lines of src and writes whole lines of
 * out, so no line has to survive in cache between tiles (which power-of-two strides
 * would prevent through set conflicts). One work item = one outer index (all dims but
 * J and L) x one band of TC_TILE rows of J. */
typedef struct {
    const tc_layout *layout;
    char *out;
    const char *src;
    int jdim;
    int64_t jtiles;
    int64_t itemsize;
} tc_tile_ctx;

#define TC_TILE_BODY(T)                                                                 \
    {                                                                                   \
        const int64_t micro = 64 / (int64_t)sizeof(T);                                  \
        for (int64_t jm = j0; jm < j1; jm += micro) {                                   \
            int64_t jm1 = jm + micro < j1 ? jm + micro : j1;                            \
            for (int64_t lm = 0; lm < nl; lm += micro) {                                \
                int64_t lm1 = lm + micro < nl ? lm + micro : nl;                        \
                for (int64_t j = jm; j < jm1; j++) {                                    \
                    T *o = (T *)(out + j * osj);                                        \
                    const T *a = (const T *)(src + j * ssj);                            \
                    for (int64_t l = lm; l < lm1; l++) {                                \
                        o[l] = a[l * ssl];                                              \
                    }                                                                   \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }

static void tc_tile_range(void *arg, int64_t begin, int64_t end)
{
    const tc_tile_ctx *ctx = arg;
    const tc_layout *lay = ctx->layout;
    int nd = lay->ndim, jd = ctx->jdim;
    int64_t isz = ctx->itemsize;
    int64_t nl = lay->shape[nd - 1], nj = lay->shape[jd];
    int64_t osj = lay->strides[0][jd], ssj = lay->strides[1][jd];     /* bytes */
    int64_t ssl = lay->strides[1][nd - 1] / isz;                     /* elements */
    for (int64_t item = begin; item < end; item++) {
        int64_t rem = item / ctx->jtiles;
        int64_t j0 = (item % ctx->jtiles) * TC_TILE;
        int64_t j1 = j0 + TC_TILE < nj ? j0 + TC_TILE : nj;
        char *out = ctx->out;
        const char *src = ctx->src;
        for (int d = nd - 2; d >= 0; d--) {
            if (d == jd) {
                continue;
            }
            int64_t idx = rem % lay->shape[d];
            rem /= lay->shape[d];
            out += idx * lay->strides[0][d];
            src += idx * lay->strides[1][d];
        }
        if (isz == 4) {
            TC_TILE_BODY(uint32_t)
        } else if (isz == 8) {
            TC_TILE_BODY(uint64_t)
        } else {
            TC_TILE_BODY(uint8_t)
        }
    }
}

/* Returns the dim J usable for the blocked path, or -1. */
static int tc_transpose_dim(const tc_layout *lay)
{
    int nd = lay->ndim;
    int64_t isz = lay->itemsize[0];
    if (nd < 2 || lay->strides[0][nd - 1] != isz || lay->strides[1][nd - 1] == isz
        || lay->shape[nd - 1] < 8) {
        return -1;
    }
    for (int d = nd - 2; d >= 0; d--) {
        if (lay->strides[1][d] == isz && lay->shape[d] >= 8) {
            return d;
        }
    }
    return -1;
}

int tc_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
            void *out, const int64_t *out_strides,
            const void *src, const int64_t *src_strides)
{
    int64_t size;
    int rc = tc_check_dtype("tc_copy", src_dtype);
    if (rc == TC_OK) {
        rc = tc_check_dtype("tc_copy", dst_dtype);
    }
    if (rc == TC_OK) {
        rc = tc_check_shape("tc_copy", ndim, shape, &size);
    }
    if (rc != TC_OK || size == 0) {
        return rc;
    }
    if (out == NULL || src == NULL || (ndim > 0 && (out_strides == NULL
                                                    || src_strides == NULL))) {
        return tc_set_error("tc_copy: NULL data or strides with non-empty shape");
    }
    const int64_t *strides[2] = {out_strides, src_strides};
    const int64_t itemsize[2] = {tc_dtype_size(dst_dtype), tc_dtype_size(src_dtype)};
    tc_layout layout;
    tc_layout_init(&layout, 2, ndim, shape, strides, itemsize);
    char *base[2] = {(char *)out, (char *)src};
    if (src_dtype == dst_dtype) {
        int jd = tc_transpose_dim(&layout);
        if (jd >= 0) {
            int64_t jtiles = (layout.shape[jd] + TC_TILE - 1) / TC_TILE;
            int64_t items = layout.size / (layout.shape[jd] * layout.shape[layout.ndim - 1])
                            * jtiles;
            tc_tile_ctx ctx = {&layout, (char *)out, (const char *)src, jd, jtiles,
                               itemsize[0]};
            int64_t per_item = TC_TILE * layout.shape[layout.ndim - 1];
            tc_parallel_for(items, 1 + TC_CHUNK_CHEAP / per_item, tc_tile_range, &ctx);
            return TC_OK;
        }
        int64_t isz = itemsize[0];
        tc_inner_fn fn = isz == 1 ? tc_move_1 : (isz == 4 ? tc_move_4 : tc_move_8);
        tc_layout_run(&layout, base, fn, NULL, TC_CHUNK_CHEAP);
        return TC_OK;
    }
    tc_layout_run(&layout, base, tc_cast_table[src_dtype][dst_dtype], NULL, TC_CHUNK_CHEAP);
    return TC_OK;
}
