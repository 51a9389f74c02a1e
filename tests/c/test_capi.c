/* Standalone test of the public C API (csrc/tensorcore.h), no Python involved.
 *
 * Build and run (from the repo root; tests/test_capi.py and .ci/sanitize.sh do this):
 *   gcc -O1 -g -std=c11 -pthread -fsanitize=address,undefined -fno-sanitize-recover=all \
 *       -Icsrc csrc/*.c tests/c/test_capi.c -lm -o test_capi
 *   ASAN_OPTIONS=detect_leaks=1 ./test_capi
 *
 * Every operand lives in a malloc'd buffer exactly as large as its view needs, so any read
 * or write outside a view is an ASan error. Covers tc_binary (with zero-stride broadcast and
 * negative strides), tc_unary, tc_where, tc_clip, tc_copy (transposed, with casts),
 * tc_reduce, tc_argreduce, tc_matmul (batched, broadcast batch, transposed operands),
 * tc_softmax, tc_scatter_add, the float32 arithmetic and sum loops at lengths around their
 * SIMD blocks (exact; NEON on AArch64), the thread pool at several thread counts, and the error
 * returns (status + tc_last_error) for bad arguments. Exit status: number of failures. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorcore.h"

static int g_failures;
static int g_checks;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        g_checks++;                                                                   \
        if (!(cond)) {                                                                \
            g_failures++;                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
        }                                                                             \
    } while (0)

static uint64_t g_rng = 0x2545f4914f6cdd1dull;

static double rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(99);
    }
    return p;
}

static int close_f(double a, double b, double tol)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return fabs(a - b) <= tol * (1.0 + fabs(b));
}

/* out[i,j] = a[i,j] + b[j] with a (rows x cols) read through NEGATIVE row strides, b
 * broadcast along rows (stride 0), at 1..3 threads and a size large enough to thread. */
static void test_binary(void)
{
    for (int threads = 1; threads <= 3; threads++) {
        tc_set_num_threads(threads);
        const int64_t rows = 301, cols = 517;
        float *a = xmalloc(sizeof(float) * rows * cols);
        float *b = xmalloc(sizeof(float) * cols);
        float *out = xmalloc(sizeof(float) * rows * cols);
        for (int64_t i = 0; i < rows * cols; i++) {
            a[i] = (float)rnd();
        }
        for (int64_t j = 0; j < cols; j++) {
            b[j] = (float)rnd();
        }
        int64_t shape[2] = {rows, cols};
        int64_t as[2] = {-cols, 1};           /* row r of the view is row rows-1-r */
        int64_t bs[2] = {0, 1};
        int64_t os[2] = {cols, 1};
        int rc = tc_binary(TC_ADD, TC_FLOAT32, 2, shape, out, os, a + (rows - 1) * cols, as,
                           b, bs);
        CHECK(rc == TC_OK, "tc_binary add rc=%d (%s)", rc, tc_last_error());
        int bad = 0;
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) {
                float want = a[(rows - 1 - r) * cols + c] + b[c];
                bad += out[r * cols + c] != want;
            }
        }
        CHECK(bad == 0, "tc_binary add: %d wrong elements at %d threads", bad, threads);

        /* comparison -> bool output, in-place multiply (out is exactly input a) */
        uint8_t *mask = xmalloc((size_t)(rows * cols));
        rc = tc_binary(TC_GREATER, TC_FLOAT32, 2, shape, mask, os, a, os, a, os);
        CHECK(rc == TC_OK, "tc_binary greater rc=%d", rc);
        bad = 0;
        for (int64_t i = 0; i < rows * cols; i++) {
            bad += mask[i] != 0;
        }
        CHECK(bad == 0, "x > x must be all false, %d true", bad);
        rc = tc_binary(TC_MULTIPLY, TC_FLOAT32, 2, shape, out, os, out, os, out, os);
        CHECK(rc == TC_OK, "in-place multiply rc=%d", rc);
        free(mask);
        free(a);
        free(b);
        free(out);
    }
    tc_set_num_threads(2);

    /* int64 power by squaring and int32 wrap-around */
    int64_t base[4] = {2, -3, 0, 7}, expo[4] = {10, 3, 0, 1}, res[4];
    int64_t n4 = 4, unit = 1;
    CHECK(tc_binary(TC_POWER, TC_INT64, 1, &n4, res, &unit, base, &unit, expo, &unit) == 0,
          "int64 power rc");
    CHECK(res[0] == 1024 && res[1] == -27 && res[2] == 1 && res[3] == 7,
          "int64 power: %lld %lld %lld %lld", (long long)res[0], (long long)res[1],
          (long long)res[2], (long long)res[3]);
    int32_t big[1] = {INT32_MAX}, one[1] = {1}, wrapped[1];
    int64_t n1 = 1;
    CHECK(tc_binary(TC_ADD, TC_INT32, 1, &n1, wrapped, &unit, big, &unit, one, &unit) == 0,
          "int32 add rc");
    CHECK(wrapped[0] == INT32_MIN, "int32 add must wrap, got %d", wrapped[0]);
}

