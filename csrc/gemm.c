/* Public GEMM entry points: argument checks, kernel selection, the small unpacked
 * path, integer GEMM and the batched matmul wrapper. The packed float path lives in
 * gemm_packed.c, packing in gemm_pack.c, micro-kernels in gemm_kernels_*.c.
 *
 * Shared invariants: strides are in elements, any sign, zero allowed for A and B;
 * C must not overlap A or B; beta == 0 means C is only written. */
#include <stdatomic.h>
#include <stdint.h>

#include "gemm_internal.h"
#include "tc_internal.h"

/* Float problems with m * n * k at or below this use plain strided loops. */
#define TC_GEMM_SMALL_WORK 8192.0
/* Batched matmul runs whole GEMMs in parallel when each is below this many flops. */
#define TC_GEMM_BATCH_PARALLEL_FLOPS 8.0e6
/* Minimum flops per parallel chunk of the integer loops / the batch loop. */
#define TC_GEMM_CHUNK_FLOPS 1.0e6

const char *tc_gemm_kernel_name(int dtype)
{
    switch (dtype) {
    case TC_FLOAT32:
    case TC_FLOAT64: return tc_gemm_select_kernel(dtype)->name;
    case TC_INT32: return "generic ikj i32";
    case TC_INT64: return "generic ikj i64";
    default: return "unsupported";
    }
}

/* ---- C = beta * C (k == 0 or alpha == 0); beta == 0 writes zeros without reading ---- */
static void tc_gemm_scale_c(int dtype, int64_t m, int64_t n, double beta, void *c, int64_t rsc,
                            int64_t csc)
{
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const int64_t off = i * rsc + j * csc;
            switch (dtype) {
            case TC_FLOAT32: {
                float *p = (float *)c + off;
                *p = beta == 0.0 ? 0.0f : (float)beta * *p;
                break;
            }
            case TC_FLOAT64: {
                double *p = (double *)c + off;
                *p = beta == 0.0 ? 0.0 : beta * *p;
                break;
            }
            case TC_INT32: {
                int32_t *p = (int32_t *)c + off;
                *p = beta == 0.0 ? 0 : (int32_t)((uint32_t)(int64_t)beta * (uint32_t)*p);
                break;
            }
            default: {
                int64_t *p = (int64_t *)c + off;
                *p = beta == 0.0 ? 0 : (int64_t)((uint64_t)(int64_t)beta * (uint64_t)*p);
                break;
            }
            }
        }
}

/* ---- small float problems: one strided dot product per element of C ---------------- */
static void tc_gemm_small_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                              int64_t rsa, int64_t csa, const float *b, int64_t rsb,
                              int64_t csb, float beta, float *c, int64_t rsc, int64_t csc)
{
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            float s = 0.0f;
            for (int64_t p = 0; p < k; ++p)
                s += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            float *cij = c + i * rsc + j * csc;
            *cij = beta == 0.0f ? alpha * s : alpha * s + beta * *cij;
        }
}

static void tc_gemm_small_f64(int64_t m, int64_t n, int64_t k, double alpha, const double *a,
                              int64_t rsa, int64_t csa, const double *b, int64_t rsb,
                              int64_t csb, double beta, double *c, int64_t rsc, int64_t csc)
{
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0.0;
            for (int64_t p = 0; p < k; ++p)
                s += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            double *cij = c + i * rsc + j * csc;
            *cij = beta == 0.0 ? alpha * s : alpha * s + beta * *cij;
        }
}

/* ---- integer GEMM: ikj loops over rows, wrapping (two's complement) arithmetic ------ */
typedef struct tc_gemm_int_job {
    int dtype;
    int64_t n, k;
    uint64_t alpha, beta;     /* (int64_t)alpha / beta reinterpreted, for wrapping math */
    const void *a, *b;
    void *c;
    int64_t rsa, csa, rsb, csb, rsc, csc;
} tc_gemm_int_job;

