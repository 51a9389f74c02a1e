/* tensorcore public C API.
 *
 * This one header is both the C API of the core and the declarations cffi parses
 * (csrc/ffi_build.py runs it through the C preprocessor with TC_CDEF defined and passes
 * the result to cdef), so besides typedefs, enums and prototypes it holds only the op
 * lists (X-macros) that define the op enums.
 *
 * Conventions: every function returns int status (0 = TC_OK, negative = error, message
 * from tc_last_error()); strides are counted in ELEMENTS (not bytes) and may be
 * negative or zero (broadcast) for inputs; shapes are int64. Pointers given as `data`
 * point at the element with all indices 0 (NumPy convention).
 *
 * Checked before anything is read or written (an error status, nothing touched): dtype and
 * op codes, ndim, negative sizes, NULL for an array the call would read or write (NULL is
 * fine where no element is touched, e.g. a size-0 shape, or where documented as optional),
 * and sizes too large to index: the product of the non-zero extents of one shape (or of
 * m x n, rows x n, a conv geometry's arrays and window positions) must be at most 2^59
 * elements (as NumPy, a zero extent does not excuse the others).
 *
 * Layout and aliasing rules (the caller's duty: these functions do not check them, and
 * breaking one gives wrong results or out-of-bounds reads):
 * - data pointers are aligned to the item size; a NumPy view whose BYTE stride is not a
 *   multiple of the item size (rec['a'] of a structured array) has no element stride:
 *   copy it to a contiguous buffer first (tensorcore's Python layer and the jitted
 *   entry points of tensorcore.numba_interop do; the raw pointers do not);
 * - outputs never have zero or self-overlapping strides (each element written once);
 * - tc_gemm / tc_matmul: C must not overlap A or B at all (A and B are read after parts
 *   of C are written);
 * - elementwise / copy / clip / where: `out` may be exactly the same view as an input
 *   (in place) but must not partially overlap one. */
#ifndef TENSORCORE_H
#define TENSORCORE_H
#ifndef TC_CDEF
#include <stdint.h>
#endif
#ifdef __cplusplus
extern "C" {
#endif

enum tc_dtype { TC_FLOAT32 = 0, TC_FLOAT64 = 1, TC_INT32 = 2, TC_INT64 = 3, TC_BOOL = 4 };
enum tc_status { TC_OK = 0, TC_ERR_INVALID = -1, TC_ERR_NOMEM = -2, TC_ERR_UNSUPPORTED = -3 };

const char *tc_version(void);
const char *tc_last_error(void);

/* ---- runtime -------------------------------------------------------------------- */
void tc_set_num_threads(int n);
int tc_get_num_threads(void);
const char *tc_simd_level(void);            /* "avx512", "avx2", or "generic" */

/* ---- GEMM (gemm.c): C = alpha * A @ B + beta * C, general strides (rs = row stride,
 * cs = column stride, in elements). dtype TC_FLOAT32 / TC_FLOAT64 (BLIS-style packed
 * path) or TC_INT32 / TC_INT64 (simple loops; alpha and beta must then be whole numbers
 * in int64 range, else TC_ERR_INVALID). beta == 0 never reads C. -------------------- */
int tc_gemm(int dtype, int64_t m, int64_t n, int64_t k, double alpha,
            const void *a, int64_t rsa, int64_t csa,
            const void *b, int64_t rsb, int64_t csb, double beta,
            void *c, int64_t rsc, int64_t csc);
/* Batched matmul: for every index i of batch_shape (batch_ndim dims, C order),
 * C[i] = A[i] @ B[i], A[i] at a + dot(i, a_bstrides) (elements; strides may be 0). */
int tc_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
              const int64_t *a_bstrides, const int64_t *b_bstrides, const int64_t *c_bstrides,
              int64_t m, int64_t n, int64_t k,
              const void *a, int64_t rsa, int64_t csa,
              const void *b, int64_t rsb, int64_t csb,
              void *c, int64_t rsc, int64_t csc);