/* Elements of got[o] (o < outer) differing from the double sum of a[o * so + i * si],
 * i < inner, by more than tol (relative). */
static int wrong_sums(const float *a, int64_t outer, int64_t inner, int64_t so, int64_t si,
                      const float *got, double tol)
{
    int bad = 0;
    for (int64_t o = 0; o < outer; o++) {
        double want = 0;
        for (int64_t i = 0; i < inner; i++) {
            want += a[o * so + i * si];
        }
        bad += !close_f(got[o], want, tol);
    }
    return bad;
}

/* The float32 arithmetic loops at every length around the SIMD block sizes (1, 4, 16
 * floats), for the stride cases that have vector paths (both unit, scalar b, scalar a),
 * in place (out is a or b), a strided operand, and out overlapping a one element off (the
 * sequential loop's result: vector paths must not take it). Each result must equal the
 * float-rounded double result exactly (exact for + - * /: double holds 2 * 24 + 2 bits). */
static float arith_ref(int op, float x, float y)
{
    const double dx = x, dy = y;
    switch (op) {
    case TC_ADD: return (float)(dx + dy);
    case TC_SUBTRACT: return (float)(dx - dy);
    case TC_MULTIPLY: return (float)(dx * dy);
    default: return (float)(dx / dy);
    }
}

static void test_arith_loops(void)
{
    const int ops[4] = {TC_ADD, TC_SUBTRACT, TC_MULTIPLY, TC_DIVIDE};
    const int64_t lengths[] = {1, 3, 4, 5, 15, 16, 17, 31, 33, 71, 1000};
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        const int64_t n = lengths[li];
        float *a = xmalloc(sizeof(float) * (size_t)(2 * n + 1));
        float *b = xmalloc(sizeof(float) * (size_t)n);
        float *out = xmalloc(sizeof(float) * (size_t)n);
        float *want = xmalloc(sizeof(float) * (size_t)(n + 1));
        for (int oi = 0; oi < 4; oi++) {
            const int op = ops[oi];
            /* kind: 0 unit/unit, 1 scalar b, 2 scalar a, 3 in place on a, 4 in place on b,
             * 5 a with stride 2, 6 out = a + 1 (overlapping a one element off) */
            for (int kind = 0; kind < 7; kind++) {
                for (int64_t i = 0; i < 2 * n + 1; i++) {
                    a[i] = (float)rnd();
                }
                for (int64_t i = 0; i < n; i++) {
                    b[i] = (float)rnd() + 2.0f;     /* away from 0: no huge quotients */
                }
                int64_t shape = n, one = 1, zero = 0, two = 2;
                const int64_t *sa = kind == 2 ? &zero : kind == 5 ? &two : &one;
                const int64_t *sb = kind == 1 ? &zero : &one;
                float *o = kind == 3 ? a : kind == 4 ? b : kind == 6 ? a + 1 : out;
                /* the sequential loop's result; for kind 6, o[i] = a[i + 1] is written
                 * before a[i + 1] is read, so each result feeds the next */
                float carry = a[0];
                for (int64_t i = 0; i < n; i++) {
                    const float x = kind == 2 ? a[0] : kind == 5 ? a[2 * i] : kind == 6 ? carry
                                                                                      : a[i];
                    const float y = kind == 1 ? b[0] : b[i];
                    want[i] = arith_ref(op, x, y);
                    carry = want[i];
                }
                const int rc = tc_binary(op, TC_FLOAT32, 1, &shape, o, &one, a, sa, b, sb);
                CHECK(rc == TC_OK, "arith op %d kind %d n %lld rc=%d (%s)", op, kind,
                      (long long)n, rc, tc_last_error());
                int bad = 0;
                for (int64_t i = 0; i < n; i++) {
                    bad += memcmp(&o[i], &want[i], sizeof(float)) != 0;
                }
                CHECK(bad == 0, "arith op %d kind %d n %lld: %d wrong elements", op, kind,
                      (long long)n, bad);
            }
        }
        free(a);
        free(b);
        free(out);
        free(want);
    }
}

/* float32 sums along the last axis (every length around the 8-lane fold) and along the
 * first (row counts around the 4-row sweep, column counts around the vector width)
 * against a double reference. */