static void tc_gemm_int_rows(void *ctx, int64_t i0, int64_t i1)
{
    const tc_gemm_int_job *jb = ctx;
    for (int64_t i = i0; i < i1; ++i) {
        if (jb->dtype == TC_INT32) {
            int32_t *ci = (int32_t *)jb->c + i * jb->rsc;
            const int32_t *ai = (const int32_t *)jb->a + i * jb->rsa;
            const int32_t *b = jb->b;
            const uint32_t alpha = (uint32_t)jb->alpha, beta = (uint32_t)jb->beta;
            for (int64_t j = 0; j < jb->n; ++j)
                ci[j * jb->csc] = beta == 0 ? 0 : (int32_t)(beta * (uint32_t)ci[j * jb->csc]);
            for (int64_t p = 0; p < jb->k; ++p) {
                const uint32_t aip = alpha * (uint32_t)ai[p * jb->csa];
                const int32_t *bp = b + p * jb->rsb;
                for (int64_t j = 0; j < jb->n; ++j)
                    ci[j * jb->csc] = (int32_t)((uint32_t)ci[j * jb->csc] +
                                                aip * (uint32_t)bp[j * jb->csb]);
            }
        } else {
            int64_t *ci = (int64_t *)jb->c + i * jb->rsc;
            const int64_t *ai = (const int64_t *)jb->a + i * jb->rsa;
            const int64_t *b = jb->b;
            const uint64_t alpha = jb->alpha, beta = jb->beta;
            for (int64_t j = 0; j < jb->n; ++j)
                ci[j * jb->csc] = beta == 0 ? 0 : (int64_t)(beta * (uint64_t)ci[j * jb->csc]);
            for (int64_t p = 0; p < jb->k; ++p) {
                const uint64_t aip = alpha * (uint64_t)ai[p * jb->csa];
                const int64_t *bp = b + p * jb->rsb;
                for (int64_t j = 0; j < jb->n; ++j)
                    ci[j * jb->csc] = (int64_t)((uint64_t)ci[j * jb->csc] +
                                                aip * (uint64_t)bp[j * jb->csb]);
            }
        }
    }
}

/* Checked-argument GEMM; `threaded` = 0 keeps all work on the calling thread. Returns a
 * status without setting the error message (workers' thread-local messages would be
 * lost); callers set it. */
