/* Sorting, scanning and searching kernels: stable sort/argsort along rows, cumulative sum,
 * nonzero coordinates and binary search (the array API's sort, argsort, cumulative_sum,
 * nonzero and searchsorted; unique_*, repeat and boolean masks are composed from them).
 *
 * Order: the total order of the array API, NaN greater than every number (so NaN sorts
 * last); -0.0 and +0.0 are equal (their input order is kept: every sort here is stable).
 * Descending order reverses the key order but keeps equal keys in input order, like
 * Python's sorted(reverse=True).
 *
 * Invariants: every array is C-contiguous; sizes are checked before anything is written;
 * rows are split across the thread pool (each piece allocates its own merge buffers). */
#include <stdlib.h>
#include <string.h>

#include "tc_internal.h"

/* a before b in ascending order (NaN last) */
#define TC_LESS_F(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))
#define TC_LESS_I(a, b) ((a) < (b))

/* ---- stable merge sort of an index permutation ------------------------------------- */
/* Sorts idx[0..n) by key[idx[i]] (bottom-up merge, tmp has n slots); returns the sorted
 * buffer (idx or tmp). Runs of 16 are first sorted by insertion. */
#define TC_DEFINE_ARGSORT(NAME, T, LESS)                                                  \
    static int64_t *NAME(const T *key, int64_t *idx, int64_t *tmp, int64_t n, int desc)   \
    {                                                                                     \
        const int64_t run = 16;                                                           \
        for (int64_t lo = 0; lo < n; lo += run) {                                         \
            int64_t hi = lo + run < n ? lo + run : n;                                     \
            for (int64_t i = lo + 1; i < hi; i++) {                                       \
                int64_t v = idx[i];                                                       \
                int64_t j = i;                                                            \
                while (j > lo && (desc ? LESS(key[idx[j - 1]], key[v])                    \
                                       : LESS(key[v], key[idx[j - 1]]))) {                \
                    idx[j] = idx[j - 1];                                                  \
                    j--;                                                                  \
                }                                                                         \
                idx[j] = v;                                                               \
            }                                                                             \
        }                                                                                 \
        int64_t *src = idx, *dst = tmp;                                                   \
        for (int64_t width = run; width < n; width *= 2) {                                \
            for (int64_t lo = 0; lo < n; lo += 2 * width) {                               \
                int64_t mid = lo + width < n ? lo + width : n;                            \
                int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;                     \
                int64_t i = lo, j = mid, k = lo;                                          \
                while (i < mid && j < hi) {                                               \
                    /* take from the right run only when strictly before: stable */       \
                    int right = desc ? LESS(key[src[i]], key[src[j]])                     \
                                     : LESS(key[src[j]], key[src[i]]);                    \
                    dst[k++] = right ? src[j++] : src[i++];                               \
                }                                                                         \
                while (i < mid) dst[k++] = src[i++];                                      \
                while (j < hi) dst[k++] = src[j++];                                       \
            }                                                                             \
            int64_t *swap = src;                                                          \
            src = dst;                                                                    \
            dst = swap;                                                                   \
        }                                                                                 \
        return src;                                                                       \
    }

TC_DEFINE_ARGSORT(tc_argsort_f32, float, TC_LESS_F)
TC_DEFINE_ARGSORT(tc_argsort_f64, double, TC_LESS_F)
TC_DEFINE_ARGSORT(tc_argsort_i32, int32_t, TC_LESS_I)
TC_DEFINE_ARGSORT(tc_argsort_i64, int64_t, TC_LESS_I)
TC_DEFINE_ARGSORT(tc_argsort_b, uint8_t, TC_LESS_I)

typedef struct {
    int dtype;
    int64_t n;
    int descending;
    const char *src;
    char *values;     /* may be NULL */
    int64_t *index;   /* may be NULL */
    int failed;
} tc_sort_job;

