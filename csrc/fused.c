/* Fused training kernels: bias + activation, relu backward, softmax crossentropy and
 * one-pass optimizer updates (tc_bias_act, tc_relu_backward, tc_softmax_xent,
 * tc_sgd_update, tc_rmsprop_update, tc_adam_update) and the categorical-accuracy count
 * (tc_argmax_hits), and relu backward with the bias gradient's column sum in the same pass
 * (tc_relu_backward_colsum).
 *
 * Every operand is C-contiguous and of one float dtype (float32 or float64). Work is
 * split over the thread pool in contiguous element (or row) ranges; the float32 loops
 * are compiled generic, AVX2+FMA and AVX-512F and picked at run time from
 * tc_simd_level_id() (which honours TC_NO_SIMD and TENSORCORE_SIMD). Arithmetic is done
 * in the operand dtype with the scalars rounded to it once, like the composite path. The
 * sqrt loops vectorize because the build passes -fno-math-errno (ffi_build.compile_args,
 * used for both tensorcore._C and libtensorcore). */
#include <math.h>
#include <string.h>

#include "gemm_internal.h"

#include "tc_internal.h"

/* Which compiled variant of the float32 loops to run: 0 generic, 1 avx2, 2 avx512. */
static int tc_fused_level(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(TC_NO_SIMD)
    int level = tc_simd_level_id();
    return level == TC_SIMD_AVX512 ? 2 : (level == TC_SIMD_AVX2 ? 1 : 0);
#else
    return 0;
#endif
}

static int tc_fused_check(const char *func, int dtype, int64_t n)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64) {
        return tc_set_error("%s: dtype %d is not a float dtype", func, dtype);
    }
    if (n < 0) {
        return tc_set_error("%s: negative size %lld", func, (long long)n);
    }
    return TC_OK;
}

/* The m x n size of a 2-D entry point (m already checked >= 0): n >= 0 and m * n within
 * TC_MAX_ELEMENTS. */
static int tc_fused_check_2d(const char *func, int64_t m, int64_t n)
{
    int64_t size;
    if (n < 0) {
        return tc_set_error("%s: negative size %lld", func, (long long)n);
    }
    if (!tc_mul_count(m, n, &size)) {
        return tc_set_error("%s: %lld x %lld elements are too many", func, (long long)m,
                            (long long)n);
    }
    return TC_OK;
}

/* The arrays a call with work to do reads or writes: any NULL among them is an error.
 * names is a comma-separated list naming ptrs in order, for the message. */
static int tc_fused_need(const char *func, const char *names, int count,
                         const void *const *ptrs)
{
    for (int i = 0; i < count; i++) {
        if (ptrs[i] == NULL) {
            const char *name = names;            /* the i-th name of "a, b, c" */
            for (int j = 0; j < i; j++) {
                name = strchr(name, ',') + 2;
            }
            const char *end = strchr(name, ',');
            int len = end != NULL ? (int)(end - name) : (int)strlen(name);
            return tc_set_error("%s: %.*s is NULL", func, len, name);
        }
    }
    return TC_OK;
}
#define TC_FUSED_NEED(func, ...)                                                         \
    tc_fused_need(func, #__VA_ARGS__, (int)(sizeof((const void *[]){__VA_ARGS__})       \
                                            / sizeof(const void *)),                     \
                  (const void *[]){__VA_ARGS__})

/* ---- loop bodies (T = element type, operate on [begin, end)) -------------------------- */

/* NaN-preserving relu, as the unary kernel: x > 0 or NaN -> x, else 0. */
#define TC_RELU(T, x) (((x) > (T)0 || (x) != (x)) ? (x) : (T)0)

#define TC_BIAS_ACT_BODY(T)                                                              \
    for (int64_t i = begin; i < end; i++) {                                              \
        T *row = out + i * n;                                                            \
        if (act) {                                                                       \
            for (int64_t j = 0; j < n; j++) {                                            \
                T x = row[j] + bias[j];                                                  \
                row[j] = TC_RELU(T, x);                                                  \
            }                                                                            \
        } else {                                                                         \
            for (int64_t j = 0; j < n; j++) {                                            \
                row[j] = row[j] + bias[j];                                               \
            }                                                                            \
        }                                                                                \
    }

