/* Binary elementwise kernels: tc_binary.
 *
 * Each (op, dtype) pair gets one inner loop over a run of the last coalesced dim with
 * four stride cases: all unit (flat, vectorizable), scalar b, scalar a, general. The
 * flat loops do not use `restrict` because out may be exactly a or b (in place);
 * gcc versions them with a run-time overlap check instead. */
#include <math.h>

#include "tc_internal.h"

/* NaN-propagating max/min as np.maximum / np.minimum. */
#define TC_FMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define TC_FMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define TC_IMAX(x, y) ((x) > (y) ? (x) : (y))
#define TC_IMIN(x, y) ((x) < (y) ? (x) : (y))

static inline int32_t tc_ipow32(int32_t base, int32_t exponent)
{
    uint32_t result = 1, b = (uint32_t)base;     /* unsigned: wraps on overflow */
    while (exponent > 0) {
        if (exponent & 1) {
            result *= b;
        }
        b *= b;
        exponent >>= 1;
    }
    return exponent < 0 ? 0 : (int32_t)result;
}

static inline int64_t tc_ipow64(int64_t base, int64_t exponent)
{
    uint64_t result = 1, b = (uint64_t)base;
    while (exponent > 0) {
        if (exponent & 1) {
            result *= b;
        }
        b *= b;
        exponent >>= 1;
    }
    return exponent < 0 ? 0 : (int64_t)result;
}

/* Defines `static void NAME(...)`: o = EXPR(x, y) with x from a, y from b. */
#define TC_BINARY_LOOP(NAME, TI, TO, EXPR)                                              \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        TO *o = (TO *)p[0];                                                             \
        const TI *a = (const TI *)p[1];                                                 \
        const TI *b = (const TI *)p[2];                                                 \
        int64_t so = s[0], sa = s[1], sb = s[2];                                        \
        (void)params;                                                                   \
        if (so == 1 && sa == 1 && sb == 1) {                                            \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI x = a[i], y = b[i];                                                  \
                o[i] = (TO)(EXPR);                                                      \
            }                                                                           \
        } else if (so == 1 && sa == 1 && sb == 0) {                                     \
            const TI y = b[0];                                                          \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI x = a[i];                                                            \
                o[i] = (TO)(EXPR);                                                      \
            }                                                                           \
        } else if (so == 1 && sa == 0 && sb == 1) {                                     \
            const TI x = a[0];                                                          \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI y = b[i];                                                            \
                o[i] = (TO)(EXPR);                                                      \
            }                                                                           \
        } else {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                           \
                TI x = a[i * sa], y = b[i * sb];                                        \
                o[i * so] = (TO)(EXPR);                                                 \
            }                                                                           \
        }                                                                               \
    }

