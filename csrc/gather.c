/* tc_take_rows: dst[i, :] = src[index[i], :] for byte rows (the batch gather of training,
 * and the element gather of fancy indexing with one-element rows). tc_put_rows: the inverse
 * scatter dst[index[i], :] = src[i, :] (fancy-index assignment).
 *
 * Invariants: src rows are row_bytes long and src_row_stride bytes apart (any sign);
 * dst is contiguous (row i at dst + i * row_bytes) and does not overlap src. Every index is
 * checked against [0, nrows) before the first byte is written. Rows are split across the
 * thread pool; each row is one memcpy. */
#include <string.h>

#include "tc_internal.h"

typedef struct {
    const char *src;
    int64_t src_row_stride;
    int64_t row_bytes;
    const int64_t *index;
    char *dst;
} tc_take_job;

static void tc_take_range(void *ctx, int64_t begin, int64_t end)
{
    const tc_take_job *job = ctx;
    for (int64_t i = begin; i < end; i++) {
        memcpy(job->dst + i * job->row_bytes, job->src + job->index[i] * job->src_row_stride,
               (size_t)job->row_bytes);
    }
}

int tc_take_rows(int64_t nrows, int64_t row_bytes, const void *src, int64_t src_row_stride,
                 int64_t n, const int64_t *index, void *dst)
{
    if (nrows < 0 || row_bytes < 0 || n < 0) {
        return tc_set_error("tc_take_rows: negative size (nrows=%lld, row_bytes=%lld, n=%lld)",
                            (long long)nrows, (long long)row_bytes, (long long)n);
    }
    if (n == 0 || row_bytes == 0) {
        return TC_OK;
    }
    if (src == NULL || index == NULL || dst == NULL) {
        return tc_set_error("tc_take_rows: NULL pointer with n=%lld", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        if (index[i] < 0 || index[i] >= nrows) {
            return tc_set_error("tc_take_rows: index %lld at position %lld is out of range "
                                "[0, %lld)", (long long)index[i], (long long)i,
                                (long long)nrows);
        }
    }
    tc_take_job job = {src, src_row_stride, row_bytes, index, dst};
    /* about 64 KiB of copying per chunk before a second thread is worth waking */
    const int64_t min_rows = 1 + (65536 / row_bytes);
    tc_parallel_for(n, min_rows, tc_take_range, &job);
    return TC_OK;
}

int tc_put_rows(int64_t nrows, int64_t row_bytes, void *dst, int64_t dst_row_stride,
                int64_t n, const int64_t *index, const void *src)
{
    if (nrows < 0 || row_bytes < 0 || n < 0) {
        return tc_set_error("tc_put_rows: negative size (nrows=%lld, row_bytes=%lld, n=%lld)",
                            (long long)nrows, (long long)row_bytes, (long long)n);
    }
    if (n == 0 || row_bytes == 0) {
        return TC_OK;
    }
    if (src == NULL || index == NULL || dst == NULL) {
        return tc_set_error("tc_put_rows: NULL pointer with n=%lld", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        if (index[i] < 0 || index[i] >= nrows) {
            return tc_set_error("tc_put_rows: index %lld at position %lld is out of range "
                                "[0, %lld)", (long long)index[i], (long long)i,
                                (long long)nrows);
        }
    }
    /* One thread, in index order: a repeated index keeps the last row written (NumPy). */
    char *out = dst;
    const char *in = src;
    for (int64_t i = 0; i < n; i++) {
        memcpy(out + index[i] * dst_row_stride, in + i * row_bytes, (size_t)row_bytes);
    }
    return TC_OK;
}