static void tc_sort_range(void *ctx, int64_t begin, int64_t end)
{
    tc_sort_job *job = ctx;
    const int64_t n = job->n;
    const int64_t isz = tc_dtype_size(job->dtype);
    int64_t *buf = malloc(sizeof(int64_t) * (size_t)(2 * n));
    if (buf == NULL) {
        job->failed = 1;
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        const char *row = job->src + r * n * isz;
        for (int64_t i = 0; i < n; i++) {
            buf[i] = i;
        }
        int64_t *order;
        switch (job->dtype) {
        case TC_FLOAT32: order = tc_argsort_f32((const float *)row, buf, buf + n, n,
                                                job->descending); break;
        case TC_FLOAT64: order = tc_argsort_f64((const double *)row, buf, buf + n, n,
                                                job->descending); break;
        case TC_INT32: order = tc_argsort_i32((const int32_t *)row, buf, buf + n, n,
                                              job->descending); break;
        case TC_INT64: order = tc_argsort_i64((const int64_t *)row, buf, buf + n, n,
                                              job->descending); break;
        default: order = tc_argsort_b((const uint8_t *)row, buf, buf + n, n,
                                      job->descending); break;
        }
        if (job->index != NULL) {
            memcpy(job->index + r * n, order, sizeof(int64_t) * (size_t)n);
        }
        if (job->values != NULL) {
            char *out = job->values + r * n * isz;
            for (int64_t i = 0; i < n; i++) {
                memcpy(out + i * isz, row + order[i] * isz, (size_t)isz);
            }
        }
    }
    free(buf);
}

int tc_sort(int dtype, int64_t rows, int64_t n, const void *src, void *values,
            int64_t *index, int descending)
{
    int status = tc_check_dtype("tc_sort", dtype);
    if (status) {
        return status;
    }
    if (rows < 0 || n < 0) {
        return tc_set_error("tc_sort: negative size (rows=%lld, n=%lld)", (long long)rows,
                            (long long)n);
    }
    int64_t total;
    if (!tc_mul_count(rows, n, &total)) {
        return tc_set_error("tc_sort: %lld rows of %lld elements are too many", (long long)rows,
                            (long long)n);
    }
    if (total == 0) {
        return TC_OK;
    }
    if (src == NULL || (values == NULL && index == NULL)) {
        return tc_set_error("tc_sort: NULL input or no output");
    }
    tc_sort_job job = {dtype, n, descending != 0, src, values, index, 0};
    tc_parallel_for(rows, 1 + 65536 / n, tc_sort_range, &job);
    if (job.failed) {
        return tc_set_error("tc_sort: out of memory for a row of %lld elements",
                            (long long)n);
    }
    return TC_OK;
}

/* ---- cumulative sum ----------------------------------------------------------------- */
/* src (outer, n, inner) contiguous of dtype; out (outer, n, inner) contiguous of dtype for
 * floats, int64 for int32/int64/bool. Float sums accumulate in the output dtype (the
 * standard's sequential definition). */
