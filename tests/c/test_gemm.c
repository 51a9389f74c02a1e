/* Standalone test of tc_gemm / tc_matmul against a naive triple loop.
 *
 * Build (from the repo root):
 *   gcc -O2 -std=c11 -pthread -Icsrc csrc/gemm*.c csrc/cpu.c csrc/threads.c csrc/error.c \
 *       tests/c/test_gemm.c -lm -o test_gemm
 * Run without TENSORCORE_SIMD / TENSORCORE_GEMM_ISA set, it re-runs itself once per SIMD
 * level the CPU has (generic, avx2, avx512; a level above the CPU's is skipped: it would
 * rerun the one below), then with the GEMM kernel family alone forced below the SIMD level
 * (TENSORCORE_GEMM_ISA=generic: SIMD packing feeding the portable kernel; avx2 on an
 * AVX-512 CPU). With either variable set, it tests that configuration only. Exit status
 * is nonzero when any check fails.
 *
 * Every operand lives in a malloc'd buffer exactly as large as its strides need, so a
 * read or write outside the matrix lands outside the allocation (run under ASan or
 * valgrind to catch it); C's buffer gaps (padded layouts) are checked to be untouched,
 * and beta == 0 runs with C full of NaN. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tensorcore.h"

static int g_failures;
static int g_checks;
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int64_t rng_int(int64_t lo, int64_t hi) { return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1)); }

static int esize_of(int dtype) { return (dtype == TC_FLOAT32 || dtype == TC_INT32) ? 4 : 8; }

/* ---- strided operands ------------------------------------------------------------- */
enum {
    L_ROW, L_COL, L_ROW_PAD, L_NEG_ROW, L_NEG_BOTH, L_GENERAL, L_ZERO_ROW, L_ZERO_COL,
    L_COUNT, L_C_COUNT = L_ZERO_ROW /* C never has zero strides */
};
static const char *layout_name[L_COUNT] = {
    "row", "col", "rowpad", "negrow", "negboth", "general", "zerorow", "zerocol"};

typedef struct {
    int dtype;
    int64_t rows, cols, rs, cs;
    char *buf;          /* allocation */
    int64_t len;        /* elements in buf */
    char *base;         /* element (0, 0) */
} mat;

static void mat_make(mat *x, int dtype, int64_t rows, int64_t cols, int layout)
{
    int64_t rs = 1, cs = 1;
    switch (layout) {
    case L_ROW: rs = cols; cs = 1; break;
    case L_COL: rs = 1; cs = rows; break;
    case L_ROW_PAD: rs = cols + 3; cs = 1; break;
    case L_NEG_ROW: rs = -cols; cs = 1; break;
    case L_NEG_BOTH: rs = -1; cs = -rows; break;
    case L_GENERAL: rs = 2; cs = 2 * rows + 1; break;
    case L_ZERO_ROW: rs = 0; cs = 1; break;
    case L_ZERO_COL: rs = 1; cs = 0; break;
    }
    int64_t lo = 0, hi = 0;
    if (rows > 0 && cols > 0) {
        lo = (rs < 0 ? rs * (rows - 1) : 0) + (cs < 0 ? cs * (cols - 1) : 0);
        hi = (rs > 0 ? rs * (rows - 1) : 0) + (cs > 0 ? cs * (cols - 1) : 0);
    }
    x->dtype = dtype;
    x->rows = rows;
    x->cols = cols;
    x->rs = rs;
    x->cs = cs;
    x->len = (rows > 0 && cols > 0) ? hi - lo + 1 : 0;
    const int es = esize_of(dtype);
    x->buf = malloc((size_t)(x->len > 0 ? x->len : 1) * es);
    x->base = x->len > 0 ? x->buf - lo * es : NULL;
}

static double mat_get(const mat *x, int64_t i, int64_t j)
{
    const int64_t o = i * x->rs + j * x->cs;
    switch (x->dtype) {
    case TC_FLOAT32: return ((const float *)x->base)[o];
    case TC_FLOAT64: return ((const double *)x->base)[o];
    case TC_INT32: return ((const int32_t *)x->base)[o];
    default: return (double)((const int64_t *)x->base)[o];
    }
}

