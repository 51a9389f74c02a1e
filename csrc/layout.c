/* Dim coalescing and the threaded N-d driver for elementwise kernels. */
#include "tc_internal.h"

int64_t tc_dtype_size(int dtype)
{
    switch (dtype) {
    case TC_FLOAT32: case TC_INT32: return 4;
    case TC_FLOAT64: case TC_INT64: return 8;
    case TC_BOOL: return 1;
    default: return 0;
    }
}

int tc_check_dtype(const char *func, int dtype)
{
    if (tc_dtype_size(dtype) == 0) {
        return tc_set_error("%s: invalid dtype code %d", func, dtype);
    }
    return TC_OK;
}

int tc_check_shape(const char *func, int ndim, const int64_t *shape, int64_t *size)
{
    if (ndim < 0 || ndim > TC_MAX_DIMS) {
        return tc_set_error("%s: ndim must be in [0, %d], got %d", func, TC_MAX_DIMS, ndim);
    }
    if (ndim > 0 && shape == NULL) {
        return tc_set_error("%s: shape is NULL with ndim %d", func, ndim);
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            return tc_set_error("%s: negative extent %lld in dim %d", func,
                                (long long)shape[d], d);
        }
    }
    if (!tc_count_product(ndim, shape, size)) {
        return tc_set_error("%s: the product of the %d extents exceeds %lld elements", func,
                            ndim, (long long)TC_MAX_ELEMENTS);
    }
    return TC_OK;
}

static int64_t tc_abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

void tc_layout_init(tc_layout *layout, int nop, int ndim, const int64_t *shape,
                    const int64_t *const *strides, const int64_t *itemsize)
{
    layout->nop = nop;
    layout->size = 1;
    for (int i = 0; i < nop; i++) {
        layout->itemsize[i] = itemsize[i];
    }
    /* Visit the dims in order of decreasing |output stride| (stable), so an output that
     * is a transposed view (e.g. in-place `a.T += b.T`) is still walked along memory. */
    int order[TC_MAX_DIMS];
    int count = 0;
    for (int d = 0; d < ndim; d++) {
        layout->size *= shape[d];
        if (shape[d] == 1) {
            continue;                       /* size-1 dims never move a pointer */
        }
        int pos = count++;
        while (pos > 0 && tc_abs64(strides[0][order[pos - 1]]) < tc_abs64(strides[0][d])) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = d;
    }
    int out = 0;
    for (int c = 0; c < count; c++) {
        int d = order[c];
        int merge = out > 0;
        for (int i = 0; i < nop && merge; i++) {
            /* outer dim out-1 merges with d when stepping it equals stepping d n times */
            merge = layout->strides[i][out - 1] == strides[i][d] * itemsize[i] * shape[d];
        }
        if (merge) {
            layout->shape[out - 1] *= shape[d];
            for (int i = 0; i < nop; i++) {
                layout->strides[i][out - 1] = strides[i][d] * itemsize[i];
            }
        } else {
            layout->shape[out] = shape[d];
            for (int i = 0; i < nop; i++) {
                layout->strides[i][out] = strides[i][d] * itemsize[i];
            }
            out++;
        }
    }
    if (out == 0) {
        layout->shape[0] = 1;
        for (int i = 0; i < nop; i++) {
            layout->strides[i][0] = 0;
        }
        out = 1;
    }
    layout->ndim = out;
}

typedef struct {
    const tc_layout *layout;
    char *const *base;
    tc_inner_fn fn;
    const void *params;
} tc_run_ctx;

/* Walks the flat (C-order) index range [begin, end) of the layout: an odometer over the
 * outer dims, fn over runs of the last dim. */
static void tc_run_range(void *arg, int64_t begin, int64_t end)
{
    const tc_run_ctx *ctx = arg;
    const tc_layout *l = ctx->layout;
    int nd = l->ndim, nop = l->nop;
    int64_t index[TC_MAX_DIMS];
    char *ptr[TC_MAX_OPERANDS];
    int64_t inner_stride[TC_MAX_OPERANDS];
    int64_t rem = begin;
    for (int i = 0; i < nop; i++) {
        ptr[i] = ctx->base[i];
        inner_stride[i] = l->strides[i][nd - 1] / l->itemsize[i];
    }
    for (int d = nd - 1; d >= 0; d--) {
        index[d] = rem % l->shape[d];
        rem /= l->shape[d];
        for (int i = 0; i < nop; i++) {
            ptr[i] += index[d] * l->strides[i][d];
        }
    }
    int64_t pos = begin;
    int64_t last = l->shape[nd - 1];
    while (pos < end) {
        int64_t count = last - index[nd - 1];
        if (count > end - pos) {
            count = end - pos;
        }
        ctx->fn(ptr, inner_stride, count, ctx->params);
        pos += count;
        if (pos >= end) {
            break;
        }
        /* count reached the end of the last dim: rewind it and carry outward */
        for (int i = 0; i < nop; i++) {
            ptr[i] -= index[nd - 1] * l->strides[i][nd - 1];
        }
        index[nd - 1] = 0;
        for (int d = nd - 2; d >= 0; d--) {
            index[d]++;
            for (int i = 0; i < nop; i++) {
                ptr[i] += l->strides[i][d];
            }
            if (index[d] < l->shape[d]) {
                break;
            }
            for (int i = 0; i < nop; i++) {
                ptr[i] -= index[d] * l->strides[i][d];
            }
            index[d] = 0;
        }
    }
}

void tc_layout_run(const tc_layout *layout, char *const *base, tc_inner_fn fn,
                   const void *params, int64_t min_chunk)
{
    if (layout->size <= 0) {
        return;
    }
    tc_run_ctx ctx = {layout, base, fn, params};
    tc_parallel_for(layout->size, min_chunk, tc_run_range, &ctx);
}
