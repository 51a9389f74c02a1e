/* Ops along one axis: tc_argreduce and tc_softmax.
 *
 * Both view the input as (P, N, Q): P = the dims before `axis`, N = the axis, Q = the
 * dims after it, each merged into one dim. When the dims cannot be merged (e.g. a
 * permuted input), the input is first copied into a C-contiguous scratch array (and
 * softmax computes into a contiguous scratch that is then copied to out).
 * Q == 1 scans each row along N; Q > 1 streams rows of Q elements into a block of
 * per-column running values, so memory is read along its contiguous dim. */
#include <math.h>
#include <stdlib.h>

#include "tc_internal.h"

#define TC_QBLOCK 256

typedef struct {
    int64_t p, n, q;
    int64_t as_p, as_n, as_q;      /* input strides, elements */
    int64_t os_p, os_n, os_q;      /* output strides, elements (os_n unused by argreduce) */
} tc_pnq;

/* Merges dims [lo, hi) of up to two operands into one extent/stride pair each.
 * Returns 0 when the dims are not mergeable. */
static int tc_merge_run(const int64_t *shape, int lo, int hi, const int64_t *s0,
                        const int64_t *s1, int64_t *ext, int64_t *st0, int64_t *st1)
{
    *ext = 1;
    *st0 = 0;
    *st1 = 0;
    int first = 1;
    for (int d = lo; d < hi; d++) {
        if (shape[d] == 1) {
            continue;
        }
        if (first) {
            *ext = shape[d];
            *st0 = s0[d];
            *st1 = s1[d];
            first = 0;
        } else if (*st0 == s0[d] * shape[d] && *st1 == s1[d] * shape[d]) {
            *ext *= shape[d];
            *st0 = s0[d];
            *st1 = s1[d];
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---- argreduce ------------------------------------------------------------------- */

#define TC_ARG_BETTER(IS_MIN, x, best)                                                  \
    ((IS_MIN ? (x) < (best) : (x) > (best)) || ((x) != (x) && (best) == (best)))

#define TC_ARG_KERNELS(SUF, T)                                                          \
    static void tc_arg_rows_##SUF(const tc_pnq *g, const char *a, int64_t *out,         \
                                  int is_min, int64_t begin, int64_t end)               \
    {                                                                                   \
        for (int64_t pq = begin; pq < end; pq++) {                                      \
            int64_t pi = pq / g->q, qi = pq % g->q;                                     \
            const T *x = (const T *)a + pi * g->as_p + qi * g->as_q;                    \
            T best = x[0];                                                              \
            int64_t where = 0;                                                          \
            for (int64_t i = 1; i < g->n; i++) {                                        \
                T v = x[i * g->as_n];                                                   \
                if (TC_ARG_BETTER(is_min, v, best)) {                                   \
                    best = v;                                                           \
                    where = i;                                                          \
                }                                                                       \
            }                                                                           \
            out[pi * g->os_p + qi * g->os_q] = where;                                   \
        }                                                                               \
    }                                                                                   \
    static void tc_arg_cols_##SUF(const tc_pnq *g, const char *a, int64_t *out,         \
                                  int is_min, int64_t begin, int64_t end)               \
    {                                                                                   \
        int64_t nblocks = (g->q + TC_QBLOCK - 1) / TC_QBLOCK;                           \
        T best[TC_QBLOCK];                                                              \
        int64_t where[TC_QBLOCK];                                                       \
        for (int64_t item = begin; item < end; item++) {                                \
            int64_t pi = item / nblocks, q0 = (item % nblocks) * TC_QBLOCK;             \
            int64_t nq = g->q - q0 < TC_QBLOCK ? g->q - q0 : TC_QBLOCK;                 \
            const T *x = (const T *)a + pi * g->as_p + q0 * g->as_q;                    \
            for (int64_t j = 0; j < nq; j++) {                                          \
                best[j] = x[j * g->as_q];                                               \
                where[j] = 0;                                                           \
            }                                                                           \
            for (int64_t i = 1; i < g->n; i++) {                                        \
                const T *row = x + i * g->as_n;                                         \
                for (int64_t j = 0; j < nq; j++) {                                      \
                    T v = row[j * g->as_q];                                             \
                    if (TC_ARG_BETTER(is_min, v, best[j])) {                            \
                        best[j] = v;                                                    \
                        where[j] = i;                                                   \
                    }                                                                   \
                }                                                                       \
            }                                                                           \
            for (int64_t j = 0; j < nq; j++) {                                          \
                out[pi * g->os_p + (q0 + j) * g->os_q] = where[j];                      \
            }                                                                           \
        }                                                                               \
    }

TC_ARG_KERNELS(f32, float)
TC_ARG_KERNELS(f64, double)
TC_ARG_KERNELS(i32, int32_t)
TC_ARG_KERNELS(i64, int64_t)
TC_ARG_KERNELS(b, uint8_t)

typedef void (*tc_arg_fn)(const tc_pnq *g, const char *a, int64_t *out, int is_min,
                          int64_t begin, int64_t end);
static const tc_arg_fn tc_arg_rows[5] = {tc_arg_rows_f32, tc_arg_rows_f64, tc_arg_rows_i32,
                                         tc_arg_rows_i64, tc_arg_rows_b};
static const tc_arg_fn tc_arg_cols[5] = {tc_arg_cols_f32, tc_arg_cols_f64, tc_arg_cols_i32,
                                         tc_arg_cols_i64, tc_arg_cols_b};

typedef struct {
    tc_pnq g;
    const char *a;
    int64_t *out;
    int is_min;
    tc_arg_fn fn;
} tc_arg_ctx;

static void tc_arg_range(void *arg, int64_t begin, int64_t end)
{
    const tc_arg_ctx *c = arg;
    c->fn(&c->g, c->a, c->out, c->is_min, begin, end);
}

/* Copies src (shape, strides) into a fresh C-contiguous buffer; NULL on failure. */
static void *tc_contiguous_copy(int dtype, int ndim, const int64_t *shape, int64_t size,
                                const void *src, const int64_t *src_strides,
                                int64_t *c_strides)
{
    int64_t step = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        c_strides[d] = step;
        step *= shape[d];
    }
    void *buf = malloc((size_t)(size > 0 ? size : 1) * (size_t)tc_dtype_size(dtype));
    if (buf != NULL) {
        tc_copy(dtype, dtype, ndim, shape, buf, c_strides, src, src_strides);
    }
    return buf;
}

