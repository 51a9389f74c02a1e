/* tc_reduce: sum / max / min / mean / var / logsumexp over any set of axes.
 *
 * After coalescing, dims are split into kept dims K (the output index space) and
 * reduced dims R. Each pass folds R into one tc_acc per output element, stored in a
 * scratch array indexed by the C-order flat index over K; a last step converts the
 * scratch to `out` through its strides. When the last coalesced dim is reduced every
 * output element folds its own rows ("row" case; a full reduction is split into pieces
 * across threads instead). When it is kept, input rows are streamed into a block of
 * accumulators ("col" case). */
#include <math.h>
#include <stdlib.h>

#include "reduce_loops.h"

#define TC_PIECES 64          /* pieces of a full reduction, combined in order */
#define TC_COL_BLOCK 1024

typedef struct {
    int nk, nr;
    int64_t kshape[TC_MAX_DIMS], ka[TC_MAX_DIMS], ko[TC_MAX_DIMS];   /* bytes */
    int64_t rshape[TC_MAX_DIMS], ra[TC_MAX_DIMS];                   /* bytes */
    int64_t kcount, rcount;
    int last_reduced;
    int64_t itemsize;
} tc_red_layout;

typedef struct {
    const tc_red_layout *lay;
    const char *a;
    tc_row_fn row;
    tc_col_fn col;
    int is_float;
    int pass;
    const double *aux;        /* per output element, or NULL */
    tc_acc *result;           /* per output element */
    tc_acc *pieces;           /* TC_PIECES partials for the full-reduction case */
    int64_t npieces;
    int64_t block;            /* col case: accumulators per work item */
} tc_red_ctx;

static tc_acc tc_pass_init(int is_float, int pass)
{
    tc_acc v;
    if (is_float) {
        v.f = pass == TC_PASS_MAX ? -INFINITY : (pass == TC_PASS_MIN ? INFINITY : 0.0);
    } else {
        v.i = pass == TC_PASS_MAX ? INT64_MIN : (pass == TC_PASS_MIN ? INT64_MAX : 0);
    }
    return v;
}

static tc_acc tc_pass_combine(int is_float, int pass, tc_acc x, tc_acc y)
{
    if (is_float) {
        x.f = pass == TC_PASS_MAX ? TC_FMAX(x.f, y.f)
              : (pass == TC_PASS_MIN ? TC_FMIN(x.f, y.f) : x.f + y.f);
    } else {
        x.i = pass == TC_PASS_MAX ? TC_IMAX(x.i, y.i)
              : (pass == TC_PASS_MIN ? TC_IMIN(x.i, y.i) : x.i + y.i);
    }
    return x;
}

/* Folds the reduced flat range [rbegin, rend) starting at input address `base` into
 * *acc: an odometer over the outer R dims, the row loop over the last R dim. */
static void tc_fold_rows(const tc_red_ctx *ctx, const char *base, int64_t rbegin,
                         int64_t rend, double aux, tc_acc *acc)
{
    const tc_red_layout *l = ctx->lay;
    int nr = l->nr;
    int64_t index[TC_MAX_DIMS];
    int64_t rem = rbegin;
    const char *p = base;
    for (int d = nr - 1; d >= 0; d--) {
        index[d] = rem % l->rshape[d];
        rem /= l->rshape[d];
        p += index[d] * l->ra[d];
    }
    int64_t last = l->rshape[nr - 1], stride = l->ra[nr - 1] / l->itemsize;
    int64_t pos = rbegin;
    while (pos < rend) {
        int64_t count = last - index[nr - 1];
        if (count > rend - pos) {
            count = rend - pos;
        }
        ctx->row(acc, p, count, stride, aux);
        pos += count;
        if (pos >= rend) {
            break;
        }
        p -= index[nr - 1] * l->ra[nr - 1];
        index[nr - 1] = 0;
        for (int d = nr - 2; d >= 0; d--) {
            index[d]++;
            p += l->ra[d];
            if (index[d] < l->rshape[d]) {
                break;
            }
            p -= index[d] * l->ra[d];
            index[d] = 0;
        }
    }
}

/* Input address of output element `k` (C-order flat index over K). */
static const char *tc_kept_address(const tc_red_layout *l, const char *a, int64_t k)
{
    for (int d = l->nk - 1; d >= 0; d--) {
        a += (k % l->kshape[d]) * l->ka[d];
        k /= l->kshape[d];
    }
    return a;
}