static void test_sum_loops(void)
{
    const int64_t sizes[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 100};
    for (size_t ri = 0; ri < sizeof sizes / sizeof sizes[0]; ri++) {
        for (size_t ci = 0; ci < sizeof sizes / sizeof sizes[0]; ci++) {
            const int64_t rows = sizes[ri], cols = sizes[ci];
            float *a = xmalloc(sizeof(float) * (size_t)(rows * cols));
            for (int64_t i = 0; i < rows * cols; i++) {
                a[i] = (float)rnd();
            }
            /* out strides per input axis; the reduced axis gets 0 */
            int64_t shape[2] = {rows, cols}, as[2] = {cols, 1}, ros[2] = {1, 0}, cos_[2] = {0, 1};
            float *row_sums = xmalloc(sizeof(float) * (size_t)rows);
            float *col_sums = xmalloc(sizeof(float) * (size_t)cols);
            int rc = tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 2, shape, 2u, row_sums, ros, a, as,
                               0);
            CHECK(rc == TC_OK, "row sums rc=%d (%s)", rc, tc_last_error());
            rc = tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 2, shape, 1u, col_sums, cos_, a, as, 0);
            CHECK(rc == TC_OK, "column sums rc=%d (%s)", rc, tc_last_error());
            const int bad = wrong_sums(a, rows, cols, cols, 1, row_sums, 1e-6)
                            + wrong_sums(a, cols, rows, 1, cols, col_sums, 1e-6);
            CHECK(bad == 0, "sums of %lldx%lld: %d wrong", (long long)rows, (long long)cols,
                  bad);
            free(a);
            free(row_sums);
            free(col_sums);
        }
    }
}

static void test_unary_where_clip(void)
{
    const int64_t n = 1000;
    double *a = xmalloc(sizeof(double) * n), *out = xmalloc(sizeof(double) * n);
    for (int64_t i = 0; i < n; i++) {
        a[i] = 50.0 * rnd();
    }
    int64_t unit = 1, rev = -1;
    /* read a backwards: out[i] = exp(a[n - 1 - i]) */
    CHECK(tc_unary(TC_EXP, TC_FLOAT64, 1, &n, out, &unit, a + n - 1, &rev) == 0, "exp rc");
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        bad += !close_f(out[i], exp(a[n - 1 - i]), 1e-13);
    }
    CHECK(bad == 0, "exp: %d wrong", bad);
    CHECK(tc_unary(TC_SIGMOID, TC_FLOAT64, 1, &n, out, &unit, a, &unit) == 0, "sigmoid rc");
    bad = 0;
    for (int64_t i = 0; i < n; i++) {
        bad += !(out[i] >= 0.0 && out[i] <= 1.0);
    }
    CHECK(bad == 0, "sigmoid out of [0, 1]: %d", bad);

    int32_t ia[5] = {-3, 0, 4, INT32_MIN + 1, 9}, iout[5];
    int64_t n5 = 5;
    CHECK(tc_unary(TC_NEGATIVE, TC_INT32, 1, &n5, iout, &unit, ia, &unit) == 0, "neg rc");
    CHECK(iout[0] == 3 && iout[1] == 0 && iout[2] == -4 && iout[3] == INT32_MAX &&
          iout[4] == -9, "int32 negative wrong");

    uint8_t cond[5] = {1, 0, 1, 0, 1};
    int32_t ib[1] = {100};
    int64_t zero = 0;
    CHECK(tc_where(TC_INT32, 1, &n5, iout, &unit, cond, &unit, ia, &unit, ib, &zero) == 0,
          "where rc");
    CHECK(iout[0] == -3 && iout[1] == 100 && iout[2] == 4 && iout[3] == 100 && iout[4] == 9,
          "where wrong");
    int32_t lo = -1, hi = 5;
    CHECK(tc_clip(TC_INT32, 1, &n5, iout, &unit, ia, &unit, &lo, &hi) == 0, "clip rc");
    CHECK(iout[0] == -1 && iout[1] == 0 && iout[2] == 4 && iout[3] == -1 && iout[4] == 5,
          "clip wrong");
    CHECK(tc_clip(TC_INT32, 1, &n5, iout, &unit, ia, &unit, NULL, &hi) == 0, "clip hi rc");
    CHECK(iout[0] == -3 && iout[4] == 5, "clip(None, hi) wrong");
    free(a);
    free(out);
}

/* Transposed copies with casts: out (cols x rows, contiguous) = src^T, several sizes
 * around the cache-blocking tile edges. */
static void test_copy(void)
{
    const int64_t sizes[][2] = {{1, 1}, {3, 7}, {64, 64}, {65, 33}, {130, 257}, {0, 5}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t rows = sizes[s][0], cols = sizes[s][1];
        float *src = xmalloc(sizeof(float) * rows * cols);
        double *dst = xmalloc(sizeof(double) * rows * cols);
        int32_t *idst = xmalloc(sizeof(int32_t) * rows * cols);
        for (int64_t i = 0; i < rows * cols; i++) {
            src[i] = (float)(100.0 * rnd());
        }
        int64_t shape[2] = {cols, rows};
        int64_t ss[2] = {1, cols};            /* src viewed transposed */
        int64_t ds[2] = {rows, 1};
        int rc = tc_copy(TC_FLOAT32, TC_FLOAT64, 2, shape, dst, ds, src, ss);
        CHECK(rc == TC_OK, "copy rc=%d", rc);
        rc = tc_copy(TC_FLOAT32, TC_INT32, 2, shape, idst, ds, src, ss);
        CHECK(rc == TC_OK, "copy->int rc=%d", rc);
        int bad = 0;
        for (int64_t c = 0; c < cols; c++) {
            for (int64_t r = 0; r < rows; r++) {
                float v = src[r * cols + c];
                bad += dst[c * rows + r] != (double)v;
                bad += idst[c * rows + r] != (int32_t)v;
            }
        }
        CHECK(bad == 0, "transposed copy %lldx%lld: %d wrong", (long long)rows,
              (long long)cols, bad);
        free(src);
        free(dst);
        free(idst);
    }
    /* bool cast: x != 0 */
    double d[3] = {0.0, -0.5, NAN};
    uint8_t b[3];
    int64_t n3 = 3, unit = 1;
    CHECK(tc_copy(TC_FLOAT64, TC_BOOL, 1, &n3, b, &unit, d, &unit) == 0, "to bool rc");
    CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1, "to bool wrong");
}