const char *tc_gemm_kernel_name(int dtype);  /* e.g. "avx512 32x6 f32" */
/* blocks[0..4] = MR, NR, KC, MC, NC of the float32/float64 GEMM kernel in use (KC/MC/NC
 * from the detected caches; TENSORCORE_GEMM_ISA=generic|avx2|avx512 picks the family). */
int tc_gemm_blocks(int dtype, int64_t *blocks);
/* sizes[0..2] = L1 data, L2, L3 cache bytes (CPUID, else sysfs, else defaults). */
int tc_cache_sizes(int64_t *sizes);

/* ---- elementwise, copy, reductions (elementwise.c, unary.c, copy.c, reduce.c, ...) ----
 * Common arguments: `ndim` in [0, 32] and `shape` (ndim extents, >= 0) describe the
 * iteration space; every operand has its own `*_strides` (ndim entries, ELEMENTS, any
 * sign, zero for broadcast inputs). `out` may be exactly the same view as an input
 * (in place) but must not partially overlap one. Size-0 shapes touch no memory.
 * Dims are coalesced and work is threaded inside the library. */

/* The elementwise op lists, one X(...) row per op, in op-code order. These lists are the C
 * side of the op table tensorcore/_optable.py (a test checks both name the same ops in the
 * same order): they define the enums below, and unary.c / elementwise.c build their dispatch
 * tables, chunk sizes and names from them. Columns:
 *   NAME   enum constant TC_<NAME>;
 *   fn     the loops tc_<fn>_<dtype> the kernel file defines, one per dtype of the rule;
 *   COST   CHEAP (memory-bound) or MATH (transcendental): the threading chunk size;
 *   DT     dtype rule: FLOAT (f32, f64), NUMERIC (+ i32, i64) or ALL (+ bool); INT
 *          (i32, i64) and INT_BOOL (i32, i64, bool) for the bitwise ops;
 *   OUT    SAME (output dtype = input dtype) or BOOL (comparisons, predicates).
 * Append new ops at the end of their list (codes are ABI). */
#define TC_UNARY_OPS(X)                                                                 \
    X(NEGATIVE, negative, CHEAP, NUMERIC, SAME)                                         \
    X(ABS, abs, CHEAP, NUMERIC, SAME)                                                   \
    X(SQUARE, square, CHEAP, NUMERIC, SAME)                                             \
    X(RELU, relu, CHEAP, NUMERIC, SAME)                                                 \
    X(SIGN, sign, CHEAP, NUMERIC, SAME)                                                 \
    X(EXP, exp, MATH, FLOAT, SAME)                                                      \
    X(LOG, log, MATH, FLOAT, SAME)                                                      \
    X(SQRT, sqrt, MATH, FLOAT, SAME)                                                    \
    X(TANH, tanh, MATH, FLOAT, SAME)                                                    \
    X(SIGMOID, sigmoid, MATH, FLOAT, SAME)                                              \
    X(RECIPROCAL, reciprocal, MATH, FLOAT, SAME)                                        \
    X(LOG1P, log1p, MATH, FLOAT, SAME)                                                  \
    X(EXPM1, expm1, MATH, FLOAT, SAME)                                                  \
    X(FLOOR, floor, CHEAP, NUMERIC, SAME)                                               \
    X(CEIL, ceil, CHEAP, NUMERIC, SAME)                                                 \
    X(TRUNC, trunc, CHEAP, NUMERIC, SAME)                                               \
    X(SIN, sin, MATH, FLOAT, SAME)                                                      \
    X(COS, cos, MATH, FLOAT, SAME)                                                      \
    X(TAN, tan, MATH, FLOAT, SAME)                                                      \
    X(ASIN, asin, MATH, FLOAT, SAME)                                                    \
    X(ACOS, acos, MATH, FLOAT, SAME)                                                    \
    X(ATAN, atan, MATH, FLOAT, SAME)                                                    \
    X(SINH, sinh, MATH, FLOAT, SAME)                                                    \
    X(COSH, cosh, MATH, FLOAT, SAME)                                                    \
    X(ASINH, asinh, MATH, FLOAT, SAME)                                                  \
    X(ACOSH, acosh, MATH, FLOAT, SAME)                                                  \
    X(ATANH, atanh, MATH, FLOAT, SAME)                                                  \
    X(LOG2, log2, MATH, FLOAT, SAME)                                                    \
    X(LOG10, log10, MATH, FLOAT, SAME)                                                  \
    X(ROUND, round, CHEAP, NUMERIC, SAME)                                                \
    X(SIGNBIT, signbit, CHEAP, FLOAT, BOOL)                                             \
    X(ISNAN, isnan, CHEAP, NUMERIC, BOOL)                                               \
    X(ISINF, isinf, CHEAP, NUMERIC, BOOL)                                               \
    X(ISFINITE, isfinite, CHEAP, NUMERIC, BOOL)                                         \
    X(BITWISE_INVERT, bitwise_invert, CHEAP, INT_BOOL, SAME)