static void buf_set(mat *x, int64_t t, double v)
{
    switch (x->dtype) {
    case TC_FLOAT32: ((float *)x->buf)[t] = (float)v; break;
    case TC_FLOAT64: ((double *)x->buf)[t] = v; break;
    case TC_INT32: ((int32_t *)x->buf)[t] = (int32_t)v; break;
    default: ((int64_t *)x->buf)[t] = (int64_t)v; break;
    }
}

/* Fills the whole buffer (gaps included): small ints for int dtypes, NaN when nan=1. */
static void mat_fill(mat *x, int nan)
{
    const int is_int = x->dtype == TC_INT32 || x->dtype == TC_INT64;
    for (int64_t t = 0; t < x->len; ++t) {
        double v;
        if (is_int)
            v = nan ? 12345 : (double)rng_int(-4, 4);
        else
            v = nan ? NAN : (double)(rng_next() % 20001) / 10000.0 - 1.0;
        buf_set(x, t, v);
    }
}

static void fail(const char *what)
{
    ++g_failures;
    if (g_failures <= 20)
        fprintf(stderr, "FAIL %s\n", what);
}

/* Runs one GEMM and checks it against a naive loop (and that C's gaps are untouched). */
static void check_gemm(int dtype, int64_t m, int64_t n, int64_t k, double alpha, double beta,
                       int la, int lb, int lc)
{
    mat a, b, c;
    mat_make(&a, dtype, m, k, la);
    mat_make(&b, dtype, k, n, lb);
    mat_make(&c, dtype, m, n, lc);
    mat_fill(&a, 0);
    mat_fill(&b, 0);
    mat_fill(&c, beta == 0.0);
    const int es = esize_of(dtype);
    char *c0 = malloc((size_t)(c.len > 0 ? c.len : 1) * es);
    if (c.len > 0)
        memcpy(c0, c.buf, (size_t)c.len * es);
    mat c_before = c;
    c_before.buf = c0;
    c_before.base = c.base ? c0 + (c.base - c.buf) : NULL;

    const int st = tc_gemm(dtype, m, n, k, alpha, a.base, a.rs, a.cs, b.base, b.rs, b.cs, beta,
                           c.base, c.rs, c.cs);
    char msg[256];
    snprintf(msg, sizeof msg, "dtype=%d m=%lld n=%lld k=%lld alpha=%g beta=%g A=%s B=%s C=%s",
             dtype, (long long)m, (long long)n, (long long)k, alpha, beta, layout_name[la],
             layout_name[lb], layout_name[lc]);
    ++g_checks;
    if (st != TC_OK) {
        fprintf(stderr, "status %d: %s\n", st, tc_last_error());
        fail(msg);
        goto done;
    }
    const int is_int = dtype == TC_INT32 || dtype == TC_INT64;
    const double tol = dtype == TC_FLOAT32 ? 2e-6 : 1e-14;
    char *covered = calloc((size_t)(c.len > 0 ? c.len : 1), 1);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double ref = 0.0, mag = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const double t = mat_get(&a, i, p) * mat_get(&b, p, j);
                ref += t;
                mag += fabs(t);
            }
            ref *= alpha;
            mag *= fabs(alpha);
            if (beta != 0.0) {
                const double old = mat_get(&c_before, i, j);
                ref += beta * old;
                mag += fabs(beta * old);
            }
            const double got = mat_get(&c, i, j);
            const int ok = is_int ? got == ref : fabs(got - ref) <= tol * (mag + 1.0) * (k + 4);
            if (!ok) {
                fprintf(stderr, "  C[%lld,%lld] got %.9g want %.9g\n", (long long)i, (long long)j,
                        got, ref);
                fail(msg);
                free(covered);
                goto done;
            }
            covered[(c.base - c.buf) / es + i * c.rs + j * c.cs] = 1;
        }
    for (int64_t t = 0; t < c.len; ++t)
        if (!covered[t] && memcmp(c.buf + t * es, c0 + t * es, (size_t)es) != 0) {
            fprintf(stderr, "  buffer gap %lld of C was written\n", (long long)t);
            fail(msg);
            break;
        }
    free(covered);
done:
    free(c0);
    free(a.buf);
    free(b.buf);
    free(c.buf);
}

/* ---- test groups -------------------------------------------------------------------- */
static const int dtypes[4] = {TC_FLOAT32, TC_FLOAT64, TC_INT32, TC_INT64};

