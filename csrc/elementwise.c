/* Binary elementwise kernels: tc_binary.
 *
 * Each (op, dtype) pair gets one inner loop over a run of the last coalesced dim with
 * four stride cases: all unit (flat, vectorizable), scalar b, scalar a, general. The
 * flat loops do not use `restrict` because out may be exactly a or b (in place);
 * gcc versions them with a run-time overlap check instead. */
#include <math.h>

#include "gemm_internal.h"
#include "neon_loops.h"
#include "tc_internal.h"

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

/* Floor division and remainder as NumPy defines them (npy_divmod): the remainder comes from
 * fmod (exact), the quotient from (a - mod) / b, so the two agree. floor(a / b) would not:
 * 1.0 / 0.1 rounds to exactly 10.0, while 1.0 // 0.1 is 9 (1.0 % 0.1 is 0.0999...).
 * b == 0 gives a / b (+-inf or NaN); inf // finite gives +-inf as the array API standard
 * and PyTorch (NumPy: NaN); the remainder has the sign of b, a zero one included. */
#define TC_FLOAT_DIVMOD(SUF, T, FMOD, FLOOR, COPYSIGN)                                  \
    static inline T tc_floor_divide_##SUF(T a, T b)                                     \
    {                                                                                   \
        if (b == 0 || (isinf(a) && isfinite(b))) {                                      \
            return a / b;                                                               \
        }                                                                               \
        T mod = FMOD(a, b);                                                             \
        T div = (a - mod) / b;                                                          \
        if (mod != 0 && ((b < 0) != (mod < 0))) {                                       \
            div -= 1;                                                                   \
        }                                                                               \
        if (div == 0) {                                                                 \
            return COPYSIGN((T)0, a / b);                                               \
        }                                                                               \
        T whole = FLOOR(div);       /* div is within rounding of an integer: snap */    \
        return (div - whole > (T)0.5) ? whole + 1 : whole;                              \
    }                                                                                   \
    static inline T tc_remainder_##SUF(T a, T b)                                        \
    {                                                                                   \
        T mod = FMOD(a, b);                                                             \
        if (b == 0) {                                                                   \
            return mod;                                                                 \
        }                                                                               \
        if (mod == 0) {                                                                 \
            return COPYSIGN((T)0, b);                                                   \
        }                                                                               \
        return ((b < 0) != (mod < 0)) ? mod + b : mod;                                  \
    }

TC_FLOAT_DIVMOD(f32, float, fmodf, floorf, copysignf)
TC_FLOAT_DIVMOD(f64, double, fmod, floor, copysign)

/* Integers: rounded toward -inf, x // 0 and x % 0 give 0 (as NumPy); b == -1 is done by
 * negation, since INT_MIN / -1 traps (INT_MIN // -1 wraps to INT_MIN, as NumPy). */
#define TC_INT_DIVMOD(SUF, T, UT)                                                       \
    static inline T tc_floor_divide_##SUF(T a, T b)                                     \
    {                                                                                   \
        if (b == 0) {                                                                   \
            return 0;                                                                   \
        }                                                                               \
        if (b == -1) {                                                                  \
            return (T)((UT)0 - (UT)a);                                                  \
        }                                                                               \
        T q = a / b;                                                                    \
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;                        \
    }                                                                                   \
    static inline T tc_remainder_##SUF(T a, T b)                                        \
    {                                                                                   \
        if (b == 0 || b == -1) {                                                        \
            return 0;                                                                   \
        }                                                                               \
        T r = a % b;                                                                    \
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;                            \
    }

TC_INT_DIVMOD(i32, int32_t, uint32_t)
TC_INT_DIVMOD(i64, int64_t, uint64_t)
/* logaddexp = log(e^x + e^y) without overflow: max + log1p(e^-|x - y|). Equal arguments
 * (infinities of one sign included) give x + ln 2, so +-inf stays +-inf; NaN propagates. */
#define TC_LOGADDEXP_FUNC(SUF, T, LOG1P, EXP, FABS)                                     \
    static inline T tc_logaddexp_##SUF(T x, T y)                                        \
    {                                                                                   \
        if (x != x || y != y) {                                                         \
            return x + y;                                                               \
        }                                                                               \
        if (x == y) {                                                                   \
            return x + (T)0.693147180559945309;                                         \
        }                                                                               \
        T hi = x > y ? x : y;                                                           \
        return hi + LOG1P(EXP(-FABS(x - y)));                                           \
    }
TC_LOGADDEXP_FUNC(f32, float, log1pf, expf, fabsf)
TC_LOGADDEXP_FUNC(f64, double, log1p, exp, fabs)

/* Shifts as NumPy defines them for every count: a count outside [0, width) (negative or
 * too wide; the array API standard leaves these implementation-defined) shifts every bit
 * out, giving 0 for << and the sign fill (0 or -1) for >>. Left shifts run on the unsigned
 * type, so shifting into or out of the sign bit wraps instead of being undefined. */