static void test_reduce(void)
{
    const int64_t rows = 37, cols = 1029;
    float *a = xmalloc(sizeof(float) * rows * cols);
    for (int64_t i = 0; i < rows * cols; i++) {
        a[i] = (float)rnd();
    }
    int64_t shape[2] = {rows, cols};
    int64_t as[2] = {cols, 1};
    float *sums = xmalloc(sizeof(float) * cols);
    int64_t os[2] = {cols, 1};
    int rc = tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 2, shape, 1u, sums, os, a, as, 0);
    CHECK(rc == TC_OK, "reduce sum rc=%d (%s)", rc, tc_last_error());
    int bad = wrong_sums(a, cols, rows, 1, cols, sums, 1e-5);
    CHECK(bad == 0, "column sums: %d wrong", bad);

    float total[1], maxv[1];
    int64_t os1[2] = {1, 1};
    CHECK(tc_reduce(TC_REDUCE_MAX, TC_FLOAT32, 2, shape, 3u, maxv, os1, a, as, 0) == 0,
          "max rc");
    float want_max = a[0];
    for (int64_t i = 1; i < rows * cols; i++) {
        want_max = a[i] > want_max ? a[i] : want_max;
    }
    CHECK(maxv[0] == want_max, "max %g != %g", maxv[0], want_max);
    CHECK(tc_reduce(TC_REDUCE_VAR, TC_FLOAT32, 2, shape, 3u, total, os1, a, as, 1) == 0,
          "var rc");
    CHECK(total[0] > 0.2f && total[0] < 0.45f, "var of uniform(-1, 1) ~ 1/3, got %g",
          total[0]);

    int64_t arg[37];
    int64_t argos[1] = {1};
    CHECK(tc_argreduce(TC_ARGMAX, TC_FLOAT32, 2, shape, 1, arg, argos, a, as) == 0,
          "argmax rc");
    bad = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t best = 0;
        for (int64_t c = 1; c < cols; c++) {
            best = a[r * cols + c] > a[r * cols + best] ? c : best;
        }
        bad += arg[r] != best;
    }
    CHECK(bad == 0, "argmax: %d wrong", bad);

    int64_t bools_shape[1] = {5};
    uint8_t bools[5] = {1, 0, 1, 1, 0};
    int64_t count[1], unit = 1;
    CHECK(tc_reduce(TC_REDUCE_SUM, TC_BOOL, 1, bools_shape, 1u, count, &unit, bools, &unit,
                    0) == 0, "bool sum rc");
    CHECK(count[0] == 3, "bool sum = %lld", (long long)count[0]);
    free(a);
    free(sums);
}

static void test_matmul(void)
{
    /* batch of 3 (B broadcast over the batch), A read transposed: C[i] = A[i]^T-view @ B */
    const int64_t batch = 3, m = 45, k = 70, n = 33;
    double *a = xmalloc(sizeof(double) * batch * k * m);     /* stored as k x m per batch */
    double *b = xmalloc(sizeof(double) * k * n);
    double *c = xmalloc(sizeof(double) * batch * m * n);
    for (int64_t i = 0; i < batch * k * m; i++) {
        a[i] = rnd();
    }
    for (int64_t i = 0; i < k * n; i++) {
        b[i] = rnd();
    }
    int64_t bshape[1] = {batch}, abs_[1] = {k * m}, bbs[1] = {0}, cbs[1] = {m * n};
    int rc = tc_matmul(TC_FLOAT64, 1, bshape, abs_, bbs, cbs, m, n, k, a, 1, m, b, n, 1, c,
                       n, 1);
    CHECK(rc == TC_OK, "matmul rc=%d (%s)", rc, tc_last_error());
    int bad = 0;
    for (int64_t p = 0; p < batch; p++) {
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j = 0; j < n; j++) {
                double want = 0;
                for (int64_t q = 0; q < k; q++) {
                    want += a[p * k * m + q * m + i] * b[q * n + j];
                }
                bad += !close_f(c[p * m * n + i * n + j], want, 1e-12);
            }
        }
    }
    CHECK(bad == 0, "batched matmul: %d wrong", bad);

    /* K == 0 fills C with zeros; int32 path */
    int32_t ic[4] = {7, 7, 7, 7};
    rc = tc_matmul(TC_INT32, 0, NULL, NULL, NULL, NULL, 2, 2, 0, NULL, 0, 1, NULL, 2, 1, ic, 2,
                   1);
    CHECK(rc == TC_OK && ic[0] == 0 && ic[3] == 0, "K=0 matmul rc=%d c0=%d", rc, ic[0]);
    free(a);
    free(b);
    free(c);
}