/* Every stride pattern on shapes that cross the micro-tile edges of every kernel. */
static void test_layouts(void)
{
    const int64_t shapes[][3] = {
        {33, 13, 17}, {17, 31, 40}, {50, 7, 33}, {7, 50, 29}, {64, 24, 20}, {1, 40, 300},
        {40, 1, 300}, {45, 46, 1},
    };
    for (int d = 0; d < 4; ++d)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
            for (int la = 0; la < L_COUNT; ++la)
                for (int lb = 0; lb < L_COUNT; ++lb) {
                    const int lc = (la + 2 * lb + (int)s) % L_C_COUNT;
                    check_gemm(dtypes[d], shapes[s][0], shapes[s][1], shapes[s][2], 1.0, 0.0,
                               la, lb, lc);
                }
    for (int d = 0; d < 4; ++d)
        for (int lc = 0; lc < L_C_COUNT; ++lc)
            check_gemm(dtypes[d], 37, 29, 41, 2.0, 1.0, lc % 3, (lc + 1) % 3, lc);
}

/* Sizes around MR, NR, KC, MC of all kernels, with alpha/beta variants. */
static void test_edges(void)
{
    const int64_t ms[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 95, 97, 383, 385};
    const int64_t ns[] = {1, 3, 4, 5, 6, 7, 11, 12, 13, 25, 37};
    const int64_t ks[] = {1, 2, 9, 255, 256, 257, 383, 384, 385, 769};
    const double ab[][2] = {{1.0, 0.0}, {-0.5, 0.0}, {1.0, 1.0}, {2.0, -1.5}, {1.0, 0.5}};
    for (int d = 0; d < 2; ++d)
        for (int rep = 0; rep < 120; ++rep) {
            const int64_t m = ms[rng_int(0, sizeof ms / sizeof ms[0] - 1)];
            const int64_t n = ns[rng_int(0, sizeof ns / sizeof ns[0] - 1)];
            const int64_t k = ks[rng_int(0, sizeof ks / sizeof ks[0] - 1)];
            const int t = (int)rng_int(0, 4);
            const int la = (int)rng_int(0, 4), lb = (int)rng_int(0, 4);
            const int lc = (int)rng_int(0, L_C_COUNT - 1);
            check_gemm(dtypes[d], m, n, k, ab[t][0], ab[t][1], la, lb, lc);
        }
    /* larger blocks: several MC / KC blocks and both C orientations */
    for (int d = 0; d < 2; ++d) {
        check_gemm(dtypes[d], 401, 130, 800, 1.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 130, 401, 800, 1.0, 0.5, L_COL, L_ROW, L_COL);
        check_gemm(dtypes[d], 777, 50, 130, 1.0, 0.0, L_ROW, L_COL, L_ROW);
        check_gemm(dtypes[d], 50, 777, 130, 1.0, 0.0, L_COL, L_COL, L_GENERAL);
        check_gemm(dtypes[d], 3, 4300, 9, 1.0, 0.0, L_ROW, L_ROW, L_ROW);   /* > NC */
        check_gemm(dtypes[d], 4300, 3, 9, 1.0, 1.0, L_ROW, L_ROW, L_COL);
        check_gemm(dtypes[d], 40, 2100, 20, 1.0, 0.0, L_ROW, L_NEG_ROW, L_COL);
    }
    /* every narrow last B panel width (N % NR = 1..5 for NR = 4, 6, 12) under full-height
     * tiles of a unit-stride C, odd and even k, beta zero and not; both C orientations */
    for (int d = 0; d < 2; ++d)
        for (int64_t nn = 1; nn <= 11; ++nn)
            for (int t = 0; t < 4; ++t) {
                const int64_t k = t == 0 ? 1 : t == 1 ? 9 : t == 2 ? 256 : 257;
                const double beta = t % 2 ? 0.5 : 0.0;
                check_gemm(dtypes[d], 64, 24 + nn, k, 1.5, beta, L_ROW, L_COL, L_COL);
                check_gemm(dtypes[d], 24 + nn, 64, k, 1.0, beta, L_COL, L_ROW, L_ROW);
            }
    for (int d = 2; d < 4; ++d) {
        check_gemm(dtypes[d], 130, 70, 90, 1.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 70, 130, 90, 3.0, 2.0, L_COL, L_NEG_BOTH, L_ROW_PAD);
    }
}