#define TC_BINARY_OPS(X)                                                                \
    X(ADD, add, CHEAP, ALL, SAME)                                                       \
    X(SUBTRACT, subtract, CHEAP, NUMERIC, SAME)                                         \
    X(MULTIPLY, multiply, CHEAP, ALL, SAME)                                             \
    X(DIVIDE, divide, CHEAP, FLOAT, SAME)                                               \
    X(POWER, power, MATH, NUMERIC, SAME)                                                \
    X(MAXIMUM, maximum, CHEAP, ALL, SAME)                                               \
    X(MINIMUM, minimum, CHEAP, ALL, SAME)                                               \
    X(EQUAL, equal, CHEAP, ALL, BOOL)                                                   \
    X(NOT_EQUAL, not_equal, CHEAP, ALL, BOOL)                                           \
    X(LESS, less, CHEAP, ALL, BOOL)                                                     \
    X(LESS_EQUAL, less_equal, CHEAP, ALL, BOOL)                                         \
    X(GREATER, greater, CHEAP, ALL, BOOL)                                               \
    X(GREATER_EQUAL, greater_equal, CHEAP, ALL, BOOL)                                   \
    X(FLOOR_DIVIDE, floor_divide, MATH, NUMERIC, SAME)                                  \
    X(REMAINDER, remainder, MATH, NUMERIC, SAME)                                        \
    X(ATAN2, atan2, MATH, FLOAT, SAME)                                                  \
    X(LOGADDEXP, logaddexp, MATH, FLOAT, SAME)                                          \
    X(HYPOT, hypot, MATH, FLOAT, SAME)                                                  \
    X(COPYSIGN, copysign, CHEAP, FLOAT, SAME)                                           \
    X(NEXTAFTER, nextafter, CHEAP, FLOAT, SAME)                                         \
    X(BITWISE_AND, bitwise_and, CHEAP, INT_BOOL, SAME)                                  \
    X(BITWISE_OR, bitwise_or, CHEAP, INT_BOOL, SAME)                                    \
    X(BITWISE_XOR, bitwise_xor, CHEAP, INT_BOOL, SAME)                                  \
    X(BITWISE_LEFT_SHIFT, bitwise_left_shift, CHEAP, INT, SAME)                         \
    X(BITWISE_RIGHT_SHIFT, bitwise_right_shift, CHEAP, INT, SAME)

#define TC_OP_ENUM_ENTRY(NAME, ...) TC_##NAME,
enum tc_unary_op { TC_UNARY_OPS(TC_OP_ENUM_ENTRY) TC_NUM_UNARY_OPS };
enum tc_binary_op { TC_BINARY_OPS(TC_OP_ENUM_ENTRY) TC_NUM_BINARY_OPS };
#undef TC_OP_ENUM_ENTRY
enum tc_reduce_op {
    TC_REDUCE_SUM = 0, TC_REDUCE_MAX = 1, TC_REDUCE_MIN = 2, TC_REDUCE_MEAN = 3,
    TC_REDUCE_VAR = 4, TC_REDUCE_LOGSUMEXP = 5
};
enum tc_argreduce_op { TC_ARGMAX = 0, TC_ARGMIN = 1 };