#define TC_SHIFT_FUNCS(SUF, T, U, WIDTH)                                                \
    static inline T tc_lshift_##SUF(T x, T y)                                           \
    {                                                                                   \
        return (y >= 0 && y < WIDTH) ? (T)((U)x << y) : (T)0;                           \
    }                                                                                   \
    static inline T tc_rshift_##SUF(T x, T y)                                           \
    {                                                                                   \
        return (y >= 0 && y < WIDTH) ? (T)(x >> y) : (T)(x < 0 ? -1 : 0);               \
    }
TC_SHIFT_FUNCS(i32, int32_t, uint32_t, 32)
TC_SHIFT_FUNCS(i64, int64_t, uint64_t, 64)

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

/* The loops: tcb_<fn>_<dtype> for every dtype of the op's rule in TC_BINARY_OPS.
 * The comparisons, shared by every dtype (bool out): */
#define TC_COMPARE_LOOPS(SUF, T)                                                        \
    TC_BINARY_LOOP(tcb_equal_##SUF, T, uint8_t, x == y)                                 \
    TC_BINARY_LOOP(tcb_not_equal_##SUF, T, uint8_t, x != y)                             \
    TC_BINARY_LOOP(tcb_less_##SUF, T, uint8_t, x < y)                                   \
    TC_BINARY_LOOP(tcb_less_equal_##SUF, T, uint8_t, x <= y)                            \
    TC_BINARY_LOOP(tcb_greater_##SUF, T, uint8_t, x > y)                                \
    TC_BINARY_LOOP(tcb_greater_equal_##SUF, T, uint8_t, x >= y)

#define TC_DIVMOD_LOOPS(SUF, T)                                                         \
    TC_BINARY_LOOP(tcb_floor_divide_##SUF, T, T, tc_floor_divide_##SUF(x, y))           \
    TC_BINARY_LOOP(tcb_remainder_##SUF, T, T, tc_remainder_##SUF(x, y))

/* The four arithmetic ops: ARITH(NAME, T, EXPR, NEON_OP) defines the loop NAME. Plain
 * for every dtype; for float32 on AArch64, unit-stride and scalar-broadcast runs go to
 * the NEON loops (neon_loops.c) unless TENSORCORE_SIMD lowered the level. */
#define TC_ARITH_PLAIN(NAME, T, EXPR, NEON_OP) TC_BINARY_LOOP(NAME, T, T, EXPR)
#ifdef TC_HAVE_NEON_LOOPS
#define TC_ARITH_F32(NAME, T, EXPR, NEON_OP)                                            \
    TC_BINARY_LOOP(NAME##_c, T, T, EXPR)                                                \
    static void NAME(char *const *p, const int64_t *s, int64_t n, const void *params)  \
    {                                                                                   \
        if (s[0] == 1 && tc_simd_level_id() == TC_SIMD_NEON                            \
            && tc_neon_binary_f32(NEON_OP, (float *)p[0], (const float *)p[1], s[1],    \
                                  (const float *)p[2], s[2], n)) {                      \
            return;                                                                     \
        }                                                                               \
        NAME##_c(p, s, n, params);                                                      \
    }
#else
#define TC_ARITH_F32 TC_ARITH_PLAIN
#endif

#define TC_FLOAT_LOOPS(SUF, T, POW, ARITH)                                              \
    ARITH(tcb_add_##SUF, T, x + y, TC_NEON_ADD)                                         \
    ARITH(tcb_subtract_##SUF, T, x - y, TC_NEON_SUB)                                    \
    ARITH(tcb_multiply_##SUF, T, x * y, TC_NEON_MUL)                                    \
    ARITH(tcb_divide_##SUF, T, x / y, TC_NEON_DIV)                                      \
    TC_BINARY_LOOP(tcb_power_##SUF, T, T, POW(x, y))                                    \
    TC_BINARY_LOOP(tcb_maximum_##SUF, T, T, TC_FMAX(x, y))                              \
    TC_BINARY_LOOP(tcb_minimum_##SUF, T, T, TC_FMIN(x, y))                              \
    TC_DIVMOD_LOOPS(SUF, T)                                                             \
    TC_COMPARE_LOOPS(SUF, T)

/* Float-only functions of C99 math.h (their IEEE special cases are the array API's). */
#define TC_FLOAT_MATH_LOOPS(SUF, T, MF)                                                 \
    TC_BINARY_LOOP(tcb_atan2_##SUF, T, T, MF(atan2)(x, y))                              \
    TC_BINARY_LOOP(tcb_logaddexp_##SUF, T, T, tc_logaddexp_##SUF(x, y))                 \
    TC_BINARY_LOOP(tcb_hypot_##SUF, T, T, MF(hypot)(x, y))                              \
    TC_BINARY_LOOP(tcb_copysign_##SUF, T, T, MF(copysign)(x, y))                        \
    TC_BINARY_LOOP(tcb_nextafter_##SUF, T, T, MF(nextafter)(x, y))
#define TC_MATH_F32(fn) fn##f
#define TC_MATH_F64(fn) fn

/* Integer arithmetic wraps (the library is compiled with -fwrapv). */
#define TC_INT_LOOPS(SUF, T, IPOW)                                                      \
    TC_BINARY_LOOP(tcb_add_##SUF, T, T, x + y)                                          \
    TC_BINARY_LOOP(tcb_subtract_##SUF, T, T, x - y)                                     \
    TC_BINARY_LOOP(tcb_multiply_##SUF, T, T, x * y)                                     \
    TC_BINARY_LOOP(tcb_power_##SUF, T, T, IPOW(x, y))                                   \
    TC_BINARY_LOOP(tcb_maximum_##SUF, T, T, TC_IMAX(x, y))                              \
    TC_BINARY_LOOP(tcb_minimum_##SUF, T, T, TC_IMIN(x, y))                              \
    TC_DIVMOD_LOOPS(SUF, T)                                                             \
    TC_BINARY_LOOP(tcb_bitwise_and_##SUF, T, T, x & y)                                  \
    TC_BINARY_LOOP(tcb_bitwise_or_##SUF, T, T, x | y)                                   \
    TC_BINARY_LOOP(tcb_bitwise_xor_##SUF, T, T, x ^ y)                                  \
    TC_BINARY_LOOP(tcb_bitwise_left_shift_##SUF, T, T, tc_lshift_##SUF(x, y))           \
    TC_BINARY_LOOP(tcb_bitwise_right_shift_##SUF, T, T, tc_rshift_##SUF(x, y))          \
    TC_COMPARE_LOOPS(SUF, T)

TC_FLOAT_LOOPS(f32, float, powf, TC_ARITH_F32)
TC_FLOAT_LOOPS(f64, double, pow, TC_ARITH_PLAIN)
TC_FLOAT_MATH_LOOPS(f32, float, TC_MATH_F32)
TC_FLOAT_MATH_LOOPS(f64, double, TC_MATH_F64)
TC_INT_LOOPS(i32, int32_t, tc_ipow32)
TC_INT_LOOPS(i64, int64_t, tc_ipow64)
/* bool values are 0/1 bytes: add = maximum = or, multiply = minimum = and. */
TC_BINARY_LOOP(tcb_add_b, uint8_t, uint8_t, x | y)
TC_BINARY_LOOP(tcb_multiply_b, uint8_t, uint8_t, x & y)
#define tcb_maximum_b tcb_add_b
#define tcb_minimum_b tcb_multiply_b
#define tcb_bitwise_and_b tcb_multiply_b
#define tcb_bitwise_or_b tcb_add_b
TC_BINARY_LOOP(tcb_bitwise_xor_b, uint8_t, uint8_t, x ^ y)
TC_COMPARE_LOOPS(b, uint8_t)

/* Dispatch, chunk sizes, result dtypes and names, all from the one list TC_BINARY_OPS.
 * Indexed [op][dtype]; NULL marks an unsupported pair. */
#define TC_BINARY_ROW(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_DT_##DT(tcb_##fn),
#define TC_BINARY_CHUNK(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_CHUNK_##COST,
#define TC_BINARY_OUT(NAME, fn, COST, DT, OUT) [TC_##NAME] = TC_OUT_##OUT,
#define TC_BINARY_NAME(NAME, fn, COST, DT, OUT) [TC_##NAME] = #fn,
static const tc_inner_fn tc_binary_table[TC_NUM_BINARY_OPS][TC_NUM_DTYPES] = {
    TC_BINARY_OPS(TC_BINARY_ROW)
};
static const int64_t tc_binary_chunk[TC_NUM_BINARY_OPS] = {TC_BINARY_OPS(TC_BINARY_CHUNK)};
static const int tc_binary_out[TC_NUM_BINARY_OPS] = {TC_BINARY_OPS(TC_BINARY_OUT)};
static const char *const tc_binary_names[TC_NUM_BINARY_OPS] = {TC_BINARY_OPS(TC_BINARY_NAME)};

const char *tc_binary_op_name(int op)
{
    return (op >= 0 && op < TC_NUM_BINARY_OPS) ? tc_binary_names[op] : NULL;
}

int tc_binary_result_dtype(int op, int dtype)
{
    if (op < 0 || op >= TC_NUM_BINARY_OPS) {
        return tc_set_error("tc_binary: unknown op code %d", op);
    }
    return tc_binary_out[op] == TC_OUT_BOOL ? TC_BOOL : dtype;
}

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
    if (op < 0 || op >= TC_NUM_BINARY_OPS || tc_binary_table[op][dtype] == NULL) {
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
    int64_t osz = tc_binary_out[op] == TC_OUT_BOOL ? 1 : isz;
    const int64_t *strides[3] = {out_strides, a_strides, b_strides};
    const int64_t itemsize[3] = {osz, isz, isz};
    tc_layout layout;
    tc_layout_init(&layout, 3, ndim, shape, strides, itemsize);
    char *base[3] = {(char *)out, (char *)a, (char *)b};
    tc_layout_run(&layout, base, tc_binary_table[op][dtype], NULL, tc_binary_chunk[op]);
    return TC_OK;
}
