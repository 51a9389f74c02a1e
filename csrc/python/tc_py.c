/* Python-facing shims of the C API (compiled into tensorcore._C only, not into
 * libtensorcore): the same functions taking NumPy BYTE strides, so the cffi wrapper passes
 * `a.strides` tuples unchanged, plus flat fast paths for C-contiguous same-shape operands.
 * Declared in tc_py.h, which is also the cdef cffi parses for them. */
#include <stddef.h>

#include "tc_py.h"

#define TC_PY_MAX_DIMS 32

/* Converts ndim byte strides to element strides; returns 0 if ndim is out of range or
 * a stride is not a multiple of the item size. */
static int tc_py_elems(int ndim, const int64_t *bytes, int64_t itemsize, int64_t *elems)
{
    if (ndim < 0 || ndim > TC_PY_MAX_DIMS || (ndim > 0 && bytes == NULL)) {
        return 0;
    }
    for (int d = 0; d < ndim; d++) {
        if (bytes[d] % itemsize != 0) {
            return 0;
        }
        elems[d] = bytes[d] / itemsize;
    }
    return 1;
}

static int64_t tc_py_itemsize(int dtype)
{
    return dtype == TC_BOOL ? 1 : ((dtype == TC_FLOAT64 || dtype == TC_INT64) ? 8 : 4);
}

#define TC_PY_STRIDES(NAME, BYTES, DTYPE)                                         \
    int64_t NAME[TC_PY_MAX_DIMS];                                                 \
    if (!tc_py_elems(ndim, BYTES, tc_py_itemsize(DTYPE), NAME)) {                 \
        return TC_ERR_INVALID;                                                    \
    }

int tc_py_binary(int op, int dtype, int ndim, const int64_t *shape,
                        void *out, const int64_t *ob, const void *a, const int64_t *ab,
                        const void *b, const int64_t *bb)
{
    int odt = tc_binary_result_dtype(op, dtype);
    if (odt < 0) {
        return TC_ERR_UNSUPPORTED;
    }
    TC_PY_STRIDES(os, ob, odt)
    TC_PY_STRIDES(as, ab, dtype)
    TC_PY_STRIDES(bs, bb, dtype)
    return tc_binary(op, dtype, ndim, shape, out, os, a, as, b, bs);
}

int tc_py_binary_flat(int op, int dtype, int64_t n, void *out, const void *a,
                             const void *b)
{
    static const int64_t unit[1] = {1};
    return tc_binary(op, dtype, 1, &n, out, unit, a, unit, b, unit);
}

int tc_py_unary(int op, int dtype, int ndim, const int64_t *shape,
                       void *out, const int64_t *ob, const void *a, const int64_t *ab)
{
    int odt = tc_unary_result_dtype(op, dtype);   /* bool for the predicates */
    if (odt < 0) {
        return TC_ERR_UNSUPPORTED;
    }
    TC_PY_STRIDES(os, ob, odt)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_unary(op, dtype, ndim, shape, out, os, a, as);
}

int tc_py_unary_flat(int op, int dtype, int64_t n, void *out, const void *a)
{
    static const int64_t unit[1] = {1};
    return tc_unary(op, dtype, 1, &n, out, unit, a, unit);
}

int tc_py_where(int dtype, int ndim, const int64_t *shape,
                       void *out, const int64_t *ob, const void *c, const int64_t *cb,
                       const void *a, const int64_t *ab, const void *b, const int64_t *bb)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(cs, cb, TC_BOOL)
    TC_PY_STRIDES(as, ab, dtype)
    TC_PY_STRIDES(bs, bb, dtype)
    return tc_where(dtype, ndim, shape, out, os, c, cs, a, as, b, bs);
}

int tc_py_clip(int dtype, int ndim, const int64_t *shape,
                      void *out, const int64_t *ob, const void *a, const int64_t *ab,
                      const void *lo, const void *hi)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_clip(dtype, ndim, shape, out, os, a, as, lo, hi);
}

int tc_py_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
                      void *out, const int64_t *ob, const void *src, const int64_t *sb)
{
    TC_PY_STRIDES(os, ob, dst_dtype)
    TC_PY_STRIDES(ss, sb, src_dtype)
    return tc_copy(src_dtype, dst_dtype, ndim, shape, out, os, src, ss);
}

int tc_py_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t mask,
                        void *out, const int64_t *ob, const void *a, const int64_t *ab,
                        int64_t ddof)
{
    int odt = (op == TC_REDUCE_SUM && dtype > TC_FLOAT64) ? TC_INT64 : dtype;
    TC_PY_STRIDES(os, ob, odt)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_reduce(op, dtype, ndim, shape, mask, out, os, a, as, ddof);
}

int tc_py_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                           void *out, const int64_t *ob, const void *a,
                           const int64_t *ab)
{
    if (ndim < 1) {
        return tc_argreduce(op, dtype, ndim, shape, axis, (int64_t *)out, NULL, a, NULL);
    }
    int64_t os[TC_PY_MAX_DIMS];
    if (!tc_py_elems(ndim - 1, ob, 8, os)) {
        return TC_ERR_INVALID;
    }
    TC_PY_STRIDES(as, ab, dtype)
    return tc_argreduce(op, dtype, ndim, shape, axis, (int64_t *)out, os, a, as);
}

int tc_py_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
                         void *out, const int64_t *ob, const void *a, const int64_t *ab)
{
    TC_PY_STRIDES(os, ob, dtype)
    TC_PY_STRIDES(as, ab, dtype)
    return tc_softmax(dtype, ndim, shape, axis, log, out, os, a, as);
}

int tc_py_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
                        const int64_t *abb, const int64_t *bbb, const int64_t *cbb,
                        int64_t m, int64_t n, int64_t k,
                        const void *a, int64_t rsa, int64_t csa,
                        const void *b, int64_t rsb, int64_t csb,
                        void *c, int64_t rsc, int64_t csc)
{
    int64_t isz = tc_py_itemsize(dtype);
    int ndim = batch_ndim;     /* TC_PY_STRIDES converts `ndim` strides */
    TC_PY_STRIDES(ab, abb, dtype)
    TC_PY_STRIDES(bb, bbb, dtype)
    TC_PY_STRIDES(cb, cbb, dtype)
    return tc_matmul(dtype, batch_ndim, batch_shape, ab, bb, cb, m, n, k,
                     a, rsa / isz, csa / isz, b, rsb / isz, csb / isz,
                     c, rsc / isz, csc / isz);
}
