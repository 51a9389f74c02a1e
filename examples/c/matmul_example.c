/* Using tensorcore from plain C: every buffer below is owned by this program; tensorcore
 * only reads and writes through the pointers, shapes and ELEMENT strides it is given.
 *
 * Build (see README.md):
 *   gcc -std=c11 matmul_example.c -I"$INC" -L"$LIBDIR" -l:libtensorcore.so \
 *       -Wl,-rpath,"$LIBDIR" -o matmul_example
 *
 * Output: one line per result, "name: v0 v1 ..." with %.9g values (the test in
 * tests/test_embed_c.py parses it and compares against NumPy). Exit status 0 on success;
 * any unexpected library error prints tc_last_error() and exits 1. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tensorcore.h"

enum { M = 3, K = 4, N = 5 };

/* Prints `count` floats on one line after `name`. */
static void print_floats(const char *name, const float *values, int64_t count)
{
    printf("%s:", name);
    for (int64_t i = 0; i < count; i++) {
        printf(" %.9g", (double)values[i]);
    }
    printf("\n");
}

/* Reports a failed call with the library's message; returns 1 so main can exit with it. */
static int fail(const char *what, int status)
{
    fprintf(stderr, "%s failed with status %d: %s\n", what, status, tc_last_error());
    return 1;
}

int main(void)
{
    float a[M * K], b[K * N], c[M * N], bias[N], sum_rows[M], ct[N * M];
    int status;

    for (int i = 0; i < M * K; i++) {
        a[i] = (float)(i % 7) - 2.5f;
    }
    for (int i = 0; i < K * N; i++) {
        b[i] = 0.25f * (float)((3 * i) % 7) - 0.5f;
    }
    for (int j = 0; j < N; j++) {
        bias[j] = (float)j;
    }
    printf("version: %s\n", tc_version());
    print_floats("a", a, M * K);
    print_floats("b", b, K * N);

    /* 1. C = 1 * A @ B + 0 * C on row-major buffers: row stride = #columns, column
     * stride = 1 (elements). beta == 0, so C is written without being read. */
    status = tc_gemm(TC_FLOAT32, M, N, K, 1.0, a, K, 1, b, N, 1, 0.0, c, N, 1);
    if (status != TC_OK) {
        return fail("tc_gemm", status);
    }
    print_floats("matmul", c, M * N);

    /* 2. Broadcast add in place: C (M x N) += bias (N,). The bias is seen as an M x N
     * view whose row stride is 0; `out` is exactly the same view as input `a`. */
    const int64_t shape2[2] = {M, N};
    const int64_t c_strides[2] = {N, 1};
    const int64_t bias_strides[2] = {0, 1};
    status = tc_binary(TC_ADD, TC_FLOAT32, 2, shape2, c, c_strides, c, c_strides,
                       bias, bias_strides);
    if (status != TC_OK) {
        return fail("tc_binary", status);
    }
    print_floats("add_bias", c, M * N);

    /* 3. Reduction: sum over axis 1 (bit 1 of the mask). out has the keepdims shape
     * (M, 1); the stride of a reduced dim is ignored. */
    const int64_t sum_strides[2] = {1, 0};
    status = tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 2, shape2, UINT64_C(1) << 1,
                       sum_rows, sum_strides, c, c_strides, 0);
    if (status != TC_OK) {
        return fail("tc_reduce", status);
    }
    print_floats("sum_axis1", sum_rows, M);

    /* 4. Transpose copy: walk C in (N, M) order through swapped strides and write a
     * contiguous N x M buffer. */
    const int64_t shape_t[2] = {N, M};
    const int64_t ct_strides[2] = {M, 1};
    const int64_t c_as_t_strides[2] = {1, N};
    status = tc_copy(TC_FLOAT32, TC_FLOAT32, 2, shape_t, ct, ct_strides, c, c_as_t_strides);
    if (status != TC_OK) {
        return fail("tc_copy", status);
    }
    print_floats("transpose", ct, N * M);

    /* 5. An error path: a negative size is rejected with a status code and a message;
     * nothing is written and the process keeps running. */
    status = tc_gemm(TC_FLOAT32, -1, N, K, 1.0, a, K, 1, b, N, 1, 0.0, c, N, 1);
    if (status == TC_OK) {
        fprintf(stderr, "expected tc_gemm to reject m = -1\n");
        return 1;
    }
    printf("error: status=%d message=%s\n", status, tc_last_error());
    if (strlen(tc_last_error()) == 0) {
        fprintf(stderr, "expected a non-empty tc_last_error()\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