static void test_softmax(void)
{
    const int64_t rows = 4, cols = 300;
    float *a = xmalloc(sizeof(float) * rows * cols), *out = xmalloc(sizeof(float) * rows * cols);
    for (int64_t i = 0; i < rows * cols; i++) {
        a[i] = (float)(30.0 * rnd());
    }
    a[0] = 1e30f;        /* large values must not overflow */
    int64_t shape[2] = {rows, cols}, st[2] = {cols, 1};
    CHECK(tc_softmax(TC_FLOAT32, 2, shape, 1, 0, out, st, a, st) == 0, "softmax rc");
    int bad = 0;
    for (int64_t r = 0; r < rows; r++) {
        double total = 0;
        for (int64_t cidx = 0; cidx < cols; cidx++) {
            float v = out[r * cols + cidx];
            bad += !(v >= 0.0f && v <= 1.0f);
            total += v;
        }
        bad += !close_f(total, 1.0, 1e-4);
    }
    CHECK(bad == 0, "softmax rows: %d bad", bad);
    CHECK(tc_softmax(TC_FLOAT32, 2, shape, 0, 1, out, st, a, st) == 0, "log_softmax rc");
    bad = 0;
    for (int64_t i = 0; i < rows * cols; i++) {
        bad += !(out[i] <= 1e-6f);
    }
    CHECK(bad == 0, "log_softmax must be <= 0: %d bad", bad);
    free(a);
    free(out);
}

static void test_scatter_add(void)
{
    double out[4] = {0, 0, 0, 0}, src[5] = {1, 2, 3, 4, 5};
    int64_t index[5] = {0, 3, 0, 2, 3};
    CHECK(tc_scatter_add(TC_FLOAT64, 4, out, 1, 5, index, 1, src, 1) == 0, "scatter rc");
    CHECK(out[0] == 4 && out[1] == 0 && out[2] == 4 && out[3] == 7, "scatter_add wrong");
}

/* Bad arguments: an error status, a non-empty message naming the function, and no write
 * to the output. */
static void expect_error(int rc, const char *fn, const char *what)
{
    const char *message = tc_last_error();
    CHECK(rc < 0, "%s: expected an error status, got %d", what, rc);
    CHECK(message != NULL && strstr(message, fn) != NULL, "%s: tc_last_error() = '%s' lacks '%s'",
          what, message ? message : "(null)", fn);
}