/* out = a OP b. `dtype` is the dtype of a and b; out has dtype TC_BOOL for the six
 * comparisons and `dtype` otherwise. Semantics as docs/backend-interface.md (bool add =
 * or, multiply = and; NaN-propagating maximum/minimum; integer power wraps). */
int tc_binary(int op, int dtype, int ndim, const int64_t *shape,
              void *out, const int64_t *out_strides,
              const void *a, const int64_t *a_strides,
              const void *b, const int64_t *b_strides);

/* The dtype tc_binary writes for (op, dtype): TC_BOOL for comparisons, else dtype; a
 * negative status for an unknown op. */
int tc_binary_result_dtype(int op, int dtype);
/* The dtype tc_unary writes for (op, dtype): TC_BOOL for predicates (isnan, signbit, ...),
 * else dtype; a negative status for an unknown op. */
int tc_unary_result_dtype(int op, int dtype);
/* The lower-case name of an op code ("add", "exp", ...), or NULL for an unknown code. */
const char *tc_unary_op_name(int op);
const char *tc_binary_op_name(int op);

/* out = OP(a), a of dtype `dtype`, out of dtype tc_unary_result_dtype(op, dtype). An op
 * code outside the list, or an op the dtype does not support, returns TC_ERR_UNSUPPORTED
 * without touching memory. */
int tc_unary(int op, int dtype, int ndim, const int64_t *shape,
             void *out, const int64_t *out_strides,
             const void *a, const int64_t *a_strides);

/* out = cond ? a : b; cond is TC_BOOL, a, b and out are `dtype`. */
int tc_where(int dtype, int ndim, const int64_t *shape,
             void *out, const int64_t *out_strides,
             const void *cond, const int64_t *cond_strides,
             const void *a, const int64_t *a_strides,
             const void *b, const int64_t *b_strides);

/* out = minimum(maximum(a, *lo), *hi); lo / hi point at ONE value of `dtype`, or are
 * NULL for "no bound". NaN propagates. */
int tc_clip(int dtype, int ndim, const int64_t *shape,
            void *out, const int64_t *out_strides,
            const void *a, const int64_t *a_strides,
            const void *lo, const void *hi);

/* out = (dst_dtype) src, NumPy "unsafe" casting: float->int truncates toward zero,
 * x->bool is x != 0, bool->x is 0/1. Transposed patterns use a cache-blocked path. */
int tc_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
            void *out, const int64_t *out_strides,
            const void *src, const int64_t *src_strides);

/* Reduces `a` (shape `shape`) over the dims whose bit is set in axis_mask (bit d = dim
 * d). out has the keepdims shape (reduced dims have extent 1; their out_strides entries
 * are ignored). out dtype: TC_INT64 for TC_REDUCE_SUM of int32/int64/bool, else `dtype`.
 * MEAN/VAR/LOGSUMEXP need a float dtype; MAX/MIN must not reduce over zero elements;
 * VAR divides by max(N - ddof, 0). */
int tc_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t axis_mask,
              void *out, const int64_t *out_strides,
              const void *a, const int64_t *a_strides, int64_t ddof);

/* Index (int64) of the first max/min along `axis` (shape[axis] > 0; NaN counts as the
 * extreme). out has shape `shape` without `axis` (ndim - 1 strides). */
int tc_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                 int64_t *out, const int64_t *out_strides,
                 const void *a, const int64_t *a_strides);

/* Stable (log-)softmax of float `a` along `axis` into out (same shape and dtype). */
int tc_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
               void *out, const int64_t *out_strides,
               const void *a, const int64_t *a_strides);

/* Row gather: dst[i, :] = src[index[i], :] for n rows of row_bytes bytes (src rows are
 * src_row_stride bytes apart; dst is contiguous). Indices are checked against [0, nrows)
 * before anything is written (TC_ERR_INVALID otherwise). */
int tc_take_rows(int64_t nrows, int64_t row_bytes, const void *src, int64_t src_row_stride,
                 int64_t n, const int64_t *index, void *dst);
/* Row scatter: dst[index[i], :] = src[i, :] for n rows of row_bytes bytes, in order, so a
 * repeated index keeps the last row (dst rows are dst_row_stride bytes apart; src is
 * contiguous and does not overlap dst). Indices checked as in tc_take_rows. */
