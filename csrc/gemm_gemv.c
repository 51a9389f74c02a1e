/* Matrix-vector products (m == 1 or n == 1): no packing, so the memory used does not
 * grow with K (a GEMM micro-panel would pad the vector to NR columns and pack all of it).
 *
 * The problem is first normalized to y (m) = alpha * A (m x k) @ x (k) + beta * y: when
 * n > 1 (so m == 1) the transpose y^T = B^T a^T is taken. Two forms:
 *   - column form, when A has unit stride along m and m >= TC_GEMV_COL_MIN_ROWS: blocks of
 *     TC_GEMV_ROWS rows accumulate x[p] * A[:, p] column by column (vectorizes along m);
 *   - dot form otherwise (any strides): one strided dot product per row.
 * Both sum K in pieces of tc_gemv_piece(k) elements: each piece in the element type, the
 * pieces in double, in order. Which thread computes which piece never changes the result
 * (the piece layout depends only on k), so results are the same for every thread count.
 * Scratch: a stack block of TC_GEMV_ROWS accumulators, or at most
 * TC_GEMV_SPLIT_ROWS * TC_GEMV_MAX_PIECES doubles for the K-split dot form. */
#include <stdlib.h>

#include "gemm_internal.h"
#include "tc_internal.h"

enum {
    TC_GEMV_ROWS = 256,          /* rows per column-form block */
    TC_GEMV_COL_MIN_ROWS = 16,   /* fewer rows: dot form */
    TC_GEMV_SPLIT_ROWS = 8,      /* dot form with at most this many rows splits K */
    TC_GEMV_MAX_PIECES = 1024,   /* K pieces at most (bounds the partial sums) */
};
#define TC_GEMV_MIN_PIECE ((int64_t)1 << 16)
/* Work below this many multiply-adds per parallel chunk stays on one thread. */
#define TC_GEMV_CHUNK_WORK 262144.0

static int64_t tc_gemv_piece(int64_t k)
{
    const int64_t even = (k + TC_GEMV_MAX_PIECES - 1) / TC_GEMV_MAX_PIECES;
    return even > TC_GEMV_MIN_PIECE ? even : TC_GEMV_MIN_PIECE;
}

typedef struct tc_gemv_job {
    int64_t m, k, piece, npieces;
    const char *a, *x;
    char *y;
    int64_t rsa, csa, xs, ys;   /* element strides */
    double alpha, beta;
    double *partial;            /* K-split dot form: partial[i * npieces + q] */
} tc_gemv_job;

/* y[i] = alpha * s + beta * y[i] (beta == 0: y is only written). */
#define TC_GEMV_STORE(T, job, i, s)                                                      \
    do {                                                                                 \
        T *yi_ = (T *)(void *)(job)->y + (i) * (job)->ys;                                \
        *yi_ = (job)->beta == 0.0 ? (T)((job)->alpha * (s))                              \
                                  : (T)((job)->alpha * (s) + (job)->beta * (double)*yi_); \
    } while (0)

/* Defines, for element type T:
 *   tc_gemv_dot_SUF     strided dot product of len elements, 8 accumulators of type T;
 *   tc_gemv_rowsum_SUF  row i of A times x over all K pieces, pieces summed in double;
 *   tc_gemv_rows_SUF    parallel body: dot form over rows [i0, i1);
 *   tc_gemv_split_SUF   parallel body: dot form, K pieces [q0, q1) of every row;
 *   tc_gemv_cols_SUF    parallel body: column form over row blocks [b0, b1). */