static void tc_row_range(void *arg, int64_t begin, int64_t end)
{
    const tc_red_ctx *ctx = arg;
    for (int64_t k = begin; k < end; k++) {
        tc_acc acc = tc_pass_init(ctx->is_float, ctx->pass);
        double aux = ctx->aux ? ctx->aux[k] : 0.0;
        tc_fold_rows(ctx, tc_kept_address(ctx->lay, ctx->a, k), 0, ctx->lay->rcount,
                     aux, &acc);
        ctx->result[k] = acc;
    }
}

static void tc_piece_range(void *arg, int64_t begin, int64_t end)
{
    const tc_red_ctx *ctx = arg;
    int64_t r = ctx->lay->rcount, np = ctx->npieces;
    double aux = ctx->aux ? ctx->aux[0] : 0.0;
    for (int64_t piece = begin; piece < end; piece++) {
        tc_acc acc = tc_pass_init(ctx->is_float, ctx->pass);
        int64_t rb = r / np * piece + (piece < r % np ? piece : r % np);
        int64_t re = rb + r / np + (piece < r % np ? 1 : 0);
        tc_fold_rows(ctx, ctx->a, rb, re, aux, &acc);
        ctx->pieces[piece] = acc;
    }
}

/* Col case: the last K dim (extent nl) is kept; item = (outer K index, block of nl). */
static void tc_col_range(void *arg, int64_t begin, int64_t end)
{
    const tc_red_ctx *ctx = arg;
    const tc_red_layout *l = ctx->lay;
    int64_t nl = l->kshape[l->nk - 1];
    int64_t sl = l->ka[l->nk - 1] / l->itemsize;
    int64_t nblocks = (nl + ctx->block - 1) / ctx->block;
    int nr = l->nr;
    tc_acc acc[TC_COL_BLOCK];
    for (int64_t item = begin; item < end; item++) {
        int64_t outer = item / nblocks;
        int64_t l0 = (item % nblocks) * ctx->block;
        int64_t n = nl - l0 < ctx->block ? nl - l0 : ctx->block;
        int64_t k0 = outer * nl + l0;
        const char *p = tc_kept_address(l, ctx->a, k0);
        const double *aux = ctx->aux ? ctx->aux + k0 : NULL;
        tc_acc init = tc_pass_init(ctx->is_float, ctx->pass);
        for (int64_t j = 0; j < n; j++) {
            acc[j] = init;
        }
        /* odometer over the outer R dims; the innermost R dim goes to the col loop */
        int64_t index[TC_MAX_DIMS] = {0};
        int64_t rows = l->rshape[nr - 1], rs = l->ra[nr - 1];
        for (int64_t r = 0; r < l->rcount; r += rows) {
            ctx->col(acc, p, n, sl, rows, rs, aux);
            for (int d = nr - 2; d >= 0; d--) {
                index[d]++;
                p += l->ra[d];
                if (index[d] < l->rshape[d]) {
                    break;
                }
                p -= index[d] * l->ra[d];
                index[d] = 0;
            }
        }
        for (int64_t j = 0; j < n; j++) {
            ctx->result[k0 + j] = acc[j];
        }
    }
}