/* m, n or k == 0 and alpha == 0. */
static void test_degenerate(void)
{
    for (int d = 0; d < 4; ++d) {
        check_gemm(dtypes[d], 0, 5, 7, 1.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 5, 0, 7, 1.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 5, 7, 0, 1.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 5, 7, 0, 1.0, 2.0, L_ROW, L_ROW, L_COL);
        check_gemm(dtypes[d], 40, 40, 40, 0.0, 0.0, L_ROW, L_ROW, L_ROW);
        check_gemm(dtypes[d], 40, 40, 40, 0.0, -1.0, L_ROW, L_ROW, L_ROW_PAD);
    }
    /* k == 0 with NULL A and B; m == 0 with everything NULL */
    float c[6];
    for (int i = 0; i < 6; ++i)
        c[i] = NAN;
    ++g_checks;
    if (tc_gemm(TC_FLOAT32, 2, 3, 0, 1.0, NULL, 0, 0, NULL, 0, 0, 0.0, c, 3, 1) != TC_OK)
        fail("k == 0 with NULL A/B");
    for (int i = 0; i < 6; ++i)
        if (c[i] != 0.0f)
            fail("k == 0, beta == 0 must zero C");
    ++g_checks;
    if (tc_gemm(TC_FLOAT64, 0, 0, 5, 1.0, NULL, 0, 0, NULL, 0, 0, 0.0, NULL, 0, 0) != TC_OK)
        fail("m == n == 0 with NULL pointers");
}

static void test_errors(void)
{
    float x[4] = {0};
    struct { int st; const char *what; } cases[] = {
        {tc_gemm(TC_BOOL, 2, 2, 2, 1, x, 2, 1, x, 2, 1, 0, x, 2, 1), "bool dtype"},
        {tc_gemm(99, 2, 2, 2, 1, x, 2, 1, x, 2, 1, 0, x, 2, 1), "dtype 99"},
        {tc_gemm(TC_FLOAT32, -1, 2, 2, 1, x, 2, 1, x, 2, 1, 0, x, 2, 1), "negative m"},
        {tc_gemm(TC_FLOAT32, 2, 2, -3, 1, x, 2, 1, x, 2, 1, 0, x, 2, 1), "negative k"},
        {tc_gemm(TC_FLOAT32, 2, 2, 2, 1, NULL, 2, 1, x, 2, 1, 0, x, 2, 1), "NULL A"},
        {tc_gemm(TC_FLOAT32, 2, 2, 2, 1, x, 2, 1, NULL, 2, 1, 0, x, 2, 1), "NULL B"},
        {tc_gemm(TC_FLOAT32, 2, 2, 2, 1, x, 2, 1, x, 2, 1, 0, NULL, 2, 1), "NULL C"},
        {tc_matmul(TC_FLOAT32, -1, NULL, NULL, NULL, NULL, 2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1),
         "negative batch_ndim"},
        {tc_matmul(TC_FLOAT32, 1, NULL, NULL, NULL, NULL, 2, 2, 2, x, 2, 1, x, 2, 1, x, 2, 1),
         "NULL batch shape"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        ++g_checks;
        if (cases[i].st != TC_ERR_INVALID) {
            fprintf(stderr, "  status %d\n", cases[i].st);
            fail(cases[i].what);
        } else if (strncmp(tc_last_error(), "tc_", 3) != 0) {
            fprintf(stderr, "  message '%s'\n", tc_last_error());
            fail(cases[i].what);
        }
    }
}

/* Batched matmul with a broadcast (zero batch stride) A and transposed B. */
static void test_matmul(void)
{
    const int64_t shapes[][3] = {{5, 6, 7}, {40, 33, 70}, {3, 1, 2}, {150, 140, 130}};
    for (int d = 0; d < 4; ++d)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
            const int dtype = dtypes[d], es = esize_of(dtype);
            const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            const int64_t bshape[2] = {3, 4};
            mat a, b, c;
            mat_make(&a, dtype, m, k, L_ROW);             /* one A, broadcast over batch */
            mat_make(&b, dtype, 12 * n, k, L_ROW);        /* 12 B^T stacked: B_i = rows^T */
            mat_make(&c, dtype, 12 * m, n, L_ROW);
            mat_fill(&a, 0);
            mat_fill(&b, 0);
            mat_fill(&c, 1);
            const int64_t a_bs[2] = {0, 0}, b_bs[2] = {4 * n * k, n * k};
            const int64_t c_bs[2] = {4 * m * n, m * n};
            ++g_checks;
            const int st = tc_matmul(dtype, 2, bshape, a_bs, b_bs, c_bs, m, n, k, a.base, k, 1,
                                     b.base, 1, k, c.base, n, 1);
            char msg[128];
            snprintf(msg, sizeof msg, "tc_matmul dtype=%d m=%lld n=%lld k=%lld", dtype,
                     (long long)m, (long long)n, (long long)k);
            if (st != TC_OK) {
                fail(msg);
            } else {
                int bad = 0;
                for (int64_t t = 0; t < 12 && !bad; ++t)
                    for (int64_t i = 0; i < m && !bad; ++i)
                        for (int64_t j = 0; j < n && !bad; ++j) {
                            double ref = 0.0, mag = 0.0;
                            for (int64_t p = 0; p < k; ++p) {
                                const double v = mat_get(&a, i, p) * mat_get(&b, t * n + j, p);
                                ref += v;
                                mag += fabs(v);
                            }
                            const double got = mat_get(&c, t * m + i, j);
                            const double tol = dtype == TC_FLOAT32 ? 2e-6 : 1e-14;
                            if (fabs(got - ref) > tol * (mag + 1.0) * (k + 4)) {
                                fprintf(stderr, "  batch %lld C[%lld,%lld] got %g want %g\n",
                                        (long long)t, (long long)i, (long long)j, got, ref);
                                bad = 1;
                            }
                        }
                if (bad)
                    fail(msg);
            }
            (void)es;
            free(a.buf);
            free(b.buf);
            free(c.buf);
        }
}