#define TC_GEMV_DEFINE(SUF, T)                                                           \
    static double tc_gemv_dot_##SUF(const T *a, int64_t as, const T *x, int64_t xs,      \
                                    int64_t len)                                         \
    {                                                                                    \
        T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                               \
        int64_t p = 0;                                                                   \
        if (as == 1 && xs == 1) {                                                        \
            for (; p + 8 <= len; p += 8)                                                 \
                for (int u = 0; u < 8; ++u)                                              \
                    s[u] += a[p + u] * x[p + u];                                         \
        } else {                                                                         \
            for (; p + 8 <= len; p += 8)                                                 \
                for (int u = 0; u < 8; ++u)                                              \
                    s[u] += a[(p + u) * as] * x[(p + u) * xs];                           \
        }                                                                                \
        for (; p < len; ++p)                                                             \
            s[0] += a[p * as] * x[p * xs];                                               \
        return (double)(((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))); \
    }                                                                                    \
                                                                                         \
    static double tc_gemv_piece_##SUF(const tc_gemv_job *jb, int64_t i, int64_t q)       \
    {                                                                                    \
        const int64_t p0 = q * jb->piece;                                                \
        const int64_t len = jb->k - p0 < jb->piece ? jb->k - p0 : jb->piece;             \
        const T *a = (const T *)(const void *)jb->a + i * jb->rsa + p0 * jb->csa;        \
        const T *x = (const T *)(const void *)jb->x + p0 * jb->xs;                       \
        return tc_gemv_dot_##SUF(a, jb->csa, x, jb->xs, len);                            \
    }                                                                                    \
                                                                                         \
    static void tc_gemv_rows_##SUF(void *ctx, int64_t i0, int64_t i1)                    \
    {                                                                                    \
        const tc_gemv_job *jb = ctx;                                                     \
        for (int64_t i = i0; i < i1; ++i) {                                              \
            double s = 0.0;                                                              \
            for (int64_t q = 0; q < jb->npieces; ++q)                                    \
                s += tc_gemv_piece_##SUF(jb, i, q);                                      \
            TC_GEMV_STORE(T, jb, i, s);                                                  \
        }                                                                                \
    }                                                                                    \
                                                                                         \
    static void tc_gemv_split_##SUF(void *ctx, int64_t q0, int64_t q1)                   \
    {                                                                                    \
        const tc_gemv_job *jb = ctx;                                                     \
        for (int64_t i = 0; i < jb->m; ++i)                                              \
            for (int64_t q = q0; q < q1; ++q)                                            \
                jb->partial[i * jb->npieces + q] = tc_gemv_piece_##SUF(jb, i, q);        \
    }                                                                                    \
                                                                                         \
    static void tc_gemv_cols_##SUF(void *ctx, int64_t b0, int64_t b1)                    \
    {                                                                                    \
        const tc_gemv_job *jb = ctx;                                                     \
        T acc[TC_GEMV_ROWS];                                                             \
        double tot[TC_GEMV_ROWS];                                                        \
        for (int64_t blk = b0; blk < b1; ++blk) {                                        \
            const int64_t i0 = blk * TC_GEMV_ROWS;                                       \
            const int h = jb->m - i0 < TC_GEMV_ROWS ? (int)(jb->m - i0) : TC_GEMV_ROWS;  \
            for (int i = 0; i < h; ++i)                                                  \
                tot[i] = 0.0;                                                            \
            for (int64_t q = 0; q < jb->npieces; ++q) {                                  \
                const int64_t p0 = q * jb->piece;                                        \
                const int64_t p1 = jb->k - p0 < jb->piece ? jb->k : p0 + jb->piece;      \
                for (int i = 0; i < h; ++i)                                              \
                    acc[i] = 0;                                                          \
                for (int64_t p = p0; p < p1; ++p) {                                      \
                    const T xp = ((const T *)(const void *)jb->x)[p * jb->xs];           \
                    const T *col = (const T *)(const void *)jb->a + i0 + p * jb->csa;    \
                    for (int i = 0; i < h; ++i)                                          \
                        acc[i] += col[i] * xp;                                           \
                }                                                                        \
                for (int i = 0; i < h; ++i)                                              \
                    tot[i] += (double)acc[i];                                            \
            }                                                                            \
            for (int i = 0; i < h; ++i)                                                  \
                TC_GEMV_STORE(T, jb, i0 + i, tot[i]);                                    \
        }                                                                                \
    }

TC_GEMV_DEFINE(f32, float)
TC_GEMV_DEFINE(f64, double)

int tc_gemv(int dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
            int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta,
            void *c, int64_t rsc, int64_t csc, int threaded)
{
    const int f32 = dtype == TC_FLOAT32;
    tc_gemv_job jb = {.k = k, .alpha = alpha, .beta = beta, .y = c};
    if (n == 1) {           /* y = A x: x is column 0 of B */
        jb.m = m; jb.a = a; jb.rsa = rsa; jb.csa = csa;
        jb.x = b; jb.xs = rsb; jb.ys = rsc;
    } else {                /* m == 1: y^T = B^T a^T */
        jb.m = n; jb.a = b; jb.rsa = csb; jb.csa = rsb;
        jb.x = a; jb.xs = csa; jb.ys = csc;
    }
    jb.piece = tc_gemv_piece(k);
    jb.npieces = (k + jb.piece - 1) / jb.piece;
    const double work = (double)jb.m * (double)k;
    const int64_t nthreads = threaded ? tc_get_num_threads() : 1;

    if (jb.rsa == 1 && jb.m >= TC_GEMV_COL_MIN_ROWS) {
        const int64_t blocks = (jb.m + TC_GEMV_ROWS - 1) / TC_GEMV_ROWS;
        const double per_block = (double)TC_GEMV_ROWS * (double)k;
        const int64_t chunk = nthreads > 1 ? 1 + (int64_t)(TC_GEMV_CHUNK_WORK / per_block)
                                           : blocks;
        tc_parallel_for(blocks, chunk, f32 ? tc_gemv_cols_f32 : tc_gemv_cols_f64, &jb);
        return TC_OK;
    }
    if (nthreads > 1 && jb.m <= TC_GEMV_SPLIT_ROWS && jb.npieces > 1 &&
        work >= 2.0 * TC_GEMV_CHUNK_WORK) {
        /* Few long rows: split K; partial sums combined in piece order afterwards. */
        jb.partial = malloc((size_t)(jb.m * jb.npieces) * sizeof(double));
        if (jb.partial == NULL)
            return TC_ERR_NOMEM;
        const double per_piece = (double)jb.m * (double)jb.piece;
        tc_parallel_for(jb.npieces, 1 + (int64_t)(TC_GEMV_CHUNK_WORK / per_piece),
                        f32 ? tc_gemv_split_f32 : tc_gemv_split_f64, &jb);
        for (int64_t i = 0; i < jb.m; ++i) {
            double s = 0.0;
            for (int64_t q = 0; q < jb.npieces; ++q)
                s += jb.partial[i * jb.npieces + q];
            if (f32)
                TC_GEMV_STORE(float, &jb, i, s);
            else
                TC_GEMV_STORE(double, &jb, i, s);
        }
        free(jb.partial);
        return TC_OK;
    }
    const int64_t chunk = nthreads > 1 ? 1 + (int64_t)(TC_GEMV_CHUNK_WORK / ((double)k + 1.0))
                                       : jb.m;
    tc_parallel_for(jb.m, chunk, f32 ? tc_gemv_rows_f32 : tc_gemv_rows_f64, &jb);
    return TC_OK;
}