#define TC_RELU_BWD_BODY(T)                                                              \
    for (int64_t i = begin; i < end; i++) {                                              \
        dx[i] = y[i] > (T)0 ? dy[i] : (T)0;                                              \
    }

/* Keras SGD: no momentum var -= lr*g; momentum m = mu*m - lr*g, then var += m, or with
 * nesterov var += mu*m - lr*g. */
#define TC_SGD_BODY(T)                                                                   \
    if (m == NULL) {                                                                     \
        for (int64_t i = begin; i < end; i++) {                                          \
            var[i] = var[i] - g[i] * lr;                                                 \
        }                                                                                \
    } else if (nesterov) {                                                               \
        for (int64_t i = begin; i < end; i++) {                                          \
            T step = g[i] * lr;                                                          \
            T v = m[i] * mu - step;                                                      \
            m[i] = v;                                                                    \
            var[i] = var[i] + (v * mu - step);                                           \
        }                                                                                \
    } else {                                                                             \
        for (int64_t i = begin; i < end; i++) {                                          \
            T v = m[i] * mu - g[i] * lr;                                                 \
            m[i] = v;                                                                    \
            var[i] = var[i] + v;                                                         \
        }                                                                                \
    }

/* Keras 3 RMSprop: v = rho*v + (1-rho)*g^2; a = rho*a + (1-rho)*g (centered);
 * inc = lr*g / sqrt(v [- a^2] + eps); m = mom*m + inc, var -= m (momentum) else
 * var -= inc. */
#define TC_RMSPROP_BODY(T, SQRT)                                                         \
    if (avg == NULL && mom == NULL) {                                                    \
        for (int64_t i = begin; i < end; i++) {                                          \
            T gi = g[i];                                                                 \
            T v = vel[i] * rho + (gi * gi) * one_minus_rho;                              \
            vel[i] = v;                                                                  \
            var[i] = var[i] - (gi * lr) / SQRT(v + eps);                                 \
        }                                                                                \
    } else {                                                                             \
        for (int64_t i = begin; i < end; i++) {                                          \
            T gi = g[i];                                                                 \
            T v = vel[i] * rho + (gi * gi) * one_minus_rho;                              \
            vel[i] = v;                                                                  \
            T denom = v + eps;                                                           \
            if (avg != NULL) {                                                           \
                T a = avg[i] * rho + gi * one_minus_rho;                                 \
                avg[i] = a;                                                              \
                denom = (v - a * a) + eps;                                               \
            }                                                                            \
            T inc = (gi * lr) / SQRT(denom);                                             \
            if (mom != NULL) {                                                           \
                inc = mom[i] * momentum + inc;                                           \
                mom[i] = inc;                                                            \
            }                                                                            \
            var[i] = var[i] - inc;                                                       \
        }                                                                                \
    }

/* Keras 3 Adam (alpha already bias-corrected): m += (g - m)*(1 - b1);
 * v += (g^2 - v)*(1 - b2); var -= m*alpha / (sqrt(v) + eps). */
#define TC_ADAM_BODY(T, SQRT)                                                            \
    for (int64_t i = begin; i < end; i++) {                                              \
        T gi = g[i];                                                                     \
        T mi = m[i] + (gi - m[i]) * one_minus_b1;                                        \
        T vi = v[i] + (gi * gi - v[i]) * one_minus_b2;                                   \
        m[i] = mi;                                                                       \
        v[i] = vi;                                                                       \
        var[i] = var[i] - (mi * alpha) / (SQRT(vi) + eps);                               \
    }

/* ---- argument blocks ------------------------------------------------------------------ */

typedef struct {
    void *out;
    const void *bias;
    int64_t n;
    int act;
    int level;
} tc_bias_act_args;

typedef struct {
    void *dx;
    const void *dy, *y;
    int level;
} tc_relu_bwd_args;

typedef struct {
    void *var, *m;
    const void *g;
    double lr, mu;
    int nesterov;
    int level;
} tc_sgd_args;

