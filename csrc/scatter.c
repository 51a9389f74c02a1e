/* tc_scatter_add: sequential out[index[i]] += src[i] (repeated indices accumulate). */
#include "tc_internal.h"

#define TC_SCATTER_LOOP(NAME, T)                                                        \
    static void NAME(char *out, int64_t os, int64_t n, const int64_t *index,            \
                     int64_t is, const char *src, int64_t ss)                           \
    {                                                                                   \
        T *o = (T *)out;                                                                \
        const T *x = (const T *)src;                                                    \
        for (int64_t i = 0; i < n; i++) {                                               \
            o[index[i * is] * os] += x[i * ss];                                         \
        }                                                                               \
    }

TC_SCATTER_LOOP(tc_scatter_f32, float)
TC_SCATTER_LOOP(tc_scatter_f64, double)
TC_SCATTER_LOOP(tc_scatter_i32, int32_t)
TC_SCATTER_LOOP(tc_scatter_i64, int64_t)

int tc_scatter_add(int dtype, int64_t out_size, void *out, int64_t out_stride,
                   int64_t n, const int64_t *index, int64_t index_stride,
                   const void *src, int64_t src_stride)
{
    int rc = tc_check_dtype("tc_scatter_add", dtype);
    if (rc != TC_OK) {
        return rc;
    }
    if (dtype == TC_BOOL) {
        tc_set_error("tc_scatter_add: bool is not supported");
        return TC_ERR_UNSUPPORTED;
    }
    if (n < 0 || out_size < 0) {
        return tc_set_error("tc_scatter_add: negative size (n=%lld, out_size=%lld)",
                            (long long)n, (long long)out_size);
    }
    if (n == 0) {
        return TC_OK;
    }
    if (out == NULL || index == NULL || src == NULL) {
        return tc_set_error("tc_scatter_add: NULL pointer with n=%lld", (long long)n);
    }
    /* validate every index before the first write, so a bad call changes nothing */
    for (int64_t i = 0; i < n; i++) {
        int64_t k = index[i * index_stride];
        if (k < 0 || k >= out_size) {
            return tc_set_error("tc_scatter_add: index[%lld] = %lld outside [0, %lld)",
                                (long long)i, (long long)k, (long long)out_size);
        }
    }
    switch (dtype) {
    case TC_FLOAT32:
        tc_scatter_f32(out, out_stride, n, index, index_stride, src, src_stride);
        break;
    case TC_FLOAT64:
        tc_scatter_f64(out, out_stride, n, index, index_stride, src, src_stride);
        break;
    case TC_INT32:
        tc_scatter_i32(out, out_stride, n, index, index_stride, src, src_stride);
        break;
    default:
        tc_scatter_i64(out, out_stride, n, index, index_stride, src, src_stride);
        break;
    }
    return TC_OK;
}