static void test_errors(void)
{
    float a[4] = {1, 2, 3, 4}, out[4] = {9, 9, 9, 9};
    int64_t n4 = 4, unit = 1, neg = -1;
    int64_t shape33[33];
    int64_t strides33[33];
    for (int i = 0; i < 33; i++) {
        shape33[i] = 1;
        strides33[i] = 1;
    }
    expect_error(tc_binary(TC_ADD, 99, 1, &n4, out, &unit, a, &unit, a, &unit), "tc_binary",
                 "bad dtype");
    expect_error(tc_binary(77, TC_FLOAT32, 1, &n4, out, &unit, a, &unit, a, &unit), "tc_binary",
                 "bad op");
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, 33, shape33, out, strides33, a, strides33, a,
                           strides33), "tc_binary", "ndim 33");
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, -1, &n4, out, &unit, a, &unit, a, &unit),
                 "tc_binary", "ndim -1");
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, 1, &neg, out, &unit, a, &unit, a, &unit),
                 "tc_binary", "negative extent");
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, 1, &n4, NULL, &unit, a, &unit, a, &unit),
                 "tc_binary", "NULL out");
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, 1, NULL, out, &unit, a, &unit, a, &unit),
                 "tc_binary", "NULL shape");
    expect_error(tc_binary(TC_DIVIDE, TC_INT32, 1, &n4, out, &unit, a, &unit, a, &unit),
                 "tc_binary", "int divide");
    expect_error(tc_unary(TC_EXP, TC_INT64, 1, &n4, out, &unit, a, &unit), "tc_unary",
                 "exp of int");
    expect_error(tc_unary(TC_NEGATIVE, TC_BOOL, 1, &n4, out, &unit, a, &unit), "tc_unary",
                 "negative of bool");
    expect_error(tc_copy(TC_FLOAT32, 12, 1, &n4, out, &unit, a, &unit), "tc_copy",
                 "copy bad dtype");
    expect_error(tc_copy(TC_FLOAT32, TC_FLOAT32, 1, &n4, out, &unit, NULL, &unit), "tc_copy",
                 "copy NULL src");
    expect_error(tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 1, &n4, 2u, out, &unit, a, &unit, 0),
                 "tc_reduce", "axis mask beyond ndim");
    expect_error(tc_reduce(TC_REDUCE_MEAN, TC_INT32, 1, &n4, 1u, out, &unit, a, &unit, 0),
                 "tc_reduce", "mean of int");
    int64_t zero = 0;
    expect_error(tc_reduce(TC_REDUCE_MAX, TC_FLOAT32, 1, &zero, 1u, out, &unit, a, &unit, 0),
                 "tc_reduce", "max of nothing");
    int64_t arg[1] = {-7};
    expect_error(tc_argreduce(TC_ARGMAX, TC_FLOAT32, 1, &n4, 1, arg, NULL, a, &unit),
                 "tc_argreduce", "axis out of range");
    expect_error(tc_argreduce(5, TC_FLOAT32, 1, &n4, 0, arg, NULL, a, &unit), "tc_argreduce",
                 "bad argreduce op");
    CHECK(arg[0] == -7, "argreduce wrote its output on error");
    expect_error(tc_softmax(TC_INT32, 1, &n4, 0, 0, out, &unit, a, &unit), "tc_softmax",
                 "softmax of int");
    expect_error(tc_softmax(TC_FLOAT32, 1, &n4, 3, 0, out, &unit, a, &unit), "tc_softmax",
                 "softmax axis");
    float c2[4] = {5, 5, 5, 5};
    expect_error(tc_matmul(TC_BOOL, 0, NULL, NULL, NULL, NULL, 2, 2, 2, a, 2, 1, a, 2, 1, c2,
                           2, 1), "tc_matmul", "bool matmul");
    expect_error(tc_matmul(TC_FLOAT32, 0, NULL, NULL, NULL, NULL, -2, 2, 2, a, 2, 1, a, 2, 1,
                           c2, 2, 1), "tc_matmul", "negative m");
    expect_error(tc_matmul(TC_FLOAT32, 65, shape33, strides33, strides33, strides33, 2, 2, 2,
                           a, 2, 1, a, 2, 1, c2, 2, 1), "tc_matmul", "batch_ndim 65");
    expect_error(tc_matmul(TC_FLOAT32, -1, NULL, NULL, NULL, NULL, 2, 2, 2, a, 2, 1, a, 2, 1,
                           c2, 2, 1), "tc_matmul", "batch_ndim -1");
    CHECK(c2[0] == 5 && c2[3] == 5, "matmul wrote C on error");
    expect_error(tc_gemm(TC_FLOAT32, 2, 2, 2, 1.0, NULL, 2, 1, a, 2, 1, 0.0, c2, 2, 1),
                 "tc_gemm", "gemm NULL A");
    double dout[4] = {1, 1, 1, 1}, dsrc[2] = {1, 1};
    int64_t bad_index[2] = {1, 4};
    expect_error(tc_scatter_add(TC_FLOAT64, 4, dout, 1, 2, bad_index, 1, dsrc, 1),
                 "tc_scatter_add", "index out of range");
    CHECK(dout[0] == 1 && dout[1] == 1 && dout[3] == 1, "scatter_add wrote before failing");
    int32_t lo = 0;
    expect_error(tc_clip(TC_BOOL, 1, &n4, out, &unit, a, &unit, &lo, NULL), "tc_clip",
                 "clip of bool");
    int untouched = out[0] == 9 && out[1] == 9 && out[2] == 9 && out[3] == 9;
    CHECK(untouched, "a failing call wrote its output");

    /* zero-size shapes touch no memory, even with NULL data */
    CHECK(tc_binary(TC_ADD, TC_FLOAT32, 1, &zero, NULL, &unit, NULL, &unit, NULL, &unit) == 0,
          "zero-size binary with NULL data must succeed (%s)", tc_last_error());
    CHECK(tc_copy(TC_FLOAT32, TC_INT64, 1, &zero, NULL, &unit, NULL, &unit) == 0,
          "zero-size copy with NULL data must succeed (%s)", tc_last_error());
}

/* Adversarial arguments an embedding tool may pass: NULL pointers where data is needed,
 * extents whose product overflows int64, degenerate geometries. Each call must return an
 * error status naming the function (no crash, no write). */