typedef struct {
    void *var, *vel, *mom, *avg;
    const void *g;
    double lr, rho, momentum, eps;
    int level;
} tc_rmsprop_args;

typedef struct {
    void *var, *m, *v;
    const void *g;
    double alpha, b1, b2, eps;
    int level;
} tc_adam_args;

/* ---- relu backward + column sum (the bias gradient) in one pass ----------------------- */

#define TC_COLSUM_BLOCK 256

typedef struct {
    void *dx, *colsum;
    const void *dy, *y;
    int64_t m, n;
    int level;
} tc_relu_colsum_args;

/* Columns [c0, c1) of every row: dx = y > 0 ? dy : 0, and the sum of each dx column folded
 * row by row in double, then rounded once: the order and accumulator of tc_reduce's
 * column sum, so the result is the same bits as relu_backward followed by reduce sum. */
#define TC_RELU_COLSUM_BODY(T)                                                           \
    T *restrict dx = x->dx, *restrict colsum = x->colsum;                                \
    const T *restrict dy = x->dy, *restrict y = x->y;                                    \
    const int64_t m = x->m, n = x->n;                                                    \
    for (int64_t c0 = begin; c0 < end; c0 += TC_COLSUM_BLOCK) {                          \
        const int64_t w = end - c0 < TC_COLSUM_BLOCK ? end - c0 : TC_COLSUM_BLOCK;       \
        double acc[TC_COLSUM_BLOCK];                                                     \
        for (int64_t j = 0; j < w; j++) {                                                \
            acc[j] = 0.0;                                                                \
        }                                                                                \
        for (int64_t i = 0; i < m; i++) {                                                \
            const T *restrict a = dy + i * n + c0, *restrict b = y + i * n + c0;         \
            T *restrict d = dx + i * n + c0;                                             \
            for (int64_t j = 0; j < w; j++) {                                            \
                const T g = a[j];            /* loaded unconditionally: a select */      \
                const T v = b[j] > (T)0 ? g : (T)0;                                      \
                d[j] = v;                                                                \
                acc[j] += (double)v;                                                     \
            }                                                                            \
        }                                                                                \
        for (int64_t j = 0; j < w; j++) {                                                \
            colsum[c0 + j] = (T)acc[j];                                                  \
        }                                                                                \
    }

/* ---- float32 variants: one function per (kernel, ISA) from the bodies above ---------- */

#define TC_F32_KERNELS(SUF, ATTR)                                                        \
    ATTR static void tc_bias_act_f32_##SUF(const tc_bias_act_args *x, int64_t begin,     \
                                           int64_t end)                                  \
    {                                                                                    \
        float *out = (float *)x->out;                                                    \
        const float *bias = (const float *)x->bias;                                      \
        int64_t n = x->n;                                                                \
        int act = x->act;                                                                \
        TC_BIAS_ACT_BODY(float)                                                          \
    }                                                                                    \
    ATTR static void tc_relu_bwd_f32_##SUF(const tc_relu_bwd_args *x, int64_t begin,     \
                                           int64_t end)                                  \
    {                                                                                    \
        float *dx = (float *)x->dx;                                                      \
        const float *dy = (const float *)x->dy, *y = (const float *)x->y;                \
        TC_RELU_BWD_BODY(float)                                                          \
    }                                                                                    \
    ATTR static void tc_relu_colsum_f32_##SUF(const tc_relu_colsum_args *x,               \
                                              int64_t begin, int64_t end)                \
    {                                                                                    \
        TC_RELU_COLSUM_BODY(float)                                                       \
    }                                                                                    \
    ATTR static void tc_sgd_f32_##SUF(const tc_sgd_args *x, int64_t begin, int64_t end)  \
    {                                                                                    \
        float *var = (float *)x->var, *m = (float *)x->m;                                \
        const float *g = (const float *)x->g;                                            \
        const float lr = (float)x->lr, mu = (float)x->mu;                                \
        int nesterov = x->nesterov;                                                      \
        TC_SGD_BODY(float)                                                               \
    }                                                                                    \
    ATTR static void tc_rmsprop_f32_##SUF(const tc_rmsprop_args *x, int64_t begin,       \
                                          int64_t end)                                   \
    {                                                                                    \
        float *var = (float *)x->var, *vel = (float *)x->vel;                            \
        float *mom = (float *)x->mom, *avg = (float *)x->avg;                            \
        const float *g = (const float *)x->g;                                            \
        const float lr = (float)x->lr, rho = (float)x->rho;                              \
        const float one_minus_rho = (float)(1.0 - x->rho);                               \
        const float momentum = (float)x->momentum, eps = (float)x->eps;                  \
        TC_RMSPROP_BODY(float, sqrtf)                                                    \
    }                                                                                    \
    ATTR static void tc_adam_f32_##SUF(const tc_adam_args *x, int64_t begin, int64_t end) \
    {                                                                                    \
        float *var = (float *)x->var, *m = (float *)x->m, *v = (float *)x->v;            \
        const float *g = (const float *)x->g;                                            \
        const float alpha = (float)x->alpha, eps = (float)x->eps;                        \
        const float one_minus_b1 = (float)(1.0 - x->b1);                                 \
        const float one_minus_b2 = (float)(1.0 - x->b2);                                 \
        TC_ADAM_BODY(float, sqrtf)                                                       \
    }

