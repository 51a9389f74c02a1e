/* Unary elementwise kernels (tc_unary), tc_where and tc_clip. Same loop structure as
 * elementwise.c: a flat unit-stride loop and a general strided loop per inner run. */
#include <math.h>

#include "tc_internal.h"
#include "tc_vmath.h"

/* Defines `static void NAME(...)`: o = EXPR(x) with x of type TI from a, o of type TO. */
#define TC_UNARY_LOOP2(NAME, TI, TO, EXPR)                                              \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        TO *o = (TO *)p[0];                                                             \
        const TI *a = (const TI *)p[1];                                                 \
        int64_t so = s[0], sa = s[1];                                                   \
        (void)params;                                                                   \
        if (so == 1 && sa == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI x = a[i];                                                            \
                o[i] = (TO)(EXPR);                                                      \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI x = a[i * sa];                                                       \
                o[i * so] = (TO)(EXPR);                                                 \
            }                                                                           \
        }                                                                               \
    }
#define TC_UNARY_LOOP(NAME, T, EXPR) TC_UNARY_LOOP2(NAME, T, T, EXPR)

/* The loops: tcu_<fn>_<dtype> for every dtype of the op's rule in TC_UNARY_OPS. */
#define TC_SIGNED_LOOPS(SUF, T)                                                         \
    TC_UNARY_LOOP(tcu_negative_##SUF, T, -x)                                            \
    TC_UNARY_LOOP(tcu_square_##SUF, T, x * x)

TC_SIGNED_LOOPS(f32, float)
TC_SIGNED_LOOPS(f64, double)
TC_SIGNED_LOOPS(i32, int32_t)
TC_SIGNED_LOOPS(i64, int64_t)
/* float abs clears the sign bit of -0.0 and NaN too (fabs), as np.abs does. */
TC_UNARY_LOOP(tcu_abs_f32, float, fabsf(x))
TC_UNARY_LOOP(tcu_abs_f64, double, fabs(x))
TC_UNARY_LOOP(tcu_abs_i32, int32_t, x < 0 ? -x : x)
TC_UNARY_LOOP(tcu_abs_i64, int64_t, x < 0 ? -x : x)
TC_UNARY_LOOP(tcu_relu_f32, float, (x > 0.0f || x != x) ? x : 0.0f)
TC_UNARY_LOOP(tcu_relu_f64, double, (x > 0.0 || x != x) ? x : 0.0)
TC_UNARY_LOOP(tcu_relu_i32, int32_t, x > 0 ? x : 0)
TC_UNARY_LOOP(tcu_relu_i64, int64_t, x > 0 ? x : 0)
TC_UNARY_LOOP(tcu_sign_f32, float, x != x ? x : (float)((x > 0.0f) - (x < 0.0f)))
TC_UNARY_LOOP(tcu_sign_f64, double, x != x ? x : (double)((x > 0.0) - (x < 0.0)))
TC_UNARY_LOOP(tcu_sign_i32, int32_t, (x > 0) - (x < 0))
TC_UNARY_LOOP(tcu_sign_i64, int64_t, (x > 0) - (x < 0))
/* float32 exp, sigmoid, log, tanh, sin and cos: contiguous runs go to the run-time selected
 * SIMD loops of simd_math.c, strided runs to the same scalar code (same results). */
#define TC_VECTOR_F32(NAME, EXPR)                                                       \
    TC_UNARY_LOOP(tcu_##NAME##_strided_f32, float, EXPR)                                \
    static void tcu_##NAME##_f32(char *const *p, const int64_t *s, int64_t n,           \
                                 const void *params)                                    \
    {                                                                                   \
        if (s[0] == 1 && s[1] == 1) {                                                   \
            tc_v##NAME##_f32((float *)p[0], (const float *)p[1], n);                    \
        } else {                                                                        \
            tcu_##NAME##_strided_f32(p, s, n, params);                                  \
        }                                                                               \
    }
TC_VECTOR_F32(exp, tc_exp_f32(x))
TC_VECTOR_F32(sigmoid, tc_sigmoid_f32(x))
TC_VECTOR_F32(log, tc_log_f32(x))
TC_VECTOR_F32(tanh, tc_tanh_f32(x))
TC_VECTOR_F32(sin, tc_sincos_any_f32(x, 0))
TC_VECTOR_F32(cos, tc_sincos_any_f32(x, 1))

/* libm functions (C99 Annex F special cases: signed zeros, infinities, NaN, as the array
 * API standard specifies them): tcu_<fn>_f32 calls fnf, tcu_<fn>_f64 calls fn. */
#define TC_LIBM_LOOPS(fn)                                                               \
    TC_UNARY_LOOP(tcu_##fn##_f32, float, fn##f(x))                                      \
    TC_UNARY_LOOP(tcu_##fn##_f64, double, fn(x))
TC_UNARY_LOOP(tcu_exp_f64, double, exp(x))
TC_UNARY_LOOP(tcu_log_f64, double, log(x))
TC_LIBM_LOOPS(sqrt)
TC_UNARY_LOOP(tcu_tanh_f64, double, tanh(x))
TC_UNARY_LOOP(tcu_sigmoid_f64, double, tc_sigmoid_f64(x))
TC_UNARY_LOOP(tcu_reciprocal_f32, float, 1.0f / x)
TC_UNARY_LOOP(tcu_reciprocal_f64, double, 1.0 / x)
TC_LIBM_LOOPS(log1p)
TC_LIBM_LOOPS(expm1)
/* Rounding: exact, sign of zero kept (floor(-0.0) is -0.0); integers are already integral. */
TC_LIBM_LOOPS(floor)
TC_LIBM_LOOPS(ceil)
TC_LIBM_LOOPS(trunc)
#define TC_INTEGRAL_LOOPS(SUF, T)                                                       \
    TC_UNARY_LOOP(tcu_floor_##SUF, T, x)                                                \
    TC_UNARY_LOOP(tcu_ceil_##SUF, T, x)                                                 \
    TC_UNARY_LOOP(tcu_trunc_##SUF, T, x)
TC_INTEGRAL_LOOPS(i32, int32_t)
TC_INTEGRAL_LOOPS(i64, int64_t)
TC_UNARY_LOOP(tcu_sin_f64, double, sin(x))
TC_UNARY_LOOP(tcu_cos_f64, double, cos(x))
TC_LIBM_LOOPS(tan)
TC_LIBM_LOOPS(asin)
TC_LIBM_LOOPS(acos)
TC_LIBM_LOOPS(atan)
TC_LIBM_LOOPS(sinh)
TC_LIBM_LOOPS(cosh)
TC_LIBM_LOOPS(asinh)
TC_LIBM_LOOPS(acosh)
TC_LIBM_LOOPS(atanh)
TC_LIBM_LOOPS(log2)
TC_LIBM_LOOPS(log10)

/* Dispatch, chunk sizes, result dtypes and names, all from the one list TC_UNARY_OPS.
 * Indexed [op][dtype]; NULL marks an unsupported pair. */
#define TC_UNARY_ROW(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_DT_##DT(tcu_##fn),
#define TC_UNARY_CHUNK(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_CHUNK_##COST,
#define TC_UNARY_OUT(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_OUT_##OUT,
#define TC_UNARY_NAME(NAME, fn, COST, DT, OUT) [TC_##NAME] = #fn,
static const tc_inner_fn tc_unary_table[TC_NUM_UNARY_OPS][TC_NUM_DTYPES] = {
    TC_UNARY_OPS(TC_UNARY_ROW)
};
static const int64_t tc_unary_chunk[TC_NUM_UNARY_OPS] = {TC_UNARY_OPS(TC_UNARY_CHUNK)};
static const int tc_unary_out[TC_NUM_UNARY_OPS] = {TC_UNARY_OPS(TC_UNARY_OUT)};
static const char *const tc_unary_names[TC_NUM_UNARY_OPS] = {TC_UNARY_OPS(TC_UNARY_NAME)};

const char *tc_unary_op_name(int op)
{
    return (op >= 0 && op < TC_NUM_UNARY_OPS) ? tc_unary_names[op] : NULL;
}

int tc_unary_result_dtype(int op, int dtype)
{
    if (op < 0 || op >= TC_NUM_UNARY_OPS) {
        return tc_set_error("tc_unary: unknown op code %d", op);
    }
    return tc_unary_out[op] == TC_OUT_BOOL ? TC_BOOL : dtype;
}

/* Checks shared by the entry points below. Returns TC_OK, or an error status. */
static int tc_check_common(const char *func, int dtype, int ndim, const int64_t *shape,
                           int64_t *size)
{
    int rc = tc_check_dtype(func, dtype);
    if (rc == TC_OK) {
        rc = tc_check_shape(func, ndim, shape, size);
    }
    return rc;
}

static int tc_check_operands(const char *func, int ndim, int nop, const void *const *data,
                             const int64_t *const *strides)
{
    for (int i = 0; i < nop; i++) {
        if (data[i] == NULL || (ndim > 0 && strides[i] == NULL)) {
            return tc_set_error("%s: NULL data or strides for operand %d", func, i);
        }
    }
    return TC_OK;
}

int tc_unary(int op, int dtype, int ndim, const int64_t *shape,
             void *out, const int64_t *out_strides,
             const void *a, const int64_t *a_strides)
{
    int64_t size;
    int rc = tc_check_common("tc_unary", dtype, ndim, shape, &size);
    if (rc != TC_OK) {
        return rc;
    }
    if (op < 0 || op >= TC_NUM_UNARY_OPS || tc_unary_table[op][dtype] == NULL) {
        tc_set_error("tc_unary: op %d is not supported for dtype %d", op, dtype);
        return TC_ERR_UNSUPPORTED;
    }
    if (size == 0) {
        return TC_OK;
    }
    const void *data[2] = {out, a};
    const int64_t *strides[2] = {out_strides, a_strides};
    rc = tc_check_operands("tc_unary", ndim, 2, data, strides);
    if (rc != TC_OK) {
        return rc;
    }
    int64_t isz = tc_dtype_size(dtype);
    const int64_t itemsize[2] = {tc_unary_out[op] == TC_OUT_BOOL ? 1 : isz, isz};
    tc_layout layout;
    tc_layout_init(&layout, 2, ndim, shape, strides, itemsize);
    char *base[2] = {(char *)out, (char *)a};
    tc_layout_run(&layout, base, tc_unary_table[op][dtype], NULL, tc_unary_chunk[op]);
    return TC_OK;
}

/* ---- where: only the element size matters (values are moved bit for bit) ---------- */

#define TC_WHERE_LOOP(NAME, T)                                                          \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        T *o = (T *)p[0];                                                               \
        const uint8_t *c = (const uint8_t *)p[1];                                       \
        const T *a = (const T *)p[2];                                                   \
        const T *b = (const T *)p[3];                                                   \
        (void)params;                                                                   \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {                         \
            for (int64_t i = 0; i < n; i++) {                                           \
                o[i] = c[i] ? a[i] : b[i];                                              \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                o[i * s[0]] = c[i * s[1]] ? a[i * s[2]] : b[i * s[3]];                  \
            }                                                                           \
        }                                                                               \
    }

TC_WHERE_LOOP(tc_where_1, uint8_t)
TC_WHERE_LOOP(tc_where_4, uint32_t)
TC_WHERE_LOOP(tc_where_8, uint64_t)

int tc_where(int dtype, int ndim, const int64_t *shape,
             void *out, const int64_t *out_strides,
             const void *cond, const int64_t *cond_strides,
             const void *a, const int64_t *a_strides,
             const void *b, const int64_t *b_strides)
{
    int64_t size;
    int rc = tc_check_common("tc_where", dtype, ndim, shape, &size);
    if (rc != TC_OK || size == 0) {
        return rc;
    }
    const void *data[4] = {out, cond, a, b};
    const int64_t *strides[4] = {out_strides, cond_strides, a_strides, b_strides};
    rc = tc_check_operands("tc_where", ndim, 4, data, strides);
    if (rc != TC_OK) {
        return rc;
    }
    int64_t isz = tc_dtype_size(dtype);
    const int64_t itemsize[4] = {isz, 1, isz, isz};
    tc_layout layout;
    tc_layout_init(&layout, 4, ndim, shape, strides, itemsize);
    char *base[4] = {(char *)out, (char *)cond, (char *)a, (char *)b};
    tc_inner_fn fn = isz == 1 ? tc_where_1 : (isz == 4 ? tc_where_4 : tc_where_8);
    tc_layout_run(&layout, base, fn, NULL, TC_CHUNK_CHEAP);
    return TC_OK;
}

/* ---- clip ------------------------------------------------------------------------ */

typedef struct {
    double flo, fhi;      /* float bounds; -inf / +inf when absent */
    int64_t ilo, ihi;     /* integer bounds; INT64_MIN / INT64_MAX when absent */
} tc_clip_params;

#define TC_CLIP_LOOP(NAME, T, LO, HI, MAXF, MINF)                                       \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        const tc_clip_params *cp = params;                                              \
        T *o = (T *)p[0];                                                               \
        const T *a = (const T *)p[1];                                                   \
        const T lo = (T)cp->LO, hi = (T)cp->HI;                                         \
        int64_t so = s[0], sa = s[1];                                                   \
        if (so == 1 && sa == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                           \
                T t = MAXF(a[i], lo);                                                   \
                o[i] = MINF(t, hi);                                                     \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                T t = MAXF(a[i * sa], lo);                                              \
                o[i * so] = MINF(t, hi);                                                \
            }                                                                           \
        }                                                                               \
    }

TC_CLIP_LOOP(tc_clip_f32, float, flo, fhi, TC_FMAX, TC_FMIN)
TC_CLIP_LOOP(tc_clip_f64, double, flo, fhi, TC_FMAX, TC_FMIN)
TC_CLIP_LOOP(tc_clip_i32, int32_t, ilo, ihi, TC_IMAX, TC_IMIN)
TC_CLIP_LOOP(tc_clip_i64, int64_t, ilo, ihi, TC_IMAX, TC_IMIN)

int tc_clip(int dtype, int ndim, const int64_t *shape,
            void *out, const int64_t *out_strides,
            const void *a, const int64_t *a_strides,
            const void *lo, const void *hi)
{
    int64_t size;
    int rc = tc_check_common("tc_clip", dtype, ndim, shape, &size);
    if (rc != TC_OK) {
        return rc;
    }
    if (dtype == TC_BOOL) {
        tc_set_error("tc_clip: bool is not supported");
        return TC_ERR_UNSUPPORTED;
    }
    if (size == 0) {
        return TC_OK;
    }
    const void *data[2] = {out, a};
    const int64_t *strides[2] = {out_strides, a_strides};
    rc = tc_check_operands("tc_clip", ndim, 2, data, strides);
    if (rc != TC_OK) {
        return rc;
    }
    tc_clip_params cp = {-INFINITY, INFINITY, INT64_MIN, INT64_MAX};
    tc_inner_fn fn = NULL;
    switch (dtype) {
    case TC_FLOAT32:
        cp.flo = lo ? *(const float *)lo : -INFINITY;
        cp.fhi = hi ? *(const float *)hi : INFINITY;
        fn = tc_clip_f32;
        break;
    case TC_FLOAT64:
        cp.flo = lo ? *(const double *)lo : -INFINITY;
        cp.fhi = hi ? *(const double *)hi : INFINITY;
        fn = tc_clip_f64;
        break;
    case TC_INT32:
        cp.ilo = lo ? *(const int32_t *)lo : INT32_MIN;
        cp.ihi = hi ? *(const int32_t *)hi : INT32_MAX;
        fn = tc_clip_i32;
        break;
    default:
        cp.ilo = lo ? *(const int64_t *)lo : INT64_MIN;
        cp.ihi = hi ? *(const int64_t *)hi : INT64_MAX;
        fn = tc_clip_i64;
        break;
    }
    int64_t isz = tc_dtype_size(dtype);
    const int64_t itemsize[2] = {isz, isz};
    tc_layout layout;
    tc_layout_init(&layout, 2, ndim, shape, strides, itemsize);
    char *base[2] = {(char *)out, (char *)a};
    tc_layout_run(&layout, base, fn, &cp, TC_CHUNK_CHEAP);
    return TC_OK;
}