int tc_put_rows(int64_t nrows, int64_t row_bytes, void *dst, int64_t dst_row_stride,
                int64_t n, const int64_t *index, const void *src);
/* Sequentially out[index[i] * out_stride] += src[i * src_stride] for i < n; index
 * values must lie in [0, out_size) (checked: TC_ERR_INVALID otherwise, before any
 * write). dtype: float32/64, int32/64. */
int tc_scatter_add(int dtype, int64_t out_size, void *out, int64_t out_stride,
                   int64_t n, const int64_t *index, int64_t index_stride,
                   const void *src, int64_t src_stride);

/* ---- sorting, scanning, searching (sort.c); every array C-contiguous ----------------
 * Order: NaN after every number; sorts are stable (equal keys keep input order, also when
 * descending). */
/* Sorts each of `rows` rows of n elements of src; values (same dtype) and/or index (int64
 * positions within the row) may be NULL, not both. */
int tc_sort(int dtype, int64_t rows, int64_t n, const void *src, void *values,
            int64_t *index, int descending);
/* Inclusive cumulative sum along the middle axis of src (outer, n, inner); out has the
 * same shape, dtype `dtype` for floats and TC_INT64 for int32/int64/bool. */
int tc_cumsum(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
              void *out);
/* Coordinates of the true elements of a bool array of `shape`: out is (ndim, count)
 * int64, count == number of true elements (checked). ndim in [1, 32]. */
int tc_nonzero(int ndim, const int64_t *shape, const uint8_t *mask, int64_t count,
               int64_t *out);
/* out[i] = insertion position of values[i] in sorted[0..n) (right: after equal keys). */
int tc_searchsorted(int dtype, int64_t n, const void *sorted, int64_t m, const void *values,
                    int64_t *out, int right);

/* ---- singular values (svdvals.c) ----------------------------------------------------
 * out (batch, min(m, n)) = the singular values, descending, of each matrix of the
 * C-contiguous a (batch, m, n); dtype TC_FLOAT32 or TC_FLOAT64 for both (one-sided Jacobi
 * in double). A matrix with a NaN or infinite entry gives NaN. */
int tc_svdvals(int dtype, int64_t batch, int64_t m, int64_t n, const void *a, void *out);


/* ---- convolution and pooling (conv.c) ----------------------------------------------
 * Channels-last: x is (N, H, W, C), the kernel w is (KH, KW, C / groups, O) (HWIO), the
 * output y is (N, OH, OW, O); all C-contiguous, dtype TC_FLOAT32 or TC_FLOAT64. `geom`
 * holds TC_CONV_GEOM_LEN int64 values indexed by enum tc_conv_geom_index; padding is
 * implicit (positions outside the input read as 0 for convolution and are skipped by
 * pooling), so no padded copy is made. Input reads are bounds-checked per position, so
 * any geometry that passes the entry checks stays inside x, w and y. Work is threaded
 * over output row tiles (forward) or images (input gradients); the im2col scratch is one
 * tile per thread (TC_CONV_TILE_BYTES), never the whole im2col matrix. */
enum tc_conv_geom_index {
    TC_CG_N = 0, TC_CG_H = 1, TC_CG_W = 2, TC_CG_C = 3, TC_CG_KH = 4, TC_CG_KW = 5,
    TC_CG_O = 6, TC_CG_OH = 7, TC_CG_OW = 8, TC_CG_SH = 9, TC_CG_SW = 10, TC_CG_PT = 11,
    TC_CG_PL = 12, TC_CG_DH = 13, TC_CG_DW = 14, TC_CG_GROUPS = 15, TC_CONV_GEOM_LEN = 16
};
enum tc_pool_kind { TC_POOL_MAX = 0, TC_POOL_AVG = 1 };

/* y = conv(x, w) (cross-correlation, like every deep-learning framework). */
int tc_conv2d(int dtype, const int64_t *geom, const void *x, const void *w, void *y);
/* dx = d(sum(y * dy)) / dx: written whole (no need to clear it first). */
int tc_conv2d_grad_input(int dtype, const int64_t *geom, const void *dy, const void *w,
                         void *dx);