#define TC_DEFINE_CUMSUM(NAME, T, ACC)                                                  \
    static void NAME(const T *src, ACC *out, int64_t outer, int64_t n, int64_t inner)    \
    {                                                                                   \
        for (int64_t o = 0; o < outer; o++) {                                           \
            const T *s = src + o * n * inner;                                           \
            ACC *d = out + o * n * inner;                                               \
            for (int64_t j = 0; j < inner; j++) {                                       \
                d[j] = (ACC)s[j];                                                       \
            }                                                                           \
            for (int64_t i = 1; i < n; i++) {                                           \
                for (int64_t j = 0; j < inner; j++) {                                   \
                    d[i * inner + j] = d[(i - 1) * inner + j] + (ACC)s[i * inner + j];  \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }

TC_DEFINE_CUMSUM(tc_cumsum_f32, float, float)
TC_DEFINE_CUMSUM(tc_cumsum_f64, double, double)
TC_DEFINE_CUMSUM(tc_cumsum_i32, int32_t, int64_t)
TC_DEFINE_CUMSUM(tc_cumsum_i64, int64_t, int64_t)
TC_DEFINE_CUMSUM(tc_cumsum_b, uint8_t, int64_t)

int tc_cumsum(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
              void *out)
{
    int status = tc_check_dtype("tc_cumsum", dtype);
    if (status) {
        return status;
    }
    if (outer < 0 || n < 0 || inner < 0) {
        return tc_set_error("tc_cumsum: negative size");
    }
    const int64_t dims[3] = {outer, n, inner};
    int64_t total;
    if (!tc_count_product(3, dims, &total)) {
        return tc_set_error("tc_cumsum: %lld x %lld x %lld elements are too many",
                            (long long)outer, (long long)n, (long long)inner);
    }
    if (total == 0) {
        return TC_OK;
    }
    if (src == NULL || out == NULL) {
        return tc_set_error("tc_cumsum: NULL pointer");
    }
    switch (dtype) {
    case TC_FLOAT32: tc_cumsum_f32(src, out, outer, n, inner); break;
    case TC_FLOAT64: tc_cumsum_f64(src, out, outer, n, inner); break;
    case TC_INT32: tc_cumsum_i32(src, out, outer, n, inner); break;
    case TC_INT64: tc_cumsum_i64(src, out, outer, n, inner); break;
    default: tc_cumsum_b(src, out, outer, n, inner); break;
    }
    return TC_OK;
}

/* ---- nonzero ------------------------------------------------------------------------ */
/* mask: `size` bools (C order over `shape`); out: (ndim, count) int64, row d holding the
 * d-th coordinate of every true element in row-major order. count must equal the number
 * of true elements (checked before writing). */
int tc_nonzero(int ndim, const int64_t *shape, const uint8_t *mask, int64_t count,
               int64_t *out)
{
    if (ndim < 1 || ndim > TC_MAX_DIMS) {
        return tc_set_error("tc_nonzero: ndim %d is out of range [1, %d]", ndim, TC_MAX_DIMS);
    }
    int64_t size;
    int status = tc_check_shape("tc_nonzero", ndim, shape, &size);
    if (status) {
        return status;
    }
    if (count < 0) {
        return tc_set_error("tc_nonzero: negative count %lld", (long long)count);
    }
    if ((size > 0 && mask == NULL) || (count > 0 && out == NULL)) {
        return tc_set_error("tc_nonzero: NULL %s", mask == NULL ? "mask" : "out");
    }
    int64_t found = 0;
    for (int64_t i = 0; i < size; i++) {
        found += mask[i] != 0;
    }
    if (found != count) {
        return tc_set_error("tc_nonzero: %lld true elements but room for %lld",
                            (long long)found, (long long)count);
    }
    int64_t coord[TC_MAX_DIMS] = {0};
    int64_t k = 0;
    for (int64_t i = 0; i < size; i++) {
        if (mask[i]) {
            for (int d = 0; d < ndim; d++) {
                out[d * count + k] = coord[d];
            }
            k++;
        }
        for (int d = ndim - 1; d >= 0; d--) {   /* advance the row-major coordinate */
            if (++coord[d] < shape[d]) {
                break;
            }
            coord[d] = 0;
        }
    }
    return TC_OK;
}

/* ---- searchsorted ------------------------------------------------------------------- */
/* out[i] = first position p in sorted[0..n) with sorted[p] >= v (left) or > v (right),
 * v = values[i]; NaN counts as the largest value (sorted arrays keep NaN last). */
#define TC_DEFINE_SEARCH(NAME, T, LESS)                                                 \
    static void NAME(const T *sorted, int64_t n, const T *values, int64_t m,            \
                     int64_t *out, int right)                                           \
    {                                                                                   \
        for (int64_t i = 0; i < m; i++) {                                               \
            T v = values[i];                                                            \
            int64_t lo = 0, hi = n;                                                     \
            while (lo < hi) {                                                           \
                int64_t mid = lo + (hi - lo) / 2;                                       \
                int go_right = right ? !LESS(v, sorted[mid]) : LESS(sorted[mid], v);    \
                if (go_right) {                                                         \
                    lo = mid + 1;                                                       \
                } else {                                                                \
                    hi = mid;                                                           \
                }                                                                       \
            }                                                                           \
            out[i] = lo;                                                                \
        }                                                                               \
    }

TC_DEFINE_SEARCH(tc_search_f32, float, TC_LESS_F)
TC_DEFINE_SEARCH(tc_search_f64, double, TC_LESS_F)
TC_DEFINE_SEARCH(tc_search_i32, int32_t, TC_LESS_I)
TC_DEFINE_SEARCH(tc_search_i64, int64_t, TC_LESS_I)
TC_DEFINE_SEARCH(tc_search_b, uint8_t, TC_LESS_I)

int tc_searchsorted(int dtype, int64_t n, const void *sorted, int64_t m, const void *values,
                    int64_t *out, int right)
{
    int status = tc_check_dtype("tc_searchsorted", dtype);
    if (status) {
        return status;
    }
    if (n < 0 || m < 0) {
        return tc_set_error("tc_searchsorted: negative size");
    }
    if (m == 0) {
        return TC_OK;
    }
    if (values == NULL || out == NULL || (n > 0 && sorted == NULL)) {
        return tc_set_error("tc_searchsorted: NULL pointer");
    }
    switch (dtype) {
    case TC_FLOAT32: tc_search_f32(sorted, n, values, m, out, right); break;
    case TC_FLOAT64: tc_search_f64(sorted, n, values, m, out, right); break;
    case TC_INT32: tc_search_i32(sorted, n, values, m, out, right); break;
    case TC_INT64: tc_search_i64(sorted, n, values, m, out, right); break;
    default: tc_search_b(sorted, n, values, m, out, right); break;
    }
    return TC_OK;
}
