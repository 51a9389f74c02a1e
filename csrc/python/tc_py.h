/* Declarations of the Python-facing shims (tc_py.c): the public functions of
 * tensorcore.h taking NumPy BYTE strides (ob, ab, ...: `ndim` entries), converted to
 * element strides before the call (a stride that is not a multiple of the item size gives
 * TC_ERR_INVALID), and *_flat forms for n contiguous elements. csrc/ffi_build.py passes
 * this header, preprocessed, to cffi's cdef. */
#ifndef TC_PY_H
#define TC_PY_H
#include "tensorcore.h"

int tc_py_binary(int op, int dtype, int ndim, const int64_t *shape,
                 void *out, const int64_t *ob, const void *a, const int64_t *ab,
                 const void *b, const int64_t *bb);
int tc_py_binary_flat(int op, int dtype, int64_t n, void *out, const void *a,
                      const void *b);
int tc_py_unary(int op, int dtype, int ndim, const int64_t *shape,
                void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_unary_flat(int op, int dtype, int64_t n, void *out, const void *a);
int tc_py_where(int dtype, int ndim, const int64_t *shape,
                void *out, const int64_t *ob, const void *c, const int64_t *cb,
                const void *a, const int64_t *ab, const void *b, const int64_t *bb);
int tc_py_clip(int dtype, int ndim, const int64_t *shape,
               void *out, const int64_t *ob, const void *a, const int64_t *ab,
               const void *lo, const void *hi);
int tc_py_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
               void *out, const int64_t *ob, const void *src, const int64_t *sb);
int tc_py_reduce(int op, int dtype, int ndim, const int64_t *shape, uint64_t mask,
                 void *out, const int64_t *ob, const void *a, const int64_t *ab,
                 int64_t ddof);
int tc_py_argreduce(int op, int dtype, int ndim, const int64_t *shape, int axis,
                    void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_softmax(int dtype, int ndim, const int64_t *shape, int axis, int log,
                  void *out, const int64_t *ob, const void *a, const int64_t *ab);
int tc_py_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
                 const int64_t *abb, const int64_t *bbb, const int64_t *cbb,
                 int64_t m, int64_t n, int64_t k,
                 const void *a, int64_t rsa, int64_t csa,
                 const void *b, int64_t rsb, int64_t csb,
                 void *c, int64_t rsc, int64_t csc);

#endif