TC_F32_KERNELS(generic, )
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_FUSED_X86 1
TC_F32_KERNELS(avx2, __attribute__((target("avx2,fma"))))
TC_F32_KERNELS(avx512, __attribute__((target("avx512f,prefer-vector-width=512"))))
#endif

/* Picks the variant of kernel NAME for x->level and calls it on [begin, end). */
#ifdef TC_FUSED_X86
#define TC_F32_DISPATCH(NAME, x, begin, end)                                             \
    do {                                                                                 \
        if ((x)->level == 2) {                                                           \
            NAME##_avx512(x, begin, end);                                                \
        } else if ((x)->level == 1) {                                                    \
            NAME##_avx2(x, begin, end);                                                  \
        } else {                                                                         \
            NAME##_generic(x, begin, end);                                               \
        }                                                                                \
    } while (0)
#else
#define TC_F32_DISPATCH(NAME, x, begin, end) NAME##_generic(x, begin, end)
#endif

/* ---- float64 (generic only) ----------------------------------------------------------- */

static void tc_bias_act_f64(const tc_bias_act_args *x, int64_t begin, int64_t end)
{
    double *out = (double *)x->out;
    const double *bias = (const double *)x->bias;
    int64_t n = x->n;
    int act = x->act;
    TC_BIAS_ACT_BODY(double)
}

static void tc_relu_bwd_f64(const tc_relu_bwd_args *x, int64_t begin, int64_t end)
{
    double *dx = (double *)x->dx;
    const double *dy = (const double *)x->dy, *y = (const double *)x->y;
    TC_RELU_BWD_BODY(double)
}

static void tc_sgd_f64(const tc_sgd_args *x, int64_t begin, int64_t end)
{
    double *var = (double *)x->var, *m = (double *)x->m;
    const double *g = (const double *)x->g;
    const double lr = x->lr, mu = x->mu;
    int nesterov = x->nesterov;
    TC_SGD_BODY(double)
}

static void tc_rmsprop_f64(const tc_rmsprop_args *x, int64_t begin, int64_t end)
{
    double *var = (double *)x->var, *vel = (double *)x->vel;
    double *mom = (double *)x->mom, *avg = (double *)x->avg;
    const double *g = (const double *)x->g;
    const double lr = x->lr, rho = x->rho, one_minus_rho = 1.0 - x->rho;
    const double momentum = x->momentum, eps = x->eps;
    TC_RMSPROP_BODY(double, sqrt)
}

static void tc_adam_f64(const tc_adam_args *x, int64_t begin, int64_t end)
{
    double *var = (double *)x->var, *m = (double *)x->m, *v = (double *)x->v;
    const double *g = (const double *)x->g;
    const double alpha = x->alpha, eps = x->eps;
    const double one_minus_b1 = 1.0 - x->b1, one_minus_b2 = 1.0 - x->b2;
    TC_ADAM_BODY(double, sqrt)
}