static void test_adversarial(void)
{
    float f[8] = {1, -2, 3, -4, 5, -6, 7, -8}, g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    float keep[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    int64_t hits = -1, unit = 1;

    /* fused kernels: required arrays NULL */
    expect_error(tc_bias_act(TC_FLOAT32, 2, 4, NULL, f, 0), "tc_bias_act", "NULL out");
    expect_error(tc_bias_act(TC_FLOAT32, 2, 4, keep, NULL, 1), "tc_bias_act", "NULL bias");
    expect_error(tc_relu_backward(TC_FLOAT32, 8, NULL, f, g), "tc_relu_backward", "NULL dx");
    expect_error(tc_relu_backward(TC_FLOAT32, 8, keep, NULL, g), "tc_relu_backward",
                 "NULL dy");
    expect_error(tc_relu_backward(TC_FLOAT32, 8, keep, f, NULL), "tc_relu_backward",
                 "NULL y");
    expect_error(tc_relu_backward_colsum(TC_FLOAT32, 0, 4, NULL, NULL, NULL, NULL),
                 "tc_relu_backward_colsum", "NULL colsum with m=0");
    expect_error(tc_relu_backward_colsum(TC_FLOAT32, 2, 4, keep, f, NULL, g),
                 "tc_relu_backward_colsum", "NULL y");
    expect_error(tc_sgd_update(TC_FLOAT32, 8, NULL, f, NULL, 0.1, 0.0, 0), "tc_sgd_update",
                 "NULL var");
    expect_error(tc_sgd_update(TC_FLOAT32, 8, keep, NULL, NULL, 0.1, 0.0, 0), "tc_sgd_update",
                 "NULL grad");
    expect_error(tc_rmsprop_update(TC_FLOAT32, 8, keep, f, NULL, NULL, NULL, 0.1, 0.9, 0.0,
                                   1e-7), "tc_rmsprop_update", "NULL velocity");
    expect_error(tc_adam_update(TC_FLOAT64, 4, keep, f, g, NULL, 0.1, 0.9, 0.99, 1e-7),
                 "tc_adam_update", "NULL v");
    expect_error(tc_argmax_hits(TC_FLOAT32, 2, 4, NULL, f, &hits), "tc_argmax_hits",
                 "NULL a");
    CHECK(hits == -1, "tc_argmax_hits wrote hits on error");
    expect_error(tc_softmax_xent(TC_FLOAT32, 2, 4, f, g, NULL, NULL, NULL), "tc_softmax_xent",
                 "NULL loss");
    expect_error(tc_softmax_xent(TC_FLOAT32, 2, 4, NULL, g, keep, NULL, NULL),
                 "tc_softmax_xent", "NULL logits");
    expect_error(tc_bias_act(TC_FLOAT32, INT64_MAX / 2, 4, keep, f, 0), "tc_bias_act",
                 "m * n overflows");
    expect_error(tc_softmax_xent(TC_FLOAT32, INT64_MAX / 2, 4, f, g, keep, NULL, NULL),
                 "tc_softmax_xent", "m * n overflows");
    CHECK(memcmp(keep, (float[8]){9, 9, 9, 9, 9, 9, 9, 9}, sizeof keep) == 0,
          "a failing fused call wrote its output");

    /* convolution / pooling gradients with an empty output and no dx buffer */
    int64_t geom[TC_CONV_GEOM_LEN] = {0};
    geom[TC_CG_N] = 1; geom[TC_CG_H] = 2; geom[TC_CG_W] = 2; geom[TC_CG_C] = 1;
    geom[TC_CG_KH] = 1; geom[TC_CG_KW] = 1; geom[TC_CG_O] = 1; geom[TC_CG_OH] = 0;
    geom[TC_CG_OW] = 2; geom[TC_CG_SH] = 1; geom[TC_CG_SW] = 1; geom[TC_CG_DH] = 1;
    geom[TC_CG_DW] = 1; geom[TC_CG_GROUPS] = 1;
    expect_error(tc_conv2d_grad_input(TC_FLOAT32, geom, NULL, NULL, NULL),
                 "tc_conv2d_grad_input", "OH=0 with NULL dx");
    expect_error(tc_pool2d_grad(TC_POOL_AVG, TC_FLOAT32, geom, NULL, NULL, NULL),
                 "tc_pool2d_grad", "OH=0 with NULL dx");
    float dx[4] = {7, 7, 7, 7};
    CHECK(tc_conv2d_grad_input(TC_FLOAT32, geom, NULL, f, dx) == TC_OK
          && dx[0] == 0 && dx[3] == 0, "OH=0 conv input gradient must be zeros (%s)",
          tc_last_error());
    /* geometries whose sizes or index arithmetic overflow int64 */
    geom[TC_CG_OH] = 2;
    geom[TC_CG_H] = INT64_C(1) << 40;
    geom[TC_CG_W] = INT64_C(1) << 40;
    expect_error(tc_conv2d(TC_FLOAT32, geom, f, f, keep), "tc_conv2d", "N*H*W*C overflows");
    geom[TC_CG_H] = 2; geom[TC_CG_W] = 2;
    geom[TC_CG_SH] = INT64_C(1) << 62;
    expect_error(tc_conv2d(TC_FLOAT32, geom, f, f, keep), "tc_conv2d", "OH*SH overflows");
    geom[TC_CG_SH] = 1;
    geom[TC_CG_PT] = INT64_MAX;
    expect_error(tc_conv2d(TC_FLOAT32, geom, f, f, keep), "tc_conv2d", "padding overflows");
    geom[TC_CG_PT] = 0;
    geom[TC_CG_KH] = INT64_C(1) << 33; geom[TC_CG_KW] = INT64_C(1) << 33;
    expect_error(tc_conv2d_grad_filter(TC_FLOAT32, geom, f, f, keep),
                 "tc_conv2d_grad_filter", "KH*KW*C*O overflows");

    /* extents whose product overflows int64 (wrapped to 0 or a small count before) */
    int64_t huge2[2] = {INT64_C(1) << 32, INT64_C(1) << 32};
    int64_t zero2[2] = {0, 0};
    expect_error(tc_binary(TC_ADD, TC_FLOAT32, 2, huge2, keep, zero2, f, zero2, f, zero2),
                 "tc_binary", "shape product overflows");
    expect_error(tc_unary(TC_EXP, TC_FLOAT32, 2, huge2, keep, zero2, f, zero2), "tc_unary",
                 "shape product overflows");
    expect_error(tc_copy(TC_FLOAT32, TC_FLOAT32, 2, huge2, keep, zero2, f, zero2), "tc_copy",
                 "shape product overflows");
    expect_error(tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 2, huge2, 1u, keep, zero2, f, zero2, 0),
                 "tc_reduce", "shape product overflows");
    int64_t big_with_zero[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 0};
    int64_t zero3[3] = {0, 0, 0};
    /* as NumPy: a zero extent does not excuse the others (a reduction over the last dim
     * would have 2^80 outputs) */
    expect_error(tc_reduce(TC_REDUCE_SUM, TC_FLOAT32, 3, big_with_zero, 4u, keep, zero3, f,
                           zero3, 0), "tc_reduce", "kept extents overflow");
    int64_t empty_ok[3] = {INT64_C(1) << 20, INT64_C(1) << 20, 0};
    CHECK(tc_reduce(TC_REDUCE_MAX, TC_FLOAT32, 3, empty_ok, 1u, keep, zero3, f, zero3, 0)
          == TC_OK && keep[0] == 9, "(2^20, 2^20, 0) max over dim 0 is empty (%s)",
          tc_last_error());
    expect_error(tc_matmul(TC_FLOAT32, 2, huge2, zero2, zero2, zero2, 2, 2, 2, f, 2, 1, f, 2,
                           1, keep, 2, 1), "tc_matmul", "batch count overflows");
    expect_error(tc_gemm(TC_INT32, 2, 2, 2, NAN, f, 2, 1, f, 2, 1, 0.0, keep, 2, 1),
                 "tc_gemm", "integer GEMM with alpha NaN");
    expect_error(tc_gemm(TC_INT64, 2, 2, 2, 1.0, f, 2, 1, f, 2, 1, 1e300, keep, 2, 1),
                 "tc_gemm", "integer GEMM with beta out of int64 range");
    expect_error(tc_gemm(TC_INT64, 2, 2, 2, 0.5, f, 2, 1, f, 2, 1, 0.0, keep, 2, 1),
                 "tc_gemm", "integer GEMM with a fractional alpha");
    CHECK(memcmp(keep, (float[8]){9, 9, 9, 9, 9, 9, 9, 9}, sizeof keep) == 0,
          "a failing call wrote its output");

    /* sort / cumsum / nonzero */
    int64_t idx[8];
    expect_error(tc_sort(TC_FLOAT32, INT64_C(1) << 40, INT64_C(1) << 40, f, NULL, idx, 0),
                 "tc_sort", "rows * n overflows");
    expect_error(tc_cumsum(TC_FLOAT32, INT64_C(1) << 32, INT64_C(1) << 32, 2, f, keep),
                 "tc_cumsum", "outer * n * inner overflows");
    uint8_t mask[4] = {1, 0, 1, 0};
    int64_t n4 = 4;
    expect_error(tc_nonzero(1, NULL, mask, 2, idx), "tc_nonzero", "NULL shape");
    expect_error(tc_nonzero(1, &n4, NULL, 2, idx), "tc_nonzero", "NULL mask");
    expect_error(tc_nonzero(1, &n4, mask, 2, NULL), "tc_nonzero", "NULL out");
    expect_error(tc_nonzero(2, huge2, mask, 2, idx), "tc_nonzero", "size overflows");
    CHECK(tc_nonzero(1, &n4, mask, 2, idx) == TC_OK && idx[0] == 0 && idx[1] == 2,
          "nonzero of [1 0 1 0] (%s)", tc_last_error());
    (void)unit;
}

int main(void)
{
    printf("tensorcore %s, simd %s, gemm %s\n", tc_version(), tc_simd_level(),
           tc_gemm_kernel_name(TC_FLOAT32));
    CHECK(tc_get_num_threads() >= 1, "tc_get_num_threads() = %d", tc_get_num_threads());
    tc_set_num_threads(2);
    CHECK(tc_get_num_threads() == 2, "set/get threads");
    test_binary();
    test_arith_loops();
    test_sum_loops();
    test_unary_where_clip();
    test_copy();
    test_reduce();
    test_matmul();
    test_softmax();
    test_scatter_add();
    test_errors();
    test_adversarial();
    tc_set_num_threads(1);
    test_matmul();
    test_reduce();
    printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
