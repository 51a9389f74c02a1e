/* tensorcore public C API.
 *
 * This one header is both the C API of the core and the declarations cffi parses
 * (csrc/ffi_build.py strips the preprocessor lines before passing it to cdef), so it
 * holds only typedefs, enums and prototypes: no macros are needed to use it.
 *
 * Conventions: every function returns int status (0 = TC_OK, negative = error, message
 * from tc_last_error()); strides are counted in ELEMENTS (not bytes) and may be
 * negative or zero (broadcast) for inputs; shapes are int64. Pointers given as `data`
 * point at the element with all indices 0 (NumPy convention). */
#ifndef TENSORCORE_H
#define TENSORCORE_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

enum tc_dtype { TC_FLOAT32 = 0, TC_FLOAT64 = 1, TC_INT32 = 2, TC_INT64 = 3, TC_BOOL = 4 };
enum tc_status { TC_OK = 0, TC_ERR_INVALID = -1, TC_ERR_NOMEM = -2, TC_ERR_UNSUPPORTED = -3 };

const char *tc_version(void);
const char *tc_last_error(void);

/* ---- runtime -------------------------------------------------------------------- */
void tc_set_num_threads(int n);
int tc_get_num_threads(void);
const char *tc_simd_level(void);            /* "avx512", "avx2", or "generic" */

/* ---- GEMM (gemm.c): C = alpha * A @ B + beta * C, general strides (rs = row stride,
 * cs = column stride, in elements). dtype TC_FLOAT32 / TC_FLOAT64 (BLIS-style packed
 * path) or TC_INT32 / TC_INT64 (simple loops). beta == 0 never reads C. ------------- */
int tc_gemm(int dtype, int64_t m, int64_t n, int64_t k, double alpha,
            const void *a, int64_t rsa, int64_t csa,
            const void *b, int64_t rsb, int64_t csb, double beta,
            void *c, int64_t rsc, int64_t csc);
/* Batched matmul: for every index i of batch_shape (batch_ndim dims, C order),
 * C[i] = A[i] @ B[i], A[i] at a + dot(i, a_bstrides) (elements; strides may be 0). */
int tc_matmul(int dtype, int batch_ndim, const int64_t *batch_shape,
              const int64_t *a_bstrides, const int64_t *b_bstrides, const int64_t *c_bstrides,
              int64_t m, int64_t n, int64_t k,
              const void *a, int64_t rsa, int64_t csa,
              const void *b, int64_t rsb, int64_t csb,
              void *c, int64_t rsc, int64_t csc);
const char *tc_gemm_kernel_name(int dtype);  /* e.g. "avx512 32x6 f32" */

#ifdef __cplusplus
}
#endif
#endif