/* ---- thread-pool trampolines ---------------------------------------------------------- */

/* NAME##_range(ctx, begin, end): the float64 loop for level -1, else the float32 variant of
 * the ISA level in the ARGS struct ctx points to. */
#define TC_FUSED_RANGE(NAME, ARGS)                                                       \
    static void NAME##_range(void *ctx, int64_t begin, int64_t end)                      \
    {                                                                                    \
        const ARGS *x = ctx;                                                             \
        if (x->level < 0) {                                                              \
            NAME##_f64(x, begin, end);                                                   \
        } else {                                                                         \
            TC_F32_DISPATCH(NAME##_f32, x, begin, end);                                  \
        }                                                                                \
    }
TC_FUSED_RANGE(tc_bias_act, tc_bias_act_args)
TC_FUSED_RANGE(tc_relu_bwd, tc_relu_bwd_args)
TC_FUSED_RANGE(tc_sgd, tc_sgd_args)
TC_FUSED_RANGE(tc_rmsprop, tc_rmsprop_args)
TC_FUSED_RANGE(tc_adam, tc_adam_args)

/* level -1 marks float64 (generic loops); float32 gets the ISA variant. */
static int tc_level_for(int dtype)
{
    return dtype == TC_FLOAT64 ? -1 : tc_fused_level();
}

/* ---- public entry points -------------------------------------------------------------- */

int tc_bias_act(int dtype, int64_t m, int64_t n, void *out, const void *bias, int act)
{
    int status = tc_fused_check("tc_bias_act", dtype, m);
    if (status == TC_OK) {
        status = tc_fused_check_2d("tc_bias_act", m, n);
    }
    if (status || (act != 0 && act != 1)) {
        return status ? status : tc_set_error("tc_bias_act: bad act %d", act);
    }
    if (m == 0 || n == 0) {
        return TC_OK;
    }
    status = TC_FUSED_NEED("tc_bias_act", out, bias);
    if (status) {
        return status;
    }
    tc_bias_act_args args = {out, bias, n, act, tc_level_for(dtype)};
    int64_t min_rows = (TC_CHUNK_CHEAP + n - 1) / n;
    tc_parallel_for(m, min_rows, tc_bias_act_range, &args);
    return TC_OK;
}

int tc_relu_backward(int dtype, int64_t n, void *dx, const void *dy, const void *y)
{
    int status = tc_fused_check("tc_relu_backward", dtype, n);
    if (status || n == 0) {
        return status;
    }
    status = TC_FUSED_NEED("tc_relu_backward", dx, dy, y);
    if (status) {
        return status;
    }
    tc_relu_bwd_args args = {dx, dy, y, tc_level_for(dtype)};
    tc_parallel_for(n, TC_CHUNK_CHEAP, tc_relu_bwd_range, &args);
    return TC_OK;
}

int tc_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum,
                  double lr, double mu, int nesterov)
{
    int status = tc_fused_check("tc_sgd_update", dtype, n);
    if (status || n == 0) {
        return status;
    }
    status = TC_FUSED_NEED("tc_sgd_update", var, grad);
    if (status) {
        return status;
    }
    tc_sgd_args args = {var, momentum, grad, lr, mu, nesterov, tc_level_for(dtype)};
    tc_parallel_for(n, TC_CHUNK_CHEAP, tc_sgd_range, &args);
    return TC_OK;
}

int tc_rmsprop_update(int dtype, int64_t n, void *var, const void *grad, void *velocity,
                      void *momentum, void *average, double lr, double rho, double mom,
                      double eps)
{
    int status = tc_fused_check("tc_rmsprop_update", dtype, n);
    if (status || n == 0) {
        return status;
    }
    status = TC_FUSED_NEED("tc_rmsprop_update", var, grad, velocity);
    if (status) {
        return status;
    }
    tc_rmsprop_args args = {var, velocity, momentum, average, grad, lr, rho, mom, eps,
                            tc_level_for(dtype)};
    tc_parallel_for(n, TC_CHUNK_MATH, tc_rmsprop_range, &args);
    return TC_OK;
}