int tc_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                 int64_t *out, const int64_t *out_strides,
                 const void *a, const int64_t *a_strides)
{
    int64_t size;
    int rc = tc_check_dtype("tc_argreduce", dtype);
    if (rc == TC_OK) {
        rc = tc_check_shape("tc_argreduce", ndim, shape, &size);
    }
    if (rc != TC_OK) {
        return rc;
    }
    if (op != TC_ARGMAX && op != TC_ARGMIN) {
        return tc_set_error("tc_argreduce: invalid op %d", op);
    }
    if (axis < 0 || axis >= ndim || shape[axis] == 0) {
        return tc_set_error("tc_argreduce: axis %d invalid or empty for ndim %d", axis, ndim);
    }
    if (size == 0) {
        return TC_OK;
    }
    if (out == NULL || a == NULL || a_strides == NULL || (ndim > 1 && out_strides == NULL)) {
        return tc_set_error("tc_argreduce: NULL data or strides");
    }
    /* out strides re-indexed to the input's dims (0 on the axis) */
    int64_t os_full[TC_MAX_DIMS];
    for (int d = 0, j = 0; d < ndim; d++) {
        os_full[d] = d == axis ? 0 : out_strides[j++];
    }
    tc_pnq g;
    g.n = shape[axis];
    g.as_n = a_strides[axis];
    g.os_n = 0;
    void *scratch = NULL;
    int64_t *out_scratch = NULL;
    int64_t cs[TC_MAX_DIMS], ocs[TC_MAX_DIMS], out_shape[TC_MAX_DIMS];
    if (!tc_merge_run(shape, 0, axis, a_strides, os_full, &g.p, &g.as_p, &g.os_p)
        || !tc_merge_run(shape, axis + 1, ndim, a_strides, os_full, &g.q, &g.as_q, &g.os_q)) {
        /* compute from a C-contiguous copy into a C-contiguous result, then copy out */
        int64_t out_size = size / shape[axis];
        for (int d = 0, j = 0; d < ndim; d++) {
            if (d != axis) {
                out_shape[j++] = shape[d];
            }
        }
        int64_t step = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            os_full[d] = d == axis ? 0 : step;
            step *= d == axis ? 1 : shape[d];
        }
        for (int d = 0, j = 0; d < ndim; d++) {
            if (d != axis) {
                ocs[j++] = os_full[d];
            }
        }
        scratch = tc_contiguous_copy(dtype, ndim, shape, size, a, a_strides, cs);
        out_scratch = malloc((size_t)out_size * sizeof(int64_t));
        if (scratch == NULL || out_scratch == NULL) {
            free(scratch);
            free(out_scratch);
            tc_set_error("tc_argreduce: out of memory");
            return TC_ERR_NOMEM;
        }
        a = scratch;
        g.as_n = cs[axis];
        tc_merge_run(shape, 0, axis, cs, os_full, &g.p, &g.as_p, &g.os_p);
        tc_merge_run(shape, axis + 1, ndim, cs, os_full, &g.q, &g.as_q, &g.os_q);
    }
    tc_arg_ctx ctx = {g, a, out_scratch ? out_scratch : out, op == TC_ARGMIN, NULL};
    int64_t items;
    if (g.q == 1) {
        ctx.fn = tc_arg_rows[dtype];
        items = g.p;
    } else {
        ctx.fn = tc_arg_cols[dtype];
        items = g.p * ((g.q + TC_QBLOCK - 1) / TC_QBLOCK);
    }
    int64_t per_item = g.n * (g.q < TC_QBLOCK ? g.q : TC_QBLOCK);
    tc_parallel_for(items, 1 + TC_CHUNK_CHEAP / per_item, tc_arg_range, &ctx);
    if (out_scratch != NULL) {
        tc_copy(TC_INT64, TC_INT64, ndim - 1, out_shape, out, out_strides, out_scratch, ocs);
    }
    free(scratch);
    free(out_scratch);
    return TC_OK;
}

