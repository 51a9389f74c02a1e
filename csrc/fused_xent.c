/* Fused softmax crossentropy: tc_softmax_xent.
 *
 * For each of m rows of n logits z with labels y (both C-contiguous, same float dtype):
 *   mx = max(z), s = sum(exp(z - mx)), log_probs = z - mx - log(s),
 *   loss[i] = -sum(y * log_probs), probs = exp(z - mx) / s,
 *   grad = probs * sum(y) - y        (d loss[i] / d z, the closed form of the pair).
 * Same formula as the composite log_softmax path, so an all -inf row gives NaN and a zero
 * label times a -inf log-probability gives NaN as there. Rows are independent and split
 * over the thread pool; `grad` and `probs` may be NULL (not written). */
#include <math.h>

#include "tc_internal.h"

typedef struct {
    const void *logits, *labels;
    void *loss, *grad, *probs;
    int64_t n;
} tc_xent_args;

#define TC_XENT_ROWS(T, EXP, LOG)                                                        \
    for (int64_t i = begin; i < end; i++) {                                              \
        const T *z = logits + i * n, *y = labels + i * n;                                \
        T mx = z[0];                                                                     \
        for (int64_t j = 1; j < n; j++) {                                                \
            mx = (z[j] > mx || z[j] != z[j]) ? z[j] : mx;                                \
        }                                                                                \
        T s = 0, ysum = 0, dot = 0;                                                      \
        for (int64_t j = 0; j < n; j++) {                                                \
            s += EXP(z[j] - mx);                                                         \
            ysum += y[j];                                                                \
        }                                                                                \
        T shift = mx + LOG(s);                                                           \
        for (int64_t j = 0; j < n; j++) {                                                \
            dot += y[j] * (z[j] - shift);                                                \
        }                                                                                \
        loss[i] = -dot;                                                                  \
        if (grad != NULL || probs != NULL) {                                             \
            T inv = (T)1 / s;                                                            \
            for (int64_t j = 0; j < n; j++) {                                            \
                T p = EXP(z[j] - mx) * inv;                                              \
                if (probs != NULL) {                                                     \
                    probs[i * n + j] = p;                                                \
                }                                                                        \
                if (grad != NULL) {                                                      \
                    grad[i * n + j] = p * ysum - y[j];                                   \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    }

static void tc_xent_f32(void *ctx, int64_t begin, int64_t end)
{
    const tc_xent_args *x = ctx;
    const float *logits = x->logits, *labels = x->labels;
    float *loss = x->loss, *grad = x->grad, *probs = x->probs;
    int64_t n = x->n;
    TC_XENT_ROWS(float, tc_exp_f32, logf)
}

static void tc_xent_f64(void *ctx, int64_t begin, int64_t end)
{
    const tc_xent_args *x = ctx;
    const double *logits = x->logits, *labels = x->labels;
    double *loss = x->loss, *grad = x->grad, *probs = x->probs;
    int64_t n = x->n;
    TC_XENT_ROWS(double, exp, log)
}

int tc_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const void *labels,
                    void *loss, void *grad, void *probs)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64) {
        return tc_set_error("tc_softmax_xent: dtype %d is not a float dtype", dtype);
    }
    if (m < 0 || n < 1) {
        return tc_set_error("tc_softmax_xent: need m >= 0 rows of n >= 1 classes, got "
                            "m=%lld n=%lld", (long long)m, (long long)n);
    }
    if (m > TC_MAX_ELEMENTS / n) {
        return tc_set_error("tc_softmax_xent: %lld x %lld elements are too many",
                            (long long)m, (long long)n);
    }
    if (m == 0) {
        return TC_OK;
    }
    if (logits == NULL || labels == NULL || loss == NULL) {
        return tc_set_error("tc_softmax_xent: NULL %s",
                            logits == NULL ? "logits" : (labels == NULL ? "labels" : "loss"));
    }
    tc_xent_args args = {logits, labels, loss, grad, probs, n};
    int64_t min_rows = (TC_CHUNK_MATH + n - 1) / n;
    tc_parallel_for(m, min_rows, dtype == TC_FLOAT32 ? tc_xent_f32 : tc_xent_f64, &args);
    return TC_OK;
}