int tc_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v,
                   double alpha, double beta_1, double beta_2, double eps)
{
    int status = tc_fused_check("tc_adam_update", dtype, n);
    if (status || n == 0) {
        return status;
    }
    status = TC_FUSED_NEED("tc_adam_update", var, grad, m, v);
    if (status) {
        return status;
    }
    tc_adam_args args = {var, m, v, grad, alpha, beta_1, beta_2, eps, tc_level_for(dtype)};
    tc_parallel_for(n, TC_CHUNK_MATH, tc_adam_range, &args);
    return TC_OK;
}

/* ---- categorical accuracy: rows whose first argmax agrees ---------------------------- */

/* Index of the first maximum of z[0..n) (n >= 1); the first NaN wins, like tc_argreduce. */
#define TC_FIRST_ARGMAX(T)                                                               \
    static int64_t tc_first_argmax_##T(const T *z, int64_t n)                            \
    {                                                                                    \
        T best = z[0];                                                                   \
        if (best != best) {                                                              \
            return 0;                                                                    \
        }                                                                                \
        int64_t where = 0;                                                               \
        for (int64_t j = 1; j < n; j++) {                                                \
            T v = z[j];                                                                  \
            if (v != v) {                                                                \
                return j;                                                                \
            }                                                                            \
            if (v > best) {                                                              \
                best = v;                                                                \
                where = j;                                                               \
            }                                                                            \
        }                                                                                \
        return where;                                                                    \
    }

TC_FIRST_ARGMAX(float)
TC_FIRST_ARGMAX(double)

int tc_argmax_hits(int dtype, int64_t m, int64_t n, const void *a, const void *b,
                   int64_t *hits)
{
    int status = tc_fused_check("tc_argmax_hits", dtype, m);
    if (status) {
        return status;
    }
    if (n < 1 || hits == NULL) {
        return tc_set_error("tc_argmax_hits: need n >= 1 columns and a result, got n=%lld",
                            (long long)n);
    }
    status = tc_fused_check_2d("tc_argmax_hits", m, n);
    if (status == TC_OK && m > 0) {
        status = TC_FUSED_NEED("tc_argmax_hits", a, b);
    }
    if (status) {
        return status;
    }
    int64_t count = 0;
    if (dtype == TC_FLOAT32) {
        const float *x = a, *y = b;
        for (int64_t i = 0; i < m; i++) {
            count += tc_first_argmax_float(x + i * n, n) == tc_first_argmax_float(y + i * n, n);
        }
    } else {
        const double *x = a, *y = b;
        for (int64_t i = 0; i < m; i++) {
            count += tc_first_argmax_double(x + i * n, n)
                     == tc_first_argmax_double(y + i * n, n);
        }
    }
    *hits = count;
    return TC_OK;
}

static void tc_relu_colsum_f64(const tc_relu_colsum_args *x, int64_t begin, int64_t end)
{
    TC_RELU_COLSUM_BODY(double)
}

TC_FUSED_RANGE(tc_relu_colsum, tc_relu_colsum_args)

int tc_relu_backward_colsum(int dtype, int64_t m, int64_t n, void *dx, const void *dy,
                            const void *y, void *colsum)
{
    int status = tc_fused_check("tc_relu_backward_colsum", dtype, m);
    if (status == TC_OK) {
        status = tc_fused_check_2d("tc_relu_backward_colsum", m, n);
    }
    if (status || n == 0) {
        return status;
    }
    /* colsum is written even for m == 0 (zero sums) */
    status = m > 0 ? TC_FUSED_NEED("tc_relu_backward_colsum", dx, dy, y, colsum)
                   : TC_FUSED_NEED("tc_relu_backward_colsum", colsum);
    if (status) {
        return status;
    }
    tc_relu_colsum_args args = {dx, colsum, dy, y, m, n, tc_level_for(dtype)};
    /* split over columns (each column's sum stays in one thread, in row order) */
    int64_t min_cols = m > 0 ? (TC_CHUNK_CHEAP + m - 1) / m : n;
    tc_parallel_for(n, min_cols, tc_relu_colsum_range, &args);
    return TC_OK;
}