/* ---- softmax --------------------------------------------------------------------- */


/* Sum of n floats in double with 8 independent lanes (vectorizable, accurate). */
static double tc_sum_f32(const float *x, int64_t n)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) {
            lane[k] += (double)x[i + k];
        }
    }
    for (; i < n; i++) {
        lane[0] += (double)x[i];
    }
    return ((lane[0] + lane[1]) + (lane[2] + lane[3]))
           + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/* Softmax of one contiguous float32 row (the common axis=-1 case) using the SIMD exp.
 * In place (o == x) is fine: the log variant reads x only through a scratch block. */
static void tc_softmax_row_f32(const float *x, float *o, int64_t n, int log_out)
{
    float m = x[0];
    for (int64_t i = 1; i < n; i++) {
        m = TC_FMAX(x[i], m);
    }
    if (!log_out) {
        for (int64_t i = 0; i < n; i++) {
            o[i] = x[i] - m;
        }
        tc_vexp_f32(o, o, n);
        float inv = (float)(1.0 / tc_sum_f32(o, n));
        for (int64_t i = 0; i < n; i++) {
            o[i] *= inv;
        }
        return;
    }
    float buf[256];
    double total = 0.0;
    for (int64_t i0 = 0; i0 < n; i0 += 256) {
        int64_t c = n - i0 < 256 ? n - i0 : 256;
        for (int64_t j = 0; j < c; j++) {
            buf[j] = x[i0 + j] - m;
        }
        tc_vexp_f32(buf, buf, c);
        total += tc_sum_f32(buf, c);
    }
    float log_sum = (float)log(total);
    for (int64_t i = 0; i < n; i++) {
        o[i] = (x[i] - m) - log_sum;
    }
}

/* One column block: m[j] = max, s[j] = sum exp(x - m), then write. A Q == 1 row is the
 * block of width 1. In place (out == a) is fine: a row is read before it is written
 * except in the final pass, which reads only out. */
