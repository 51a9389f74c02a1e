/* Internal declarations shared by the C core's translation units (not public API). */
#ifndef TC_INTERNAL_H
#define TC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tensorcore.h"

/* ---- thread pool (threads.c) ------------------------------------------------------
 * tc_parallel_for splits [0, n) into contiguous pieces of at least min_chunk items (up to
 * 4 per thread of tc_get_num_threads(), so threads that finish early take over the rest)
 * and calls fn(ctx, begin, end) once per piece, on any of the pool's threads, the caller's
 * included; fn must not depend on which thread runs a piece. It runs fn(ctx, 0, n) inline
 * when n < 2 * min_chunk, when one thread is configured, when called from inside a pool
 * worker (no nesting), or when the pool is busy serving another caller thread (so it is
 * safe from many threads). Returns after every piece has finished. The pool is re-created
 * lazily after fork() (pthread_atfork resets it in the child). */
typedef void (*tc_range_fn)(void *ctx, int64_t begin, int64_t end);
void tc_parallel_for(int64_t n, int64_t min_chunk, tc_range_fn fn, void *ctx);

/* ---- CPU features (cpu.c) ---------------------------------------------------------- */
int tc_cpu_has_avx2_fma(void);   /* 1 when the CPU and OS support AVX2 + FMA */
int tc_cpu_has_avx512f(void);    /* 1 when the CPU and OS support AVX-512F (zmm state) */

/* ---- errors (error.c) -------------------------------------------------------------- */
/* Records a printf-style message for tc_last_error() (thread-local) and returns
 * TC_ERR_INVALID, so callers can write `return tc_set_error("...", ...);`. */
int tc_set_error(const char *fmt, ...);

/* ---- strided layouts (layout.c) ------------------------------------------------------
 * A tc_layout describes nop operands that share one iteration shape. Construction drops
 * size-1 dims and merges neighbouring dims that are contiguous with each other in every
 * operand, so a C-contiguous (or broadcast-scalar) case ends up with ndim == 1.
 * Invariants after tc_layout_init: size == product(shape); when size > 0, ndim >= 1 and
 * every shape[d] >= 2 except a lone dim of size 1; strides are in BYTES. Dims are
 * visited in order of decreasing |operand-0 stride| (the output), so the flat walk follows
 * the output's memory order; the iteration order is irrelevant to elementwise results. */
#define TC_MAX_DIMS 32
#define TC_MAX_OPERANDS 4

typedef struct {
    int ndim;
    int nop;
    int64_t size;
    int64_t shape[TC_MAX_DIMS];
    int64_t strides[TC_MAX_OPERANDS][TC_MAX_DIMS];   /* bytes */
    int64_t itemsize[TC_MAX_OPERANDS];
} tc_layout;

/* strides[i] are element strides of operand i; itemsize[i] its element size. */
void tc_layout_init(tc_layout *layout, int nop, int ndim, const int64_t *shape,
                    const int64_t *const *strides, const int64_t *itemsize);

/* Inner loop over n elements: p[i] points at operand i's first element, s[i] is its
 * stride in ELEMENTS. Operand 0 is the output. */
typedef void (*tc_inner_fn)(char *const *p, const int64_t *s, int64_t n, const void *params);

/* Runs fn over every element of layout (operand base pointers in base), threaded with
 * chunks of at least min_chunk elements. */
void tc_layout_run(const tc_layout *layout, char *const *base, tc_inner_fn fn,
                   const void *params, int64_t min_chunk);

/* Cheap argument checks shared by the entry points; return 0 or tc_set_error(...). */
int tc_check_dtype(const char *func, int dtype);
/* ndim in [0, TC_MAX_DIMS], shape non-NULL when ndim > 0, extents >= 0, the product of
 * the non-zero extents at most TC_MAX_ELEMENTS; *size = the product of all extents. */
int tc_check_shape(const char *func, int ndim, const int64_t *shape, int64_t *size);

/* The most elements one array (or iteration space) may have: 2^59, so that element counts
 * times any element or accumulator size (<= 16 bytes) still fit in int64 and size_t. Every
 * real buffer is far below it; larger counts only come from wrong or overflowed sizes. */
#define TC_MAX_ELEMENTS (INT64_MAX / 16)
/* *out = a * b for a, b >= 0; returns 0 (and leaves *out alone) when the product exceeds
 * TC_MAX_ELEMENTS. A zero factor always gives 0. */
static inline int tc_mul_count(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (a == 0 || b == 0) {
        *out = 0;
        return 1;
    }
    if (__builtin_mul_overflow(a, b, &r) || r > TC_MAX_ELEMENTS) {
        return 0;
    }
    *out = r;
    return 1;
}
/* The product of n factors (all >= 0) in *out: 1, or 0 when the product of the NON-ZERO
 * factors exceeds TC_MAX_ELEMENTS (as NumPy, a zero extent does not excuse the others:
 * (2^40, 2^40, 0) is refused, since a reduction over its last dim has 2^80 outputs). */