/* Runs one pass into result[kcount]. */
static int tc_run_pass(const tc_red_layout *lay, const char *a, int dtype, int pass,
                       const double *aux, tc_acc *result)
{
    tc_red_ctx ctx = {lay, a, tc_row_table[dtype][pass], tc_col_table[dtype][pass],
                      dtype <= TC_FLOAT64, pass, aux, result, NULL, 0, TC_COL_BLOCK};
    int64_t cost = pass == TC_PASS_EXPSUM ? 8 : 1;
    if (lay->rcount == 0) {
        for (int64_t k = 0; k < lay->kcount; k++) {
            result[k] = tc_pass_init(ctx.is_float, pass);
        }
        return TC_OK;
    }
    if (lay->last_reduced && lay->kcount == 1) {
        tc_acc pieces[TC_PIECES];
        int64_t np = lay->rcount * cost / TC_CHUNK_CHEAP;
        np = np < 1 ? 1 : (np > TC_PIECES ? TC_PIECES : np);
        ctx.pieces = pieces;
        ctx.npieces = np;
        tc_parallel_for(np, 1, tc_piece_range, &ctx);
        tc_acc total = pieces[0];
        for (int64_t i = 1; i < np; i++) {
            total = tc_pass_combine(ctx.is_float, pass, total, pieces[i]);
        }
        result[0] = total;
    } else if (lay->last_reduced) {
        int64_t per_item = lay->rcount * cost;
        tc_parallel_for(lay->kcount, 1 + TC_CHUNK_CHEAP / per_item, tc_row_range, &ctx);
    } else {
        int64_t nl = lay->kshape[lay->nk - 1];
        int threads = tc_get_num_threads();
        int64_t block = (nl + threads - 1) / threads;
        block = block < 16 ? 16 : (block > TC_COL_BLOCK ? TC_COL_BLOCK : block);
        ctx.block = block;
        int64_t items = lay->kcount / nl * ((nl + block - 1) / block);
        int64_t per_item = block * lay->rcount * cost;
        tc_parallel_for(items, 1 + TC_CHUNK_CHEAP / per_item, tc_col_range, &ctx);
    }
    return TC_OK;
}

static void tc_build_layout(tc_red_layout *l, int ndim, const int64_t *shape,
                            uint64_t mask, const int64_t *a_strides,
                            const int64_t *out_strides, int64_t isz, int64_t osz)
{
    int64_t ext[TC_MAX_DIMS], sa[TC_MAX_DIMS], so[TC_MAX_DIMS];
    int red[TC_MAX_DIMS];
    int n = 0;
    l->kcount = 1;
    l->rcount = 1;
    for (int d = 0; d < ndim; d++) {
        int r = (int)((mask >> d) & 1u);
        if (r) {
            l->rcount *= shape[d];
        } else {
            l->kcount *= shape[d];
        }
        if (shape[d] == 1) {
            continue;
        }
        int64_t a_s = a_strides[d] * isz, o_s = r ? 0 : out_strides[d] * osz;
        if (n > 0 && red[n - 1] == r && sa[n - 1] == a_s * shape[d]
            && so[n - 1] == o_s * shape[d]) {
            ext[n - 1] *= shape[d];
            sa[n - 1] = a_s;
            so[n - 1] = o_s;
        } else {
            ext[n] = shape[d];
            sa[n] = a_s;
            so[n] = o_s;
            red[n] = r;
            n++;
        }
    }
    l->nk = 0;
    l->nr = 0;
    for (int d = 0; d < n; d++) {
        if (red[d]) {
            l->rshape[l->nr] = ext[d];
            l->ra[l->nr++] = sa[d];
        } else {
            l->kshape[l->nk] = ext[d];
            l->ka[l->nk] = sa[d];
            l->ko[l->nk++] = so[d];
        }
    }
    l->last_reduced = n == 0 || red[n - 1];
    if (l->nr == 0) {                 /* nothing reduced: one "row" of one element */
        l->rshape[0] = 1;
        l->ra[0] = 0;
        l->nr = 1;
    }
    l->itemsize = isz;
}

/* Writes finished values through out's strides (odometer over K). */
static void tc_store(const tc_red_layout *l, int op, int dtype, const tc_acc *res,
                     const double *extra, char *out, double count, int64_t ddof)
{
    double var_div = count - (double)ddof;
    if (var_div < 0) {
        var_div = 0;
    }
    for (int64_t k = 0; k < l->kcount; k++) {
        char *o = out;
        int64_t rem = k;
        for (int d = l->nk - 1; d >= 0; d--) {
            o += (rem % l->kshape[d]) * l->ko[d];
            rem /= l->kshape[d];
        }
        if (dtype > TC_FLOAT64) {
            int64_t v = res[k].i;
            if (op == TC_REDUCE_SUM) {
                *(int64_t *)o = v;
            } else if (dtype == TC_INT32) {
                *(int32_t *)o = (int32_t)v;
            } else if (dtype == TC_INT64) {
                *(int64_t *)o = v;
            } else {
                *(uint8_t *)o = (uint8_t)v;
            }
            continue;
        }
        double v = res[k].f;
        if (op == TC_REDUCE_MEAN) {
            v = v / count;
        } else if (op == TC_REDUCE_VAR) {
            v = v / var_div;
        } else if (op == TC_REDUCE_LOGSUMEXP) {
            double m = extra[k];
            v = isfinite(m) ? m + log(v) : m;
        }
        if (dtype == TC_FLOAT32) {
            *(float *)o = (float)v;
        } else {
            *(double *)o = v;
        }
    }
}