/* dw = d(sum(y * dy)) / dw: written whole. */
int tc_conv2d_grad_filter(int dtype, const int64_t *geom, const void *x, const void *dy,
                          void *dw);
/* Pooling windows KH x KW (geom O must equal C; dilation 1; groups 1). TC_POOL_MAX: y is
 * the window maximum (NaN propagates) and argmax (same shape as y, int32) the input
 * position ih * W + iw it came from; TC_POOL_AVG: y is the mean over the window's
 * positions inside the input (padding not counted), argmax unused (may be NULL). */
int tc_pool2d(int kind, int dtype, const int64_t *geom, const void *x, void *y,
              int32_t *argmax);
/* dx from dy: max routes each dy to its argmax position, avg spreads it over the window.
 * dx is written whole. */
int tc_pool2d_grad(int kind, int dtype, const int64_t *geom, const void *dy,
                   const int32_t *argmax, void *dx);

/* ---- fused training kernels (fused.c, fused_xent.c) ---------------------------------
 * All arrays are C-contiguous, dtype TC_FLOAT32 or TC_FLOAT64 (one dtype per call);
 * arithmetic is in that dtype. Threaded like the other kernels. */

/* In place on the m x n matrix out: out[i, j] = act(out[i, j] + bias[j]); act 0 = none,
 * 1 = relu (NaN stays NaN). */
int tc_bias_act(int dtype, int64_t m, int64_t n, void *out, const void *bias, int act);

/* dx[i] = y[i] > 0 ? dy[i] : 0 for i < n (y = relu output). dx may equal dy. */
int tc_relu_backward(int dtype, int64_t n, void *dx, const void *dy, const void *y);

/* The m x n relu backward and the bias gradient in one pass: dx = y > 0 ? dy : 0 and
 * colsum[j] = sum over rows of dx[:, j] (summed in double in row order, like tc_reduce's
 * column sum: the same bits as tc_relu_backward then a sum over axis 0). m == 0 gives
 * zero sums. */
int tc_relu_backward_colsum(int dtype, int64_t m, int64_t n, void *dx, const void *dy,
                            const void *y, void *colsum);

/* Per row i of m rows of n: loss[i] = -sum(labels * log_softmax(logits)); grad (m x n,
 * may be NULL) = softmax(logits) * sum(labels) - labels; probs (may be NULL) =
 * softmax(logits). */
int tc_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const void *labels,
                    void *loss, void *grad, void *probs);

/* Categorical accuracy count: *hits = number of rows i < m of the m x n matrices a and b
 * (n >= 1) whose first argmax agrees (the first NaN of a row counts as its argmax, like
 * tc_argreduce). Serial: one pass over both matrices. */
int tc_argmax_hits(int dtype, int64_t m, int64_t n, const void *a, const void *b,
                   int64_t *hits);

/* One optimizer step over n elements, in place on var and the state arrays (Keras 3
 * formulas, see tensorcore/optimizers). SGD: momentum NULL -> var -= lr*g; else
 * m = mu*m - lr*g and var += m (nesterov: var += mu*m - lr*g). */
int tc_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum,
                  double lr, double mu, int nesterov);
/* RMSprop: v = rho*v + (1-rho)*g^2; centered (average != NULL): a = rho*a + (1-rho)*g,
 * inc = lr*g / sqrt(v - a^2 + eps), else inc = lr*g / sqrt(v + eps); momentum != NULL:
 * m = mom*m + inc, var -= m; else var -= inc. */
int tc_rmsprop_update(int dtype, int64_t n, void *var, const void *grad, void *velocity,
                      void *momentum, void *average, double lr, double rho, double mom,
                      double eps);
/* Adam with alpha = lr * sqrt(1 - b2^t) / (1 - b1^t): m += (g - m)(1 - b1);
 * v += (g^2 - v)(1 - b2); var -= m*alpha / (sqrt(v) + eps). */
int tc_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v,
                   double alpha, double beta_1, double beta_2, double eps);

#ifdef __cplusplus
}
#endif
#endif
