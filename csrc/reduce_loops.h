/* Accumulation loops for reduce.c (included once, by reduce.c only).
 *
 * Accumulators are tc_acc: double for float inputs (exact for max/min, accurate sums),
 * int64 for integer and bool inputs (exact, wrapping). A "row" loop folds n strided
 * elements into one accumulator (the last dim is reduced); a "col" loop folds one input
 * row into n accumulators (the last dim is kept: rows are streamed, never columns). */
#ifndef TC_REDUCE_LOOPS_H
#define TC_REDUCE_LOOPS_H

#include <math.h>

#include "gemm_internal.h"
#include "neon_loops.h"
#include "tc_internal.h"

typedef union {
    double f;
    int64_t i;
} tc_acc;

typedef void (*tc_row_fn)(tc_acc *acc, const char *p, int64_t n, int64_t s, double aux);
typedef void (*tc_col_fn)(tc_acc *acc, const char *p, int64_t n, int64_t s, int64_t rows,
                          int64_t rs, const double *aux);

#define TC_ADD(x, y) ((x) + (y))

/* Row fold with 8 independent lanes on the unit-stride path (vectorizable, and the
 * blocked order keeps float sums accurate). TERM(x) maps an element to the value being
 * combined by COMBINE; FIELD is f or i. */
#define TC_ROW_LOOP(NAME, T, A, FIELD, TERM, COMBINE, INIT)                              \
    static void NAME(tc_acc *acc, const char *p, int64_t n, int64_t s, double aux)      \
    {                                                                                    \
        const T *x = (const T *)p;                                                       \
        A total = acc->FIELD;                                                            \
        (void)aux;                                                                       \
        if (s == 1 && n >= 8) {                                                          \
            A lane[8];                                                                   \
            for (int k = 0; k < 8; k++) {                                                \
                lane[k] = (A)(INIT);                                                     \
            }                                                                            \
            int64_t i = 0;                                                               \
            for (; i + 8 <= n; i += 8) {                                                 \
                for (int k = 0; k < 8; k++) {                                            \
                    A v = (A)x[i + k];                                           \
                    lane[k] = COMBINE(lane[k], TERM(v));                                 \
                }                                                                        \
            }                                                                            \
            for (; i < n; i++) {                                                         \
                A v = (A)x[i];                                                           \
                lane[0] = COMBINE(lane[0], TERM(v));                                     \
            }                                                                            \
            A merged = COMBINE(COMBINE(COMBINE(lane[0], lane[1]), COMBINE(lane[2], lane[3])), \
                               COMBINE(COMBINE(lane[4], lane[5]), COMBINE(lane[6], lane[7]))); \
            total = COMBINE(total, merged);                                              \
        } else {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                            \
                A v = (A)x[i * s];                                                       \
                total = COMBINE(total, TERM(v));                                         \
            }                                                                            \
        }                                                                                \
        acc->FIELD = total;                                                              \
    }

/* Col fold of `rows` input rows (row stride rs bytes) into n accumulators; four rows
 * per sweep so each accumulator is loaded and stored once per four rows. Each column
 * still combines its rows in order. */
#define TC_COL_LOOP(NAME, T, A, FIELD, TERM, COMBINE)                                    \
    static void NAME(tc_acc *acc, const char *p, int64_t n, int64_t s, int64_t rows,     \
                     int64_t rs, const double *aux)                                      \
    {                                                                                    \
        A *av = (A *)acc;               /* tc_acc has the size and alignment of A */     \
        (void)aux;                                                                       \
        int64_t r = 0;                                                                   \
        if (s == 1) {                                                                    \
            for (; r + 4 <= rows; r += 4) {                                              \
                const T *x0 = (const T *)(p + r * rs), *x1 = (const T *)(p + (r + 1) * rs); \
                const T *x2 = (const T *)(p + (r + 2) * rs);                             \
                const T *x3 = (const T *)(p + (r + 3) * rs);                             \
                for (int64_t j = 0; j < n; j++) {                                        \
                    A v0 = (A)x0[j], v1 = (A)x1[j], v2 = (A)x2[j], v3 = (A)x3[j];        \
                    A t = COMBINE(av[j], TERM(v0));                                      \
                    t = COMBINE(t, TERM(v1));                                            \
                    t = COMBINE(t, TERM(v2));                                            \
                    av[j] = COMBINE(t, TERM(v3));                                        \
                }                                                                        \
            }                                                                            \
        }                                                                                \
        for (; r < rows; r++) {                                                          \
            const T *x = (const T *)(p + r * rs);                                        \
            for (int64_t j = 0; j < n; j++) {                                            \
                A v = (A)x[j * s];                                                       \
                av[j] = COMBINE(av[j], TERM(v));                                         \
            }                                                                            \
        }                                                                                \
    }

#define TC_IDENT(v) (v)
#define TC_SQDEV_ROW(v) (((v) - aux) * ((v) - aux))
#define TC_SQDEV_COL(v) (((v) - aux[j]) * ((v) - aux[j]))

/* Float passes: sum, max, min, squared deviation from aux, exp(x - aux). The sums are
 * tc_{row,col}_sum_<dtype>_c; tc_{row,col}_sum_<dtype> below route float32 to NEON. */