/* The comparisons, shared by every dtype (bool out). */
#define TC_COMPARE_LOOPS(SUF, T)                                                        \
    TC_BINARY_LOOP(tc_eq_##SUF, T, uint8_t, x == y)                                     \
    TC_BINARY_LOOP(tc_ne_##SUF, T, uint8_t, x != y)                                     \
    TC_BINARY_LOOP(tc_lt_##SUF, T, uint8_t, x < y)                                      \
    TC_BINARY_LOOP(tc_le_##SUF, T, uint8_t, x <= y)                                     \
    TC_BINARY_LOOP(tc_gt_##SUF, T, uint8_t, x > y)                                      \
    TC_BINARY_LOOP(tc_ge_##SUF, T, uint8_t, x >= y)

#define TC_FLOAT_LOOPS(SUF, T, POW)                                                     \
    TC_BINARY_LOOP(tc_add_##SUF, T, T, x + y)                                           \
    TC_BINARY_LOOP(tc_sub_##SUF, T, T, x - y)                                           \
    TC_BINARY_LOOP(tc_mul_##SUF, T, T, x * y)                                           \
    TC_BINARY_LOOP(tc_div_##SUF, T, T, x / y)                                           \
    TC_BINARY_LOOP(tc_pow_##SUF, T, T, POW(x, y))                                       \
    TC_BINARY_LOOP(tc_max_##SUF, T, T, TC_FMAX(x, y))                                   \
    TC_BINARY_LOOP(tc_min_##SUF, T, T, TC_FMIN(x, y))                                   \
    TC_COMPARE_LOOPS(SUF, T)

/* Integer arithmetic wraps (the library is compiled with -fwrapv). */
#define TC_INT_LOOPS(SUF, T, IPOW)                                                      \
    TC_BINARY_LOOP(tc_add_##SUF, T, T, x + y)                                           \
    TC_BINARY_LOOP(tc_sub_##SUF, T, T, x - y)                                           \
    TC_BINARY_LOOP(tc_mul_##SUF, T, T, x * y)                                           \
    TC_BINARY_LOOP(tc_pow_##SUF, T, T, IPOW(x, y))                                      \
    TC_BINARY_LOOP(tc_max_##SUF, T, T, TC_IMAX(x, y))                                   \
    TC_BINARY_LOOP(tc_min_##SUF, T, T, TC_IMIN(x, y))                                   \
    TC_COMPARE_LOOPS(SUF, T)

TC_FLOAT_LOOPS(f32, float, powf)
TC_FLOAT_LOOPS(f64, double, pow)
TC_INT_LOOPS(i32, int32_t, tc_ipow32)
TC_INT_LOOPS(i64, int64_t, tc_ipow64)
/* bool values are 0/1 bytes: add = or, multiply = and = minimum, maximum = or. */
TC_BINARY_LOOP(tc_add_b, uint8_t, uint8_t, x | y)
TC_BINARY_LOOP(tc_mul_b, uint8_t, uint8_t, x & y)
TC_COMPARE_LOOPS(b, uint8_t)

#define TC_NUM_BINARY_OPS 13
#define TC_ROW(SUF, DIV, SUBT, POWF, MAXF, MINF)                                        \
    {tc_add_##SUF, SUBT, tc_mul_##SUF, DIV, POWF, MAXF, MINF, tc_eq_##SUF, tc_ne_##SUF,  \
     tc_lt_##SUF, tc_le_##SUF, tc_gt_##SUF, tc_ge_##SUF}

/* Indexed [dtype][op]; NULL marks an unsupported pair. */
static const tc_inner_fn tc_binary_table[5][TC_NUM_BINARY_OPS] = {
    TC_ROW(f32, tc_div_f32, tc_sub_f32, tc_pow_f32, tc_max_f32, tc_min_f32),
    TC_ROW(f64, tc_div_f64, tc_sub_f64, tc_pow_f64, tc_max_f64, tc_min_f64),
    TC_ROW(i32, NULL, tc_sub_i32, tc_pow_i32, tc_max_i32, tc_min_i32),
    TC_ROW(i64, NULL, tc_sub_i64, tc_pow_i64, tc_max_i64, tc_min_i64),
    TC_ROW(b, NULL, NULL, NULL, tc_add_b, tc_mul_b),
};

int tc_binary(int op, int dtype, int ndim, const int64_t *shape,
              void *out, const int64_t *out_strides,
              const void *a, const int64_t *a_strides,
              const void *b, const int64_t *b_strides)
{
    int64_t size;
    int rc = tc_check_dtype("tc_binary", dtype);
    if (rc == TC_OK) {
        rc = tc_check_shape("tc_binary", ndim, shape, &size);
    }
    if (rc != TC_OK) {
        return rc;
    }
    if (op < 0 || op >= TC_NUM_BINARY_OPS || tc_binary_table[dtype][op] == NULL) {
        tc_set_error("tc_binary: op %d is not supported for dtype %d", op, dtype);
        return TC_ERR_UNSUPPORTED;
    }
    if (size == 0) {
        return TC_OK;
    }
    if (ndim > 0 && (out == NULL || a == NULL || b == NULL || out_strides == NULL
                     || a_strides == NULL || b_strides == NULL)) {
        return tc_set_error("tc_binary: NULL data or strides with non-empty shape");
    }
    if (out == NULL || a == NULL || b == NULL) {
        return tc_set_error("tc_binary: NULL data pointer");
    }
    int64_t isz = tc_dtype_size(dtype);
    int64_t osz = op >= TC_EQUAL ? 1 : isz;
    const int64_t *strides[3] = {out_strides, a_strides, b_strides};
    const int64_t itemsize[3] = {osz, isz, isz};
    tc_layout layout;
    tc_layout_init(&layout, 3, ndim, shape, strides, itemsize);
    char *base[3] = {(char *)out, (char *)a, (char *)b};
    int64_t chunk = (op == TC_POWER && dtype <= TC_FLOAT64) ? TC_CHUNK_MATH : TC_CHUNK_CHEAP;
    tc_layout_run(&layout, base, tc_binary_table[dtype][op], NULL, chunk);
    return TC_OK;
}