static int tc_gemm_run(int dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                       int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb,
                       double beta, void *c, int64_t rsc, int64_t csc, int threaded)
{
    if (m == 0 || n == 0)
        return TC_OK;
    if (k == 0 || alpha == 0.0) {
        tc_gemm_scale_c(dtype, m, n, beta, c, rsc, csc);
        return TC_OK;
    }
    if (dtype == TC_INT32 || dtype == TC_INT64) {
        tc_gemm_int_job jb = {
            .dtype = dtype, .n = n, .k = k,
            .alpha = (uint64_t)(int64_t)alpha, .beta = (uint64_t)(int64_t)beta,
            .a = a, .b = b, .c = c,
            .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .rsc = rsc, .csc = csc,
        };
        const int64_t chunk = threaded ? 1 + (int64_t)(TC_GEMM_CHUNK_FLOPS / (2.0 * n * k)) : m;
        tc_parallel_for(m, chunk, tc_gemm_int_rows, &jb);
        return TC_OK;
    }
    if ((double)m * (double)n * (double)k <= TC_GEMM_SMALL_WORK) {
        if (dtype == TC_FLOAT32)
            tc_gemm_small_f32(m, n, k, (float)alpha, a, rsa, csa, b, rsb, csb, (float)beta, c,
                              rsc, csc);
        else
            tc_gemm_small_f64(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
        return TC_OK;
    }
    if (m == 1 || n == 1)
        return tc_gemv(dtype, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                       threaded);
    return tc_gemm_packed(tc_gemm_select_kernel(dtype), m, n, k, alpha, a, rsa, csa, b, rsb, csb,
                          beta, c, rsc, csc, threaded);
}

static int tc_gemm_status_error(const char *who, int status)
{
    if (status == TC_ERR_NOMEM) {
        tc_set_error("%s: out of memory for GEMM scratch buffers", who);
        return TC_ERR_NOMEM;
    }
    if (status != TC_OK) {
        tc_set_error("%s: kernel tile too large (internal error)", who);
        return status;
    }
    return TC_OK;
}

/* 1 when x is a whole number that converts to int64 without overflow. */
static int tc_gemm_int_scalar(double x)
{
    return x >= -9223372036854775808.0 && x < 9223372036854775808.0 && x == (double)(int64_t)x;
}

static int tc_gemm_check(const char *who, int dtype, int64_t m, int64_t n, int64_t k,
                         double alpha, double beta, const void *a, const void *b,
                         const void *c)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64 && dtype != TC_INT32 && dtype != TC_INT64)
        return tc_set_error("%s: unsupported dtype %d (expected float32, float64, int32 or "
                            "int64)", who, dtype);
    if (m < 0 || n < 0 || k < 0)
        return tc_set_error("%s: negative size m=%lld n=%lld k=%lld", who, (long long)m,
                            (long long)n, (long long)k);
    if (m > 0 && n > 0 && c == NULL)
        return tc_set_error("%s: C is NULL for a %lldx%lld result", who, (long long)m,
                            (long long)n);
    if (m > 0 && n > 0 && k > 0 && (a == NULL || b == NULL))
        return tc_set_error("%s: %s is NULL with m=%lld n=%lld k=%lld", who,
                            a == NULL ? "A" : "B", (long long)m, (long long)n, (long long)k);
    /* the integer loops convert alpha and beta to int64: only whole numbers in range
     * (converting NaN, +-inf or |x| >= 2^63 is undefined behaviour in C) */
    if ((dtype == TC_INT32 || dtype == TC_INT64) &&
        !(tc_gemm_int_scalar(alpha) && tc_gemm_int_scalar(beta)))
        return tc_set_error("%s: integer GEMM needs whole alpha and beta in int64 range, "
                            "got alpha=%g beta=%g", who, alpha, beta);
    return TC_OK;
}

int tc_gemm(int dtype, int64_t m, int64_t n, int64_t k, double alpha,
            const void *a, int64_t rsa, int64_t csa,
            const void *b, int64_t rsb, int64_t csb, double beta,
            void *c, int64_t rsc, int64_t csc)
{
    const int st = tc_gemm_check("tc_gemm", dtype, m, n, k, alpha, beta, a, b, c);
    if (st != TC_OK)
        return st;
    return tc_gemm_status_error("tc_gemm", tc_gemm_run(dtype, m, n, k, alpha, a, rsa, csa, b,
                                                       rsb, csb, beta, c, rsc, csc, 1));
}

/* ---- batched matmul ------------------------------------------------------------------ */
typedef struct tc_matmul_job {
    int dtype, esize, batch_ndim;
    const int64_t *shape, *a_bs, *b_bs, *c_bs;
    int64_t m, n, k;
    const char *a, *b;
    char *c;
    int64_t rsa, csa, rsb, csb, rsc, csc;
    int threaded;               /* inner GEMMs may use the pool */
    atomic_int status;          /* first non-OK status of any GEMM */
} tc_matmul_job;

enum { TC_MAX_BATCH_NDIM = 64 };