#define TC_SOFTMAX_KERNEL(SUF, T, EXPF, LOGF)                                           \
    static void tc_softmax_block_##SUF(const tc_pnq *g, const T *x, T *o, int64_t nq,   \
                                       int log_out)                                     \
    {                                                                                   \
        T m[TC_QBLOCK];                                                                 \
        double s[TC_QBLOCK];                                                            \
        for (int64_t j = 0; j < nq; j++) {                                              \
            m[j] = x[j * g->as_q];                                                      \
            s[j] = 0.0;                                                                 \
        }                                                                               \
        for (int64_t i = 1; i < g->n; i++) {                                            \
            for (int64_t j = 0; j < nq; j++) {                                          \
                T v = x[i * g->as_n + j * g->as_q];                                     \
                m[j] = TC_FMAX(v, m[j]);                                                \
            }                                                                           \
        }                                                                               \
        for (int64_t i = 0; i < g->n; i++) {                                            \
            for (int64_t j = 0; j < nq; j++) {                                          \
                T e = EXPF(x[i * g->as_n + j * g->as_q] - m[j]);                        \
                s[j] += e;                                                              \
                if (!log_out) {                                                         \
                    o[i * g->os_n + j * g->os_q] = e;                                   \
                }                                                                       \
            }                                                                           \
        }                                                                               \
        for (int64_t j = 0; j < nq; j++) {                                              \
            s[j] = log_out ? (double)m[j] + log(s[j]) : 1.0 / s[j];                     \
        }                                                                               \
        for (int64_t i = 0; i < g->n; i++) {                                            \
            for (int64_t j = 0; j < nq; j++) {                                          \
                T *dst = o + i * g->os_n + j * g->os_q;                                 \
                if (log_out) {                                                          \
                    /* x - m - log(s): subtract m first for accuracy */                 \
                    T v = x[i * g->as_n + j * g->as_q];                                 \
                    *dst = (T)((double)(v - m[j]) - (s[j] - (double)m[j]));            \
                } else {                                                                \
                    *dst = (T)(*dst * s[j]);                                            \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }

TC_SOFTMAX_KERNEL(f32, float, tc_exp_f32, logf)
TC_SOFTMAX_KERNEL(f64, double, exp, log)

typedef struct {
    tc_pnq g;
    const char *a;
    char *out;
    int dtype;
    int log_out;
} tc_softmax_ctx;

static void tc_softmax_range(void *arg, int64_t begin, int64_t end)
{
    const tc_softmax_ctx *c = arg;
    const tc_pnq *g = &c->g;
    int64_t nblocks = (g->q + TC_QBLOCK - 1) / TC_QBLOCK;
    for (int64_t item = begin; item < end; item++) {
        int64_t pi = item / nblocks, q0 = (item % nblocks) * TC_QBLOCK;
        int64_t nq = g->q - q0 < TC_QBLOCK ? g->q - q0 : TC_QBLOCK;
        int64_t ai = pi * g->as_p + q0 * g->as_q, oi = pi * g->os_p + q0 * g->os_q;
        if (c->dtype == TC_FLOAT32 && g->q == 1 && g->as_n == 1 && g->os_n == 1) {
            tc_softmax_row_f32((const float *)c->a + ai, (float *)c->out + oi, g->n,
                               c->log_out);
        } else if (c->dtype == TC_FLOAT32) {
            tc_softmax_block_f32(g, (const float *)c->a + ai, (float *)c->out + oi, nq,
                                 c->log_out);
        } else {
            tc_softmax_block_f64(g, (const double *)c->a + ai, (double *)c->out + oi, nq,
                                 c->log_out);
        }
    }
}

int tc_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
               void *out, const int64_t *out_strides,
               const void *a, const int64_t *a_strides)
{
    int64_t size;
    int rc = tc_check_dtype("tc_softmax", dtype);
    if (rc == TC_OK) {
        rc = tc_check_shape("tc_softmax", ndim, shape, &size);
    }
    if (rc != TC_OK) {
        return rc;
    }
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64) {
        tc_set_error("tc_softmax: dtype %d is not a float dtype", dtype);
        return TC_ERR_UNSUPPORTED;
    }
    if (axis < 0 || axis >= ndim) {
        return tc_set_error("tc_softmax: axis %d out of range for ndim %d", axis, ndim);
    }
    if (size == 0) {
        return TC_OK;
    }
    if (out == NULL || a == NULL || a_strides == NULL || out_strides == NULL) {
        return tc_set_error("tc_softmax: NULL data or strides");
    }
    tc_softmax_ctx ctx;
    tc_pnq *g = &ctx.g;
    g->n = shape[axis];
    g->as_n = a_strides[axis];
    g->os_n = out_strides[axis];
    void *in_copy = NULL, *out_copy = NULL;
    int64_t cs[TC_MAX_DIMS];
    if (!tc_merge_run(shape, 0, axis, a_strides, out_strides, &g->p, &g->as_p, &g->os_p)
        || !tc_merge_run(shape, axis + 1, ndim, a_strides, out_strides, &g->q, &g->as_q,
                         &g->os_q)) {
        /* compute contiguous-to-contiguous, then copy the result to out */
        in_copy = tc_contiguous_copy(dtype, ndim, shape, size, a, a_strides, cs);
        out_copy = malloc((size_t)size * (size_t)tc_dtype_size(dtype));
        if (in_copy == NULL || out_copy == NULL) {
            free(in_copy);
            free(out_copy);
            tc_set_error("tc_softmax: out of memory");
            return TC_ERR_NOMEM;
        }
        g->as_n = g->os_n = cs[axis];
        tc_merge_run(shape, 0, axis, cs, cs, &g->p, &g->as_p, &g->os_p);
        tc_merge_run(shape, axis + 1, ndim, cs, cs, &g->q, &g->as_q, &g->os_q);
    }
    ctx.a = in_copy ? in_copy : a;
    ctx.out = out_copy ? out_copy : out;
    ctx.dtype = dtype;
    ctx.log_out = log != 0;
    int64_t items = g->p * ((g->q + TC_QBLOCK - 1) / TC_QBLOCK);
    int64_t per_item = 8 * g->n * (g->q < TC_QBLOCK ? g->q : TC_QBLOCK);
    tc_parallel_for(items, 1 + TC_CHUNK_CHEAP / per_item, tc_softmax_range, &ctx);
    if (out_copy != NULL) {
        tc_copy(dtype, dtype, ndim, shape, out, out_strides, out_copy, cs);
        free(in_copy);
        free(out_copy);
    }
    return TC_OK;
}
