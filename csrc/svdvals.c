/* Singular values of a stack of matrices: one-sided Jacobi (Hestenes) in double.
 *
 * The k = min(m, n) columns of A (or of A^T when m < n), each of length l = max(m, n), are
 * copied into a column-major double buffer scaled by a power of two so the largest |a| is in
 * [0.5, 1) (exact; no overflow or underflow in the squared norms of finite input). Each
 * sweep rotates every column pair (p, q) whose columns are not yet orthogonal to working
 * precision (|a_p . a_q| > l eps sqrt(|a_p|^2 |a_q|^2)) with the Jacobi rotation that makes
 * them orthogonal; rotations keep the singular values, and once every pair is orthogonal the
 * column norms are the singular values. Converges quadratically; at most 60 sweeps.
 * Results are sorted in descending order. A matrix with a NaN or infinite entry gives NaN
 * singular values (they are not defined); an all-zero matrix gives zeros. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "tc_internal.h"

#define TC_SVD_MAX_SWEEPS 60

/* Column norms of the l x k column-major w after orthogonalization, descending, in sv. */
static void tc_jacobi_columns(double *w, int64_t l, int64_t k, double *sv)
{
    double tol = (double)l * DBL_EPSILON;
    for (int sweep = 0; sweep < TC_SVD_MAX_SWEEPS; sweep++) {
        int rotated = 0;
        for (int64_t p = 0; p + 1 < k; p++) {
            double *cp = w + p * l;
            for (int64_t q = p + 1; q < k; q++) {
                double *cq = w + q * l;
                double alpha = 0.0, beta = 0.0, gamma = 0.0;
                for (int64_t i = 0; i < l; i++) {
                    alpha += cp[i] * cp[i];
                    beta += cq[i] * cq[i];
                    gamma += cp[i] * cq[i];
                }
                if (gamma == 0.0 || fabs(gamma) <= tol * sqrt(alpha * beta)) {
                    continue;
                }
                rotated = 1;
                /* tan of the rotation angle: the smaller root of t^2 + 2 zeta t - 1 = 0 */
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = 1.0 / (fabs(zeta) + hypot(1.0, zeta));
                t = zeta < 0.0 ? -t : t;
                double c = 1.0 / sqrt(1.0 + t * t);
                double s = c * t;
                for (int64_t i = 0; i < l; i++) {
                    double xp = cp[i], xq = cq[i];
                    cp[i] = c * xp - s * xq;
                    cq[i] = s * xp + c * xq;
                }
            }
        }
        if (!rotated) {
            break;
        }
    }
    for (int64_t j = 0; j < k; j++) {
        double sum = 0.0;
        for (int64_t i = 0; i < l; i++) {
            sum += w[j * l + i] * w[j * l + i];
        }
        double v = sqrt(sum);
        int64_t at = j;                               /* insertion sort, descending */
        while (at > 0 && sv[at - 1] < v) {
            sv[at] = sv[at - 1];
            at--;
        }
        sv[at] = v;
    }
}

#define TC_DEFINE_SVDVALS(NAME, T)                                                      \
    static void NAME(const T *a, int64_t m, int64_t n, double *w, double *sv, T *out)   \
    {                                                                                   \
        int64_t k = m < n ? m : n, l = m < n ? n : m;                                   \
        double big = 0.0;                                                               \
        int finite = 1;                                                                 \
        for (int64_t i = 0; i < m; i++) {                                               \
            for (int64_t j = 0; j < n; j++) {                                           \
                double v = (double)a[i * n + j];                                        \
                finite &= isfinite(v) != 0;                                             \
                big = fabs(v) > big ? fabs(v) : big;                                    \
                /* column j of A, or column i of A^T when m < n */                      \
                w[m >= n ? j * l + i : i * l + j] = v;                                  \
            }                                                                           \
        }                                                                               \
        if (!finite || big == 0.0) {                                                    \
            for (int64_t j = 0; j < k; j++) {                                           \
                out[j] = finite ? (T)0 : (T)NAN;                                        \
            }                                                                           \
            return;                                                                     \
        }                                                                               \
        int e;                                                                          \
        frexp(big, &e);                                /* big = f 2^e, f in [0.5, 1) */ \
        for (int64_t i = 0; i < l * k; i++) {                                           \
            w[i] = ldexp(w[i], -e);                                                     \
        }                                                                               \
        tc_jacobi_columns(w, l, k, sv);                                                 \
        for (int64_t j = 0; j < k; j++) {                                               \
            out[j] = (T)ldexp(sv[j], e);                                                \
        }                                                                               \
    }
TC_DEFINE_SVDVALS(tc_svdvals_f32, float)
TC_DEFINE_SVDVALS(tc_svdvals_f64, double)

int tc_svdvals(int dtype, int64_t batch, int64_t m, int64_t n, const void *a, void *out)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64) {
        return tc_set_error("tc_svdvals: dtype code %d is not float32 (0) or float64 (1)",
                            dtype);
    }
    if (batch < 0 || m < 0 || n < 0) {
        return tc_set_error("tc_svdvals: negative size");
    }
    int64_t k = m < n ? m : n, l = m < n ? n : m;
    if (batch == 0 || k == 0) {
        return TC_OK;
    }
    if (a == NULL || out == NULL) {
        return tc_set_error("tc_svdvals: NULL pointer");
    }
    if (l > INT64_MAX / 8 / k) {
        return tc_set_error("tc_svdvals: a %lld x %lld matrix is too large",
                            (long long)m, (long long)n);
    }
    double *w = malloc((size_t)(l * k + k) * sizeof(double));
    if (w == NULL) {
        return tc_set_error("tc_svdvals: out of memory for a %lld x %lld matrix",
                            (long long)m, (long long)n);
    }
    for (int64_t b = 0; b < batch; b++) {
        if (dtype == TC_FLOAT32) {
            tc_svdvals_f32((const float *)a + b * m * n, m, n, w, w + l * k,
                           (float *)out + b * k);
        } else {
            tc_svdvals_f64((const double *)a + b * m * n, m, n, w, w + l * k,
                           (double *)out + b * k);
        }
    }
    free(w);
    return TC_OK;
}