/* Runs batch items [begin, end) in C order, walking an odometer over batch_shape. */
static void tc_matmul_range(void *ctx, int64_t begin, int64_t end)
{
    tc_matmul_job *jb = ctx;
    int64_t idx[TC_MAX_BATCH_NDIM];
    int64_t oa = 0, ob = 0, oc = 0, rest = begin;
    for (int d = jb->batch_ndim - 1; d >= 0; --d) {
        idx[d] = rest % jb->shape[d];
        rest /= jb->shape[d];
        oa += idx[d] * jb->a_bs[d];
        ob += idx[d] * jb->b_bs[d];
        oc += idx[d] * jb->c_bs[d];
    }
    for (int64_t t = begin; t < end; ++t) {
        const int st = tc_gemm_run(jb->dtype, jb->m, jb->n, jb->k, 1.0, jb->a + oa * jb->esize,
                                   jb->rsa, jb->csa, jb->b + ob * jb->esize, jb->rsb, jb->csb,
                                   0.0, jb->c + oc * jb->esize, jb->rsc, jb->csc, jb->threaded);
        if (st != TC_OK) {
            int expected = TC_OK;
            atomic_compare_exchange_strong(&jb->status, &expected, st);
            return;
        }
        for (int d = jb->batch_ndim - 1; d >= 0; --d) {
            if (++idx[d] < jb->shape[d]) {
                oa += jb->a_bs[d]; ob += jb->b_bs[d]; oc += jb->c_bs[d];
                break;
            }
            oa -= (jb->shape[d] - 1) * jb->a_bs[d];
            ob -= (jb->shape[d] - 1) * jb->b_bs[d];
            oc -= (jb->shape[d] - 1) * jb->c_bs[d];
            idx[d] = 0;
        }
    }
}

int tc_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
              const int64_t *a_bstrides, const int64_t *b_bstrides, const int64_t *c_bstrides,
              int64_t m, int64_t n, int64_t k,
              const void *a, int64_t rsa, int64_t csa,
              const void *b, int64_t rsb, int64_t csb,
              void *c, int64_t rsc, int64_t csc)
{
    int st = tc_gemm_check("tc_matmul", dtype, m, n, k, 1.0, 0.0, a, b, c);
    if (st != TC_OK)
        return st;
    if (batch_ndim < 0 || batch_ndim > TC_MAX_BATCH_NDIM)
        return tc_set_error("tc_matmul: batch_ndim=%d out of range [0, %d]", batch_ndim,
                            TC_MAX_BATCH_NDIM);
    if (batch_ndim > 0 && (batch_shape == NULL || a_bstrides == NULL || b_bstrides == NULL ||
                           c_bstrides == NULL))
        return tc_set_error("tc_matmul: NULL batch shape or strides with batch_ndim=%d",
                            batch_ndim);
    int64_t count = 1;
    for (int d = 0; d < batch_ndim; ++d) {
        if (batch_shape[d] < 0)
            return tc_set_error("tc_matmul: negative batch dim %lld at axis %d",
                                (long long)batch_shape[d], d);
    }
    if (batch_ndim > 0 && !tc_count_product(batch_ndim, batch_shape, &count))
        return tc_set_error("tc_matmul: the batch dims multiply to more than %lld items",
                            (long long)TC_MAX_ELEMENTS);
    if (count == 0 || m == 0 || n == 0)
        return TC_OK;
    tc_matmul_job jb = {
        .dtype = dtype, .esize = (dtype == TC_FLOAT32 || dtype == TC_INT32) ? 4 : 8,
        .batch_ndim = batch_ndim, .shape = batch_shape,
        .a_bs = a_bstrides, .b_bs = b_bstrides, .c_bs = c_bstrides,
        .m = m, .n = n, .k = k, .a = a, .b = b, .c = c,
        .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .rsc = rsc, .csc = csc,
    };
    atomic_init(&jb.status, TC_OK);
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    if (count > 1 && flops < TC_GEMM_BATCH_PARALLEL_FLOPS) {
        /* Many small GEMMs: one GEMM per item, items spread over the pool. */
        jb.threaded = 0;
        const int64_t chunk = 1 + (int64_t)(TC_GEMM_CHUNK_FLOPS / (flops + 1.0));
        tc_parallel_for(count, chunk, tc_matmul_range, &jb);
    } else {
        jb.threaded = 1;
        tc_matmul_range(&jb, 0, count);
    }
    st = atomic_load(&jb.status);
    return tc_gemm_status_error("tc_matmul", st);
}