int tc_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t axis_mask,
              void *out, const int64_t *out_strides,
              const void *a, const int64_t *a_strides, int64_t ddof)
{
    int64_t size;
    int rc = tc_check_dtype("tc_reduce", dtype);
    if (rc == TC_OK) {
        rc = tc_check_shape("tc_reduce", ndim, shape, &size);
    }
    if (rc != TC_OK) {
        return rc;
    }
    if (op < TC_REDUCE_SUM || op > TC_REDUCE_LOGSUMEXP
        || (op >= TC_REDUCE_MEAN && dtype > TC_FLOAT64)) {
        tc_set_error("tc_reduce: op %d is not supported for dtype %d", op, dtype);
        return TC_ERR_UNSUPPORTED;
    }
    if (ndim < 64 && (axis_mask >> ndim) != 0) {
        return tc_set_error("tc_reduce: axis_mask 0x%llx names dims >= ndim %d",
                            (unsigned long long)axis_mask, ndim);
    }
    int64_t isz = tc_dtype_size(dtype);
    int64_t osz = (op == TC_REDUCE_SUM && dtype > TC_FLOAT64) ? 8 : isz;
    tc_red_layout lay;
    if (ndim > 0 && (a_strides == NULL || out_strides == NULL)) {
        return tc_set_error("tc_reduce: NULL strides");
    }
    tc_build_layout(&lay, ndim, shape, axis_mask, a_strides, out_strides, isz, osz);
    if (lay.kcount == 0) {
        return TC_OK;
    }
    if (out == NULL || (a == NULL && size > 0)) {
        return tc_set_error("tc_reduce: NULL data pointer");
    }
    if (lay.rcount == 0 && (op == TC_REDUCE_MAX || op == TC_REDUCE_MIN)) {
        return tc_set_error("tc_reduce: max/min over zero elements");
    }
    tc_acc local[64];
    double local_aux[2 * 64];
    tc_acc *res = local;
    double *aux = local_aux;          /* aux[0..k): pass input; aux[k..2k): saved max */
    if (lay.kcount > 64) {
        res = malloc((size_t)lay.kcount * sizeof(tc_acc));
        aux = malloc((size_t)lay.kcount * 2 * sizeof(double));
        if (res == NULL || aux == NULL) {
            free(res);
            free(aux);
            tc_set_error("tc_reduce: out of memory for %lld outputs", (long long)lay.kcount);
            return TC_ERR_NOMEM;
        }
    }
    double count = (double)lay.rcount;
    double *maxes = aux + lay.kcount;
    switch (op) {
    case TC_REDUCE_SUM: case TC_REDUCE_MEAN:
        tc_run_pass(&lay, a, dtype, TC_PASS_SUM, NULL, res);
        break;
    case TC_REDUCE_MAX:
        tc_run_pass(&lay, a, dtype, TC_PASS_MAX, NULL, res);
        break;
    case TC_REDUCE_MIN:
        tc_run_pass(&lay, a, dtype, TC_PASS_MIN, NULL, res);
        break;
    case TC_REDUCE_VAR:
        tc_run_pass(&lay, a, dtype, TC_PASS_SUM, NULL, res);
        for (int64_t k = 0; k < lay.kcount; k++) {
            aux[k] = res[k].f / count;
        }
        tc_run_pass(&lay, a, dtype, TC_PASS_SQDEV, aux, res);
        if (lay.rcount == 0) {
            for (int64_t k = 0; k < lay.kcount; k++) {
                res[k].f = NAN;
            }
        }
        break;
    default:                          /* logsumexp */
        tc_run_pass(&lay, a, dtype, TC_PASS_MAX, NULL, res);
        for (int64_t k = 0; k < lay.kcount; k++) {
            maxes[k] = res[k].f;
            aux[k] = isfinite(res[k].f) ? res[k].f : 0.0;
        }
        tc_run_pass(&lay, a, dtype, TC_PASS_EXPSUM, aux, res);
        break;
    }
    tc_store(&lay, op, dtype, res, maxes, (char *)out, count, ddof);
    if (res != local) {
        free(res);
        free(aux);
    }
    return TC_OK;
}