static int run_all(void)
{
    const char *level = tc_simd_level();
    const char *want = getenv("TENSORCORE_SIMD");
    if (want != NULL && getenv("TENSORCORE_GEMM_ISA") == NULL && strcmp(want, level) != 0) {
        printf("test_gemm: level=%s skipped (the CPU or build stops at %s)\n", want, level);
        return 0;
    }
    const char *isa = getenv("TENSORCORE_GEMM_ISA");
    if (isa != NULL)
        printf("test_gemm: gemm_isa=%s\n", isa);
    printf("test_gemm: level=%s kernels: %s | %s | %s | %s\n", level,
           tc_gemm_kernel_name(TC_FLOAT32), tc_gemm_kernel_name(TC_FLOAT64),
           tc_gemm_kernel_name(TC_INT32), tc_gemm_kernel_name(TC_INT64));
    const int threads[2] = {1, 2};
    for (int t = 0; t < 2; ++t) {
        tc_set_num_threads(threads[t]);
        test_layouts();
        test_edges();
        test_degenerate();
        test_errors();
        test_matmul();
    }
    printf("test_gemm: level=%s: %d checks, %d failures\n", level, g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}

/* Runs this binary again with environment variable `name` set to `value`; 0 on success. */
static int rerun(char **argv, const char *name, const char *value)
{
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        setenv(name, value, 1);
        execv("/proc/self/exe", argv);
        perror("execv");
        _exit(2);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "test_gemm: %s=%s FAILED\n", name, value);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (getenv("TENSORCORE_SIMD") != NULL || getenv("TENSORCORE_GEMM_ISA") != NULL)
        return run_all();
    /* Re-run this binary once per level so every kernel is tested on this machine. */
    const char *levels[3] = {"generic", "avx2", "avx512"};
    int status_all = 0;
    for (int i = 0; i < 3; ++i)
        status_all |= rerun(argv, "TENSORCORE_SIMD", levels[i]);
    /* The GEMM-only switch below the SIMD level: the packing still takes its SIMD paths. */
    const char *hw = tc_simd_level();
    if (strcmp(hw, "generic") != 0)
        status_all |= rerun(argv, "TENSORCORE_GEMM_ISA", "generic");
    if (strcmp(hw, "avx512") == 0)
        status_all |= rerun(argv, "TENSORCORE_GEMM_ISA", "avx2");
    printf("test_gemm: %s\n", status_all ? "FAILED" : "all levels passed");
    return status_all;
}