static inline int tc_count_product(int n, const int64_t *factors, int64_t *out)
{
    int64_t total = 1;
    int empty = 0;
    for (int i = 0; i < n; i++) {
        if (factors[i] == 0) {
            empty = 1;
        } else if (!tc_mul_count(total, factors[i], &total)) {
            return 0;
        }
    }
    *out = empty ? 0 : total;
    return 1;
}
int64_t tc_dtype_size(int dtype);

/* NaN-propagating max/min as np.maximum / np.minimum, and their integer forms. */
/* (| rather than ||: no branch, so loops using them vectorize.) */
#define TC_FMAX(x, y) ((((x) > (y)) | ((x) != (x))) ? (x) : (y))
#define TC_FMIN(x, y) ((((x) < (y)) | ((x) != (x))) ? (x) : (y))
#define TC_IMAX(x, y) ((x) > (y) ? (x) : (y))
#define TC_IMIN(x, y) ((x) < (y) ? (x) : (y))

/* ---- op tables built from the X-macro lists of tensorcore.h ------------------------
 * TC_DT_<rule>(prefix) is the per-dtype row of loops prefix_f32, prefix_f64, prefix_i32,
 * prefix_i64, prefix_b that a dtype rule (FLOAT, NUMERIC, ALL, INT, INT_BOOL) supports, as designated
 * initializers indexed by tc_dtype; dtypes outside the rule stay NULL (unsupported). */
#define TC_DT_FLOAT(P) {[TC_FLOAT32] = P##_f32, [TC_FLOAT64] = P##_f64}
#define TC_DT_NUMERIC(P)                                                                \
    {[TC_FLOAT32] = P##_f32, [TC_FLOAT64] = P##_f64, [TC_INT32] = P##_i32,              \
     [TC_INT64] = P##_i64}
#define TC_DT_ALL(P)                                                                    \
    {[TC_FLOAT32] = P##_f32, [TC_FLOAT64] = P##_f64, [TC_INT32] = P##_i32,              \
     [TC_INT64] = P##_i64, [TC_BOOL] = P##_b}
#define TC_DT_INT(P) {[TC_INT32] = P##_i32, [TC_INT64] = P##_i64}
#define TC_DT_INT_BOOL(P) {[TC_INT32] = P##_i32, [TC_INT64] = P##_i64, [TC_BOOL] = P##_b}
#define TC_NUM_DTYPES 5

/* The OUT column of the op lists: the result dtype is the input's, or bool. */
#define TC_OUT_SAME 0
#define TC_OUT_BOOL 1

/* Minimum elements per thread chunk: cheap memory-bound loops and expensive math. */
#define TC_CHUNK_CHEAP 32768
#define TC_CHUNK_MATH 4096

/* e^r by its degree-7 Taylor polynomial (Horner, float32): truncation below 5e-9 relative
 * for |r| <= ln2 / 2. Shared by tc_exp_f32 and tc_tanh_f32 (tc_vmath.h). */
static inline float tc_exp_taylor7_f32(float r)
{
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    return p * r + 1.0f;
}

/* ---- vectorizable float32 exp --------------------------------------------------------
 * exp(x) = 2^k * e^r with k = round(x / ln2), |r| <= ln2 / 2, e^r by a degree-7 Taylor
 * polynomial (relative error < 2 ulp). Branch-free so gcc vectorizes loops calling it.
 * Limits are exact: exp(+inf) = +inf (overflow), exp(-inf) = 0, NaN stays NaN; 2^k is
 * applied as two factors so results in the subnormal range are rounded correctly. */
static inline float tc_exp_f32(float x)
{
    float xc = x > 88.8f ? 88.8f : x;                  /* NaN compares false: kept */
    xc = xc < -104.0f ? -104.0f : xc;
    float kf = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;     /* round to nearest */
    kf = kf == kf ? kf : 0.0f;
    float r = xc - kf * 0.693145752f;                  /* ln2 split: hi + lo */
    r = r - kf * 1.42860677e-06f;
    float p = tc_exp_taylor7_f32(r);
    int32_t k = (int32_t)kf;
    int32_t k1 = k / 2, k2 = k - k / 2;
    union { int32_t i; float f; } s1, s2;
    s1.i = (k1 + 127) * (1 << 23);
    s2.i = (k2 + 127) * (1 << 23);
    return p * s1.f * s2.f;
}

/* Contiguous float32 math with run-time SIMD selection (simd_math.c; log, tanh, sin and
 * cos from tc_vmath.h). out may equal a (in place); no other overlap. */
void tc_vexp_f32(float *out, const float *a, int64_t n);
void tc_vsigmoid_f32(float *out, const float *a, int64_t n);
void tc_vlog_f32(float *out, const float *a, int64_t n);
void tc_vtanh_f32(float *out, const float *a, int64_t n);
void tc_vsin_f32(float *out, const float *a, int64_t n);
void tc_vcos_f32(float *out, const float *a, int64_t n);

#endif