#define TC_FLOAT_REDUCE_LOOPS(SUF, T, EXPF)                                              \
    TC_ROW_LOOP(tc_row_sum_##SUF##_c, T, double, f, TC_IDENT, TC_ADD, 0.0)               \
    TC_ROW_LOOP(tc_row_max_##SUF, T, double, f, TC_IDENT, TC_FMAX, -INFINITY)            \
    TC_ROW_LOOP(tc_row_min_##SUF, T, double, f, TC_IDENT, TC_FMIN, INFINITY)             \
    TC_ROW_LOOP(tc_row_sqdev_##SUF, T, double, f, TC_SQDEV_ROW, TC_ADD, 0.0)             \
    TC_COL_LOOP(tc_col_sum_##SUF##_c, T, double, f, TC_IDENT, TC_ADD)                    \
    TC_COL_LOOP(tc_col_max_##SUF, T, double, f, TC_IDENT, TC_FMAX)                       \
    TC_COL_LOOP(tc_col_min_##SUF, T, double, f, TC_IDENT, TC_FMIN)                       \
    TC_COL_LOOP(tc_col_sqdev_##SUF, T, double, f, TC_SQDEV_COL, TC_ADD)                  \
    static void tc_row_expsum_##SUF(tc_acc *acc, const char *p, int64_t n, int64_t s,   \
                                    double aux)                                          \
    {                                                                                    \
        const T *x = (const T *)p;                                                       \
        const T m = (T)aux;                                                              \
        double total = acc->f;                                                           \
        for (int64_t i = 0; i < n; i++) {                                                \
            total += EXPF(x[i * s] - m);                                                 \
        }                                                                                \
        acc->f = total;                                                                  \
    }                                                                                    \
    static void tc_col_expsum_##SUF(tc_acc *acc, const char *p, int64_t n, int64_t s,   \
                                    int64_t rows, int64_t rs, const double *aux)         \
    {                                                                                    \
        for (int64_t r = 0; r < rows; r++) {                                             \
            const T *x = (const T *)(p + r * rs);                                        \
            for (int64_t j = 0; j < n; j++) {                                            \
                acc[j].f += EXPF(x[j * s] - (T)aux[j]);                                  \
            }                                                                            \
        }                                                                                \
    }

#define TC_INT_REDUCE_LOOPS(SUF, T)                                                      \
    TC_ROW_LOOP(tc_row_sum_##SUF, T, int64_t, i, TC_IDENT, TC_ADD, 0)                    \
    TC_ROW_LOOP(tc_row_max_##SUF, T, int64_t, i, TC_IDENT, TC_IMAX, INT64_MIN)           \
    TC_ROW_LOOP(tc_row_min_##SUF, T, int64_t, i, TC_IDENT, TC_IMIN, INT64_MAX)           \
    TC_COL_LOOP(tc_col_sum_##SUF, T, int64_t, i, TC_IDENT, TC_ADD)                       \
    TC_COL_LOOP(tc_col_max_##SUF, T, int64_t, i, TC_IDENT, TC_IMAX)                      \
    TC_COL_LOOP(tc_col_min_##SUF, T, int64_t, i, TC_IDENT, TC_IMIN)

TC_FLOAT_REDUCE_LOOPS(f32, float, tc_exp_f32)
TC_FLOAT_REDUCE_LOOPS(f64, double, exp)
#define tc_row_sum_f64 tc_row_sum_f64_c
#define tc_col_sum_f64 tc_col_sum_f64_c
#ifdef TC_HAVE_NEON_LOOPS
/* float32 sums on AArch64: the NEON folds (same order, same results) unless
 * TENSORCORE_SIMD lowered the level. */
static void tc_row_sum_f32(tc_acc *acc, const char *p, int64_t n, int64_t s, double aux)
{
    if (s == 1 && n >= 8 && tc_simd_level_id() == TC_SIMD_NEON) {
        acc->f = acc->f + tc_neon_sum8_f32((const float *)p, n);
        return;
    }
    tc_row_sum_f32_c(acc, p, n, s, aux);
}

static void tc_col_sum_f32(tc_acc *acc, const char *p, int64_t n, int64_t s, int64_t rows,
                           int64_t rs, const double *aux)
{
    if (s == 1 && tc_simd_level_id() == TC_SIMD_NEON) {
        tc_neon_col_sum_f32((double *)acc, p, n, rows, rs);
        return;
    }
    tc_col_sum_f32_c(acc, p, n, s, rows, rs, aux);
}
#else
#define tc_row_sum_f32 tc_row_sum_f32_c
#define tc_col_sum_f32 tc_col_sum_f32_c
#endif

TC_INT_REDUCE_LOOPS(i32, int32_t)
TC_INT_REDUCE_LOOPS(i64, int64_t)
TC_INT_REDUCE_LOOPS(b, uint8_t)

/* Passes, in table order. */
enum { TC_PASS_SUM = 0, TC_PASS_MAX = 1, TC_PASS_MIN = 2, TC_PASS_SQDEV = 3,
       TC_PASS_EXPSUM = 4, TC_NUM_PASSES = 5 };

#define TC_FPASSES(SUF, KIND)                                                            \
    {tc_##KIND##_sum_##SUF, tc_##KIND##_max_##SUF, tc_##KIND##_min_##SUF,                \
     tc_##KIND##_sqdev_##SUF, tc_##KIND##_expsum_##SUF}
#define TC_IPASSES(SUF, KIND)                                                            \
    {tc_##KIND##_sum_##SUF, tc_##KIND##_max_##SUF, tc_##KIND##_min_##SUF, NULL, NULL}

/* Indexed [dtype][pass]. */
static const tc_row_fn tc_row_table[5][TC_NUM_PASSES] = {
    TC_FPASSES(f32, row), TC_FPASSES(f64, row), TC_IPASSES(i32, row),
    TC_IPASSES(i64, row), TC_IPASSES(b, row),
};
static const tc_col_fn tc_col_table[5][TC_NUM_PASSES] = {
    TC_FPASSES(f32, col), TC_FPASSES(f64, col), TC_IPASSES(i32, col),
    TC_IPASSES(i64, col), TC_IPASSES(b, col),
};

#endif
