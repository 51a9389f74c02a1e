/* Convolution (im2col tiles into the packed GEMM) and pooling, channels-last.
 *
 * Forward: the output is a matrix of M = N*OH*OW rows by O columns. It is cut into row
 * tiles of at most TC_CONV_TILE_BYTES of im2col data (row r, column (kh*KW + kw)*Cg + c =
 * x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, g*Cg + c], 0 outside); for each tile (in
 * parallel) the thread writes the tile's im2col rows straight into packed GEMM B panels in
 * its own scratch buffer and multiplies them by W_g^T, packed once per call (see "forward"
 * below). 1x1 stride-1 unpadded convolutions pack x itself. With the AVX2 float32 kernel
 * the micro-kernel reads B from x's window rows instead (no packed B; "window-row path").
 *
 * Input gradient: stride 1, one group, float32 AVX2: the forward window-row path on dy
 * with the flipped kernel (tc_conv_grad_input_rows). Otherwise per image (in parallel;
 * images never share dx), per row tile:
 * dcol = dy_tile @ W_g^T, then col2im adds dcol into dx (positions outside are dropped).
 * Filter gradient: the row tiles are split into P pieces (P <= threads); piece p
 * accumulates col_tile^T @ dy_tile into its own K x O buffer (piece 0 into dw itself) and
 * the buffers are summed at the end in piece order, so results do not depend on timing.
 * With the AVX2 float32 kernel (O a multiple of 16, KW * C of 6) a piece reads dy and x's
 * window rows directly instead of building col tiles and packing them.
 *
 * Pooling: one image per work item; the channel vector of each position is contiguous, so
 * the inner loops run over channels (vectorized by the compiler). Max pooling records the
 * argmax position per output element and its gradient routes dy there only. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"
#include "tc_internal.h"

#ifdef TC_GEMM_HAVE_X86_KERNELS
#include <immintrin.h>
#endif

/* Bytes of im2col data per tile (and per thread): fits the 512 KiB L2 with the GEMM's own
 * packed A block beside it. */
#define TC_CONV_TILE_BYTES ((int64_t)192 << 10)
#define TC_CONV_TILE_MAX_ROWS 4096
#define TC_CONV_TILE_MIN_ROWS 32
/* Minimum input elements per pooling work item. */
#define TC_POOL_CHUNK_ELEMS 32768
/* Window-row forward path (float32 AVX2): shortest window row (KW * C values) it takes
 * (one thread, 64 images: 3x3 with C = 2..64 ran 17-30% faster than the packed path, C = 1
 * (runs of 3) 2-3% slower), and the most kernel rows. */
#define TC_CONV_ROWS_MIN_RUN 6
#define TC_CONV_ROWS_MAX_KH 16

typedef struct tc_conv_geom {
    int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, dh, dw, groups;
    int64_t cg, og, k;           /* channels per group (in, out), im2col columns */
} tc_conv_geom;

/* One spatial dim: the farthest input position a window reaches, (out - 1) * stride +
 * (k - 1) * dilation, and the padding, each times `scale`, within TC_MAX_ELEMENTS (all
 * arguments >= 0, stride/k/dilation/scale >= 1). A stride only matters with out >= 2. */
static int tc_conv_reach_ok(int64_t out, int64_t stride, int64_t k, int64_t dilation,
                            int64_t pad, int64_t scale)
{
    int64_t step, span, reach;
    if (out == 0)
        return tc_mul_count(pad, scale, &reach);
    return tc_mul_count(out - 1, stride, &step) && tc_mul_count(k - 1, dilation, &span) &&
           step <= TC_MAX_ELEMENTS - span && tc_mul_count(step + span, scale, &reach) &&
           tc_mul_count(pad, scale, &reach);
}

static int tc_conv_read_geom(const char *who, const int64_t *p, int pooling, tc_conv_geom *g)
{
    if (p == NULL)
        return tc_set_error("%s: geometry is NULL", who);
    *g = (tc_conv_geom){
        .n = p[TC_CG_N], .h = p[TC_CG_H], .w = p[TC_CG_W], .c = p[TC_CG_C],
        .kh = p[TC_CG_KH], .kw = p[TC_CG_KW], .o = p[TC_CG_O], .oh = p[TC_CG_OH],
        .ow = p[TC_CG_OW], .sh = p[TC_CG_SH], .sw = p[TC_CG_SW], .pt = p[TC_CG_PT],
        .pl = p[TC_CG_PL], .dh = p[TC_CG_DH], .dw = p[TC_CG_DW], .groups = p[TC_CG_GROUPS],
    };
    if (g->n < 0 || g->h < 1 || g->w < 1 || g->c < 1 || g->kh < 1 || g->kw < 1 ||
        g->o < 1 || g->oh < 0 || g->ow < 0 || g->sh < 1 || g->sw < 1 || g->pt < 0 ||
        g->pl < 0 || g->dh < 1 || g->dw < 1 || g->groups < 1)
        return tc_set_error("%s: invalid geometry (sizes, strides and dilations must be "
                            "positive, padding non-negative)", who);
    if (g->c % g->groups || g->o % g->groups)
        return tc_set_error("%s: %lld input / %lld output channels are not divisible by "
                            "groups=%lld", who, (long long)g->c, (long long)g->o,
                            (long long)g->groups);
    /* Array sizes, and the input positions the kernels compute (oh*sh - pt + kh*dh, ...,
     * times C for the row offsets of the window-row paths), must fit in int64: with
     * wrapped arithmetic a bounds check could pass for the wrong position. */
    const int64_t xdims[4] = {g->n, g->h, g->w, g->c}, ydims[4] = {g->n, g->oh, g->ow, g->o};
    const int64_t wdims[4] = {g->kh, g->kw, g->c / g->groups, g->o};
    int64_t count;
    if (!tc_count_product(4, xdims, &count) || !tc_count_product(4, ydims, &count) ||
        !tc_count_product(4, wdims, &count) ||
        !tc_conv_reach_ok(g->oh, g->sh, g->kh, g->dh, g->pt, 1) ||
        !tc_conv_reach_ok(g->ow, g->sw, g->kw, g->dw, g->pl, g->c))
        return tc_set_error("%s: geometry too large (array sizes, padding or window "
                            "positions beyond %lld elements)", who,
                            (long long)TC_MAX_ELEMENTS);
    if (pooling && (g->o != g->c || g->groups != 1 || g->dh != 1 || g->dw != 1))
        return tc_set_error("%s: pooling needs O == C, groups 1 and dilation 1", who);
    if (pooling && g->h * g->w > INT32_MAX)
        return tc_set_error("%s: %lld x %lld positions overflow the int32 argmax", who,
                            (long long)g->h, (long long)g->w);
    g->cg = g->c / g->groups;
    g->og = g->o / g->groups;
    g->k = g->kh * g->kw * g->cg;
    return TC_OK;
}

static int tc_conv_check(const char *who, int dtype, const int64_t *geom, int pooling,
                         const void *p0, const void *p1, const void *p2, tc_conv_geom *g)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64)
        return tc_set_error("%s: dtype %d is not float32 or float64", who, dtype);
    const int st = tc_conv_read_geom(who, geom, pooling, g);
    if (st != TC_OK)
        return st;
    if (g->n > 0 && g->oh > 0 && g->ow > 0 && (p0 == NULL || p1 == NULL || p2 == NULL))
        return tc_set_error("%s: NULL array", who);
    return TC_OK;
}

/* A 1x1, stride-1, unpadded, ungrouped convolution: x is already the im2col matrix. */
static int tc_conv_is_pointwise(const tc_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
           g->pl == 0 && g->oh == g->h && g->ow == g->w && g->groups == 1;
}

/* Copies `count` elements of es bytes (4 or 8) as words: the compiler vectorizes it, and
 * it avoids a memcpy call per (often 1-channel) segment. */
static inline void tc_copy_words(char *dst, const char *src, int64_t count, int es)
{
    if (es == 4) {
        uint32_t *d = (uint32_t *)(void *)dst;
        const uint32_t *s = (const uint32_t *)(const void *)src;
        for (int64_t i = 0; i < count; ++i)
            d[i] = s[i];
    } else {
        uint64_t *d = (uint64_t *)(void *)dst;
        const uint64_t *s = (const uint64_t *)(const void *)src;
        for (int64_t i = 0; i < count; ++i)
            d[i] = s[i];
    }
}

/* im2col of output rows [r0, r1) (global row index (n*OH + oh)*OW + ow), group gi. */
static void tc_im2col(const tc_conv_geom *g, int es, const char *x, int64_t r0, int64_t r1,
                      int64_t gi, char *col)
{
    const int64_t seg = g->cg * es, c0 = gi * g->cg;
    const int64_t per_image = g->oh * g->ow;
    /* one group, no column dilation: a window row is one contiguous run of x */
    const int whole_rows = g->groups == 1 && g->dw == 1;
    char *dst = col;
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / per_image, rem = r - n * per_image;
        const int64_t oh = rem / g->ow, ow = rem - oh * g->ow;
        const int64_t ih0 = oh * g->sh - g->pt, iw0 = ow * g->sw - g->pl;
        const char *image = x + n * g->h * g->w * g->c * es;
        for (int64_t kh = 0; kh < g->kh; ++kh) {
            const int64_t ih = ih0 + kh * g->dh;
            if (ih < 0 || ih >= g->h) {
                memset(dst, 0, (size_t)(g->kw * seg));
                dst += g->kw * seg;
                continue;
            }
            const char *row = image + ih * g->w * g->c * es;
            if (whole_rows && iw0 >= 0 && iw0 + g->kw <= g->w) {
                /* the KW positions are adjacent in x: one copy of KW * C values */
                tc_copy_words(dst, row + iw0 * g->c * es, g->kw * g->c, es);
                dst += g->kw * seg;
                continue;
            }
            for (int64_t kw = 0; kw < g->kw; ++kw, dst += seg) {
                const int64_t iw = iw0 + kw * g->dw;
                if (iw < 0 || iw >= g->w)
                    memset(dst, 0, (size_t)seg);
                else
                    tc_copy_words(dst, row + (iw * g->c + c0) * es, g->cg, es);
            }
        }
    }
}

/* col2im: adds the dcol rows [r0, r1) of group gi into dx (positions outside dropped). */
#define TC_COL2IM_DEFINE(T, SUF)                                                          \
    static void tc_col2im_##SUF(const tc_conv_geom *g, const T *col, int64_t r0,         \
                                int64_t r1, int64_t gi, T *x)                            \
    {                                                                                    \
        const int64_t per_image = g->oh * g->ow, c0 = gi * g->cg, cg = g->cg;            \
        const T *src = col;                                                              \
        for (int64_t r = r0; r < r1; ++r) {                                              \
            const int64_t n = r / per_image, rem = r - n * per_image;                    \
            const int64_t oh = rem / g->ow, ow = rem - oh * g->ow;                       \
            const int64_t ih0 = oh * g->sh - g->pt, iw0 = ow * g->sw - g->pl;            \
            T *image = x + n * g->h * g->w * g->c;                                       \
            for (int64_t kh = 0; kh < g->kh; ++kh) {                                     \
                const int64_t ih = ih0 + kh * g->dh;                                     \
                if (ih < 0 || ih >= g->h) {                                              \
                    src += g->kw * cg;                                                   \
                    continue;                                                            \
                }                                                                        \
                T *row = image + ih * g->w * g->c;                                       \
                for (int64_t kw = 0; kw < g->kw; ++kw, src += cg) {                      \
                    const int64_t iw = iw0 + kw * g->dw;                                 \
                    if (iw < 0 || iw >= g->w)                                            \
                        continue;                                                        \
                    T *d = row + iw * g->c + c0;                                         \
                    for (int64_t c = 0; c < cg; ++c)                                     \
                        d[c] += src[c];                                                  \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    }
TC_COL2IM_DEFINE(float, f32)
TC_COL2IM_DEFINE(double, f64)

typedef struct tc_conv_job {
    tc_conv_geom g;
    const tc_gemm_kernel *kern;
    int es;
    const char *x, *w, *dy;
    char *y;                    /* forward output, or dx / dw */
    char **acc;                 /* filter gradient: one K x O buffer per piece */
    char *wpack;                /* forward: W^T of every group in MR micro-panels */
    int64_t kc_step;            /* forward: K block of the micro-kernel calls */
    int rows_path;              /* forward / filter gradient: B read from x's window rows
                                   (float32 AVX2) */
    int64_t tile_rows, ntiles, pieces;
    atomic_int status;
} tc_conv_job;

static void tc_conv_fail(tc_conv_job *job, int st)
{
    int expected = TC_OK;
    atomic_compare_exchange_strong(&job->status, &expected, st);
}

/* Rows per im2col tile: within TC_CONV_TILE_BYTES, and small enough to give every thread
 * a few tiles of a large problem; a multiple of the micro-kernel's tile edge `unit` when
 * that is at least TC_CONV_TILE_MIN_ROWS, so the GEMM of a tile has no edge micro-tiles
 * (a 3x3x64 tile of 85 rows computed 15 six-column micro-tiles for 84 + 1 rows). */
static int64_t tc_conv_tile_rows(const tc_conv_geom *g, int es, int64_t rows, int unit)
{
    int64_t t = TC_CONV_TILE_BYTES / (g->k * es);
    if (t > TC_CONV_TILE_MAX_ROWS)
        t = TC_CONV_TILE_MAX_ROWS;
    const int64_t share = (rows + 4 * tc_get_num_threads() - 1) / (4 * tc_get_num_threads());
    if (t > share)
        t = share;
    if (t / unit * unit >= TC_CONV_TILE_MIN_ROWS)
        t = t / unit * unit;
    if (t < TC_CONV_TILE_MIN_ROWS)
        t = TC_CONV_TILE_MIN_ROWS;
    return t;
}

static char *tc_conv_scratch(tc_conv_job *job, int64_t rows)
{
    if (tc_conv_is_pointwise(&job->g))
        return NULL;
    char *col = tc_gemm_scratch(2, (size_t)(rows * job->g.k * job->es));
    if (col == NULL)
        tc_conv_fail(job, TC_ERR_NOMEM);
    return col;
}

/* The A matrix of tile t, group gi: its im2col rows built in col, or x itself for a
 * pointwise convolution (row stride tc_conv_lda). Sets the tile's rows [*r0, *r1). */
static const char *tc_conv_tile(const tc_conv_job *job, int64_t t, int64_t gi, char *col,
                                int64_t *r0, int64_t *r1)
{
    const tc_conv_geom *g = &job->g;
    const int64_t m = g->n * g->oh * g->ow;
    *r0 = t * job->tile_rows;
    *r1 = *r0 + job->tile_rows < m ? *r0 + job->tile_rows : m;
    if (tc_conv_is_pointwise(g))
        return job->x + *r0 * g->c * job->es;
    tc_im2col(g, job->es, job->x, *r0, *r1, gi, col);
    return col;
}

static int64_t tc_conv_lda(const tc_conv_geom *g)
{
    return tc_conv_is_pointwise(g) ? g->c : g->k;
}

/* ---- forward: W packed once, im2col written straight into the packed B panels ---------
 *
 * C^T (O x rows of a tile) = W^T (O x K) @ col^T (K x rows): the output channels run along
 * the micro-kernel's M (unit stride in y: y[r * O + o]), the output positions along N. W^T
 * of every group is packed into MR-tall micro-panels once per call (job->wpack, all of K:
 * panel ip of group gi at ((gi * mpanels + ip) * MR * K) elements, its K block pc at
 * + pc * MR). Each tile's im2col rows go straight into NR-wide B micro-panels (all of K,
 * panel jp at jp * NR * K) without an intermediate im2col tile: when a panel's positions
 * lie in one output row and their windows inside the input, each window row (KW * C
 * contiguous values per position, positions sw * C apart in x) is one transposing pack from
 * x; otherwise (padding, a panel across output rows, groups, dilation) the panel's at most
 * NR im2col rows are built in a small buffer (NR * K values, L1-sized for usual K) and
 * packed from there. */

typedef union tc_conv_scalar {
    float f;
    double d;
} tc_conv_scalar;

/* Packs output rows [q0, q0 + h) (h <= NR) of group gi into one B micro-panel of all K. */
static void tc_conv_pack_b(const tc_conv_job *job, int64_t q0, int h, int64_t gi, char *dst,
                           char *rows)
{
    const tc_conv_geom *g = &job->g;
    const int es = job->es, nr = job->kern->nr;
    if (tc_conv_is_pointwise(g)) {
        tc_gemm_pack(es, nr, h, g->c, job->x + q0 * g->c * es, g->c, 1, dst);
        return;
    }
    const int64_t per_image = g->oh * g->ow;
    const int64_t n = q0 / per_image, rem = q0 - n * per_image;
    const int64_t oh = rem / g->ow, ow0 = rem - oh * g->ow;
    const int64_t iw0 = ow0 * g->sw - g->pl, iw_last = (ow0 + h - 1) * g->sw - g->pl;
    if (g->groups == 1 && g->dw == 1 && ow0 + h <= g->ow && iw0 >= 0 &&
        iw_last + g->kw <= g->w) {
        const int64_t run = g->kw * g->c;               /* one window row of one position */
        for (int64_t kh = 0; kh < g->kh; ++kh) {
            char *d = dst + kh * run * nr * es;
            const int64_t ih = oh * g->sh - g->pt + kh * g->dh;
            if (ih < 0 || ih >= g->h)
                memset(d, 0, (size_t)(run * nr * es));
            else
                tc_gemm_pack(es, nr, h, run, job->x + ((n * g->h + ih) * g->w + iw0) * g->c * es,
                             g->sw * g->c, 1, d);
        }
        return;
    }
    tc_im2col(g, es, job->x, q0, q0 + h, gi, rows);
    tc_gemm_pack(es, nr, h, g->k, rows, g->k, 1, dst);
}

/* Adds (accumulate) or writes the mr_now x nr_now corner of a micro-tile t (element (i, j)
 * at t[i + j * mr]) into c (element (i, j) at c[i + j * ldc]). */
static void tc_conv_merge(int es, const char *t, int mr, int mr_now, int nr_now, char *c,
                          int64_t ldc, int accumulate)
{
    for (int j = 0; j < nr_now; ++j) {
        if (es == 4) {
            const float *s = (const float *)(const void *)t + j * mr;
            float *d = (float *)(void *)c + j * ldc;
            for (int i = 0; i < mr_now; ++i)
                d[i] = accumulate ? d[i] + s[i] : s[i];
        } else {
            const double *s = (const double *)(const void *)t + j * mr;
            double *d = (double *)(void *)c + j * ldc;
            for (int i = 0; i < mr_now; ++i)
                d[i] = accumulate ? d[i] + s[i] : s[i];
        }
    }
}

/* C (m x n, element (i, j) at c[i + j * ldc]) = A @ B from packed operands of all K:
 * A in ceil(m / MR) panels of MR x k, B in ceil(n / NR) panels of NR x k. Loops K blocks
 * (kc_step) outside, then MC-row blocks of A (L2), then B micro-panels (L1), then A
 * micro-panels, as the packed GEMM does. */
static void tc_conv_gemm_packed(const tc_gemm_kernel *kern, int64_t m, int64_t n, int64_t k,
                                int64_t kc_step, const char *apack, const char *bpack, char *c,
                                int64_t ldc)
{
    const int mr = kern->mr, nr = kern->nr, es = kern->esize;
    tc_conv_scalar one_v, zero = {.d = 0.0};
    if (es == 4)
        one_v.f = 1.0f;
    else
        one_v.d = 1.0;
    _Alignas(64) unsigned char tile[2048];
    const int64_t mc_step = (int64_t)kern->mc / mr * mr;
    for (int64_t pc = 0; pc < k; pc += kc_step) {
        const int64_t kc = k - pc < kc_step ? k - pc : kc_step;
        const tc_conv_scalar *beta = pc == 0 ? &zero : &one_v;
        for (int64_t ic = 0; ic < m; ic += mc_step) {
            const int64_t mc = m - ic < mc_step ? m - ic : mc_step;
            for (int64_t jr = 0; jr < n; jr += nr) {
                const int nr_now = n - jr < nr ? (int)(n - jr) : nr;
                const char *b = bpack + (jr * k + pc * nr) * es;
                for (int64_t ir = ic; ir < ic + mc; ir += mr) {
                    const int mr_now = ic + mc - ir < mr ? (int)(ic + mc - ir) : mr;
                    const char *a = apack + (ir * k + pc * mr) * es;
                    char *cij = c + (ir + jr * ldc) * es;
                    if (mr_now == mr && nr_now == nr) {
                        kern->ukr(kc, &one_v, a, b, beta, cij, ldc);
                        continue;
                    }
                    kern->ukr(kc, &one_v, a, b, &zero, tile, mr);
                    tc_conv_merge(es, (const char *)tile, mr, mr_now, nr_now, cij, ldc,
                                  pc != 0);
                }
            }
        }
    }
}

/* ---- forward, float32 AVX2: B read from x's window rows (no packed B) -----------------
 *
 * With one group, no column dilation and the AVX2 16x6 kernel, the K values of an im2col
 * row are KH window rows of KW * C contiguous values each, and a window row that needs no
 * horizontal padding IS a run of x. The micro-kernel below takes, for each of its NR = 6
 * positions and each window row kh, a pointer to that run (x itself; a zero run for a
 * row outside the image or a missing position; a run built in a small per-thread buffer
 * when the window crosses the left or right edge) and broadcasts B straight from them, so
 * neither the transposing B pack nor im2col runs (the pack was ~11% of the forward). A is
 * W^T packed once per call, as for the packed path; window rows that are outside the
 * image for all six positions are skipped with their slice of A. Each output element is
 * one sum over the non-skipped k in increasing order, accumulated in registers. */

#ifdef TC_GEMM_HAVE_X86_KERNELS
enum { TC_CONV_RMR = 16, TC_CONV_RNR = 6 };

/* C[0:16, 0:6] (element (i, j) at c[i + j * ldc]) = sum over segments s of
 * A_s (16 x run, element (i, p) at a[aoff[s] + p * 16 + i]) @ B_s (run x 6, element (p, j)
 * at b[s * 6 + j][p]). C is written, not read. */
__attribute__((target("avx2,fma"))) static void
tc_conv_ukr_rows_f32(int nseg, int64_t run, const float *a, const int64_t *aoff,
                     const float *const *b, float *c, int64_t ldc)
{
    __m256 acc[TC_CONV_RNR][2];
#pragma GCC unroll 6
    for (int j = 0; j < TC_CONV_RNR; ++j) {
        acc[j][0] = _mm256_setzero_ps();
        acc[j][1] = _mm256_setzero_ps();
    }
    for (int s = 0; s < nseg; ++s) {
        const float *ap = a + aoff[s];
        const float *const *bs = b + TC_CONV_RNR * s;
        for (int64_t p = 0; p < run; ++p, ap += TC_CONV_RMR) {
            const __m256 a0 = _mm256_loadu_ps(ap), a1 = _mm256_loadu_ps(ap + 8);
            _mm_prefetch((const char *)(ap + 8 * TC_CONV_RMR), _MM_HINT_T0);
#pragma GCC unroll 6
            for (int j = 0; j < TC_CONV_RNR; ++j) {
                const __m256 bj = _mm256_broadcast_ss(bs[j] + p);
                acc[j][0] = _mm256_fmadd_ps(a0, bj, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(a1, bj, acc[j][1]);
            }
        }
    }
#pragma GCC unroll 6
    for (int j = 0; j < TC_CONV_RNR; ++j) {
        _mm256_storeu_ps(c + j * ldc, acc[j][0]);
        _mm256_storeu_ps(c + j * ldc + 8, acc[j][1]);
    }
}

/* True when the forward pass of job reads B from x's window rows (see above). */
static int tc_conv_rows_path(const tc_conv_job *job)
{
    const tc_conv_geom *g = &job->g;
    return job->es == 4 && job->kern->ukr == tc_gemm_kernel_avx2_f32.ukr &&
           job->kern->mr == TC_CONV_RMR && job->kern->nr == TC_CONV_RNR && g->groups == 1 &&
           g->dw == 1 && !tc_conv_is_pointwise(g) && g->kw * g->c >= TC_CONV_ROWS_MIN_RUN &&
           g->kh <= TC_CONV_ROWS_MAX_KH;
}

/* TENSORCORE_CONV_ROWS=0 turns the window-row path off (the packed path runs instead):
 * for A/B timing and for tests that compare the two paths. Read once. */
static int tc_conv_rows_disabled(void)
{
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        const char *env = getenv("TENSORCORE_CONV_ROWS");
        v = env != NULL && env[0] == '0' && env[1] == '\0';
        atomic_store(&cached, v);
    }
    return v;
}

/* Window row kh of the position with image n, output row oh and first input column
 * iw0 = ow * sw - pl: a pointer into x when the row is inside the image, `zero` (a run of
 * zeros) when it is outside, else (the window crosses the left or right edge) a copy with
 * zeros for the columns outside, built in `edge` (room for one run of KW * C values). */
static const float *tc_conv_window_row(const tc_conv_geom *g, const float *x, int64_t n,
                                       int64_t oh, int64_t iw0, int64_t kh,
                                       const float *zero, float *edge)
{
    const int64_t ih = oh * g->sh - g->pt + kh * g->dh;
    if (ih < 0 || ih >= g->h)
        return zero;
    const float *row = x + (n * g->h + ih) * g->w * g->c;
    if (iw0 >= 0 && iw0 + g->kw <= g->w)
        return row + iw0 * g->c;
    for (int64_t kw = 0; kw < g->kw; ++kw) {
        const int64_t iw = iw0 + kw;
        if (iw < 0 || iw >= g->w)
            memset(edge + kw * g->c, 0, (size_t)g->c * sizeof(float));
        else
            memcpy(edge + kw * g->c, row + iw * g->c, (size_t)g->c * sizeof(float));
    }
    return edge;
}

/* Image, output row and first input column of output row r (global index). */
static void tc_conv_position(const tc_conv_geom *g, int64_t r, int64_t *n, int64_t *oh,
                             int64_t *iw0)
{
    const int64_t per_image = g->oh * g->ow, rem = r % per_image;
    *n = r / per_image;
    *oh = rem / g->ow;
    *iw0 = (rem - *oh * g->ow) * g->sw - g->pl;
}

/* The window-row pointers of output rows [q0, q0 + h) (h <= 6): for each kh that is inside
 * the image for at least one position, aoff[s] = kh * run * 16 and b[6 s + j] = position
 * j's run (zero: a run of zeros, also for missing positions; edge: room for 6 * KH runs).
 * Returns the number of segments s. */
static int tc_conv_panel_rows(const tc_conv_geom *g, const float *x, int64_t q0, int h,
                              const float *zero, float *edge, int64_t *aoff, const float **b)
{
    const int64_t run = g->kw * g->c;
    int64_t n[TC_CONV_RNR], oh[TC_CONV_RNR], iw0[TC_CONV_RNR];
    for (int j = 0; j < h; ++j)
        tc_conv_position(g, q0 + j, &n[j], &oh[j], &iw0[j]);
    int nseg = 0;
    for (int64_t kh = 0; kh < g->kh; ++kh) {
        const float **bs = b + TC_CONV_RNR * nseg;
        int inside = 0;
        for (int j = 0; j < TC_CONV_RNR; ++j) {
            bs[j] = j < h ? tc_conv_window_row(g, x, n[j], oh[j], iw0[j], kh, zero,
                                               edge + (j * g->kh + kh) * run)
                          : zero;
            inside |= bs[j] != zero;
        }
        if (inside)
            aoff[nseg++] = kh * run * TC_CONV_RMR;
    }
    return nseg;
}

/* Forward tiles [t0, t1) on the window-row path. */
static void tc_conv_forward_rows_range(tc_conv_job *job, int64_t t0, int64_t t1)
{
    const tc_conv_geom *g = &job->g;
    const int64_t m = g->n * g->oh * g->ow, run = g->kw * g->c;
    const int64_t mpanels = (g->o + TC_CONV_RMR - 1) / TC_CONV_RMR;
    /* a zero run, then 6 * KH edge runs */
    float *zero = tc_gemm_scratch(2, (size_t)((1 + TC_CONV_RNR * g->kh) * run) * sizeof(float));
    if (zero == NULL) {
        tc_conv_fail(job, TC_ERR_NOMEM);
        return;
    }
    memset(zero, 0, (size_t)run * sizeof(float));
    float *edge = zero + run;
    int64_t aoff[TC_CONV_ROWS_MAX_KH];
    const float *b[TC_CONV_RNR * TC_CONV_ROWS_MAX_KH];
    _Alignas(64) float tile[TC_CONV_RMR * TC_CONV_RNR];
    const float *x = (const float *)(const void *)job->x;
    const float *wpack = (const float *)(const void *)job->wpack;
    float *y = (float *)(void *)job->y;
    const int64_t r_end = t1 * job->tile_rows < m ? t1 * job->tile_rows : m;
    for (int64_t q0 = t0 * job->tile_rows; q0 < r_end; q0 += TC_CONV_RNR) {
        const int h = r_end - q0 < TC_CONV_RNR ? (int)(r_end - q0) : TC_CONV_RNR;
        const int nseg = tc_conv_panel_rows(g, x, q0, h, zero, edge, aoff, b);
        for (int64_t ip = 0; ip < mpanels; ++ip) {
            const int mr_now = g->o - ip * TC_CONV_RMR < TC_CONV_RMR
                               ? (int)(g->o - ip * TC_CONV_RMR) : TC_CONV_RMR;
            float *c = y + q0 * g->o + ip * TC_CONV_RMR;
            const float *a = wpack + ip * TC_CONV_RMR * g->k;
            if (mr_now == TC_CONV_RMR && h == TC_CONV_RNR) {
                tc_conv_ukr_rows_f32(nseg, run, a, aoff, b, c, g->o);
                continue;
            }
            tc_conv_ukr_rows_f32(nseg, run, a, aoff, b, tile, TC_CONV_RMR);
            tc_conv_merge(4, (const char *)tile, TC_CONV_RMR, mr_now, h, (char *)c, g->o, 0);
        }
    }
}

/* ---- filter gradient, float32 AVX2: A from dy, B from x's window rows -----------------
 *
 * dW (K x O, element (k, o) at dw[k * O + o]) = sum over output rows r of
 * col[r, k] * dy[r, o]. A 16 x 6 micro-tile holds 16 output channels (a 16-float run of a
 * dy row: no packing) by 6 consecutive k of one window row (6 floats of x, reached through
 * the row's window-row pointer, as in the forward), summed over the rows of a tile. Needs
 * O a multiple of 16 and KW * C a multiple of 6, so every micro-tile is whole. */

/* C[0:16, 0:6] (element (i, j) at c[i + j * ldc]) (+)= sum over p < rows of
 * dy[p * ldy + i] * xr[p][kofs + j]. */
__attribute__((target("avx2,fma"))) static void
tc_conv_ukr_wgrad_f32(int64_t rows, const float *dy, int64_t ldy, const float *const *xr,
                      int64_t kofs, int accumulate, float *c, int64_t ldc)
{
    __m256 acc[TC_CONV_RNR][2];
#pragma GCC unroll 6
    for (int j = 0; j < TC_CONV_RNR; ++j) {
        acc[j][0] = _mm256_setzero_ps();
        acc[j][1] = _mm256_setzero_ps();
    }
    for (int64_t p = 0; p < rows; ++p, dy += ldy) {
        const __m256 a0 = _mm256_loadu_ps(dy), a1 = _mm256_loadu_ps(dy + 8);
        const float *bp = xr[p] + kofs;
#pragma GCC unroll 6
        for (int j = 0; j < TC_CONV_RNR; ++j) {
            const __m256 bj = _mm256_broadcast_ss(bp + j);
            acc[j][0] = _mm256_fmadd_ps(a0, bj, acc[j][0]);
            acc[j][1] = _mm256_fmadd_ps(a1, bj, acc[j][1]);
        }
    }
#pragma GCC unroll 6
    for (int j = 0; j < TC_CONV_RNR; ++j) {
        float *cj = c + j * ldc;
        if (accumulate) {
            acc[j][0] = _mm256_add_ps(acc[j][0], _mm256_loadu_ps(cj));
            acc[j][1] = _mm256_add_ps(acc[j][1], _mm256_loadu_ps(cj + 8));
        }
        _mm256_storeu_ps(cj, acc[j][0]);
        _mm256_storeu_ps(cj + 8, acc[j][1]);
    }
}

/* True when the filter gradient of job runs on the window-row path. */
static int tc_conv_wgrad_rows_path(const tc_conv_job *job)
{
    const tc_conv_geom *g = &job->g;
    return tc_conv_rows_path(job) && g->o % TC_CONV_RMR == 0 &&
           g->kw * g->c % TC_CONV_RNR == 0;
}

/* Filter gradient of pieces [p0, p1) on the window-row path: piece p sums its tiles into
 * job->acc[p] (written by its first tile). Per tile: the window-row pointers of its rows
 * (edge copies in a tile-sized buffer), then every (kh, 6 k, 16 o) micro-tile over them. */
static void tc_conv_grad_filter_rows_range(tc_conv_job *job, int64_t p0, int64_t p1)
{
    const tc_conv_geom *g = &job->g;
    const int64_t m = g->n * g->oh * g->ow, run = g->kw * g->c, rows = job->tile_rows;
    /* a zero run, rows * KH edge runs, then rows * KH pointers */
    const size_t floats = (size_t)((1 + rows * g->kh) * run);
    float *zero = tc_gemm_scratch(2, (floats + 1) * sizeof(float) +
                                     (size_t)(rows * g->kh) * sizeof(float *));
    if (zero == NULL) {
        tc_conv_fail(job, TC_ERR_NOMEM);
        return;
    }
    memset(zero, 0, (size_t)run * sizeof(float));
    float *edge = zero + run;
    const float **tab = (const float **)(void *)(zero + ((floats + 1) & ~(size_t)1));
    const float *x = (const float *)(const void *)job->x;
    const float *dy = (const float *)(const void *)job->dy;
    for (int64_t p = p0; p < p1; ++p) {
        const int64_t t0 = p * job->ntiles / job->pieces;
        const int64_t t1 = (p + 1) * job->ntiles / job->pieces;
        float *dw = (float *)(void *)job->acc[p];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t r0 = t * rows, r1 = r0 + rows < m ? r0 + rows : m;
            for (int64_t r = r0; r < r1; ++r) {
                int64_t n, oh, iw0;
                tc_conv_position(g, r, &n, &oh, &iw0);
                for (int64_t kh = 0; kh < g->kh; ++kh)
                    tab[kh * rows + (r - r0)] = tc_conv_window_row(
                        g, x, n, oh, iw0, kh, zero, edge + ((r - r0) * g->kh + kh) * run);
            }
            for (int64_t kh = 0; kh < g->kh; ++kh)
                for (int64_t k0 = 0; k0 < run; k0 += TC_CONV_RNR)
                    for (int64_t o0 = 0; o0 < g->o; o0 += TC_CONV_RMR)
                        tc_conv_ukr_wgrad_f32(r1 - r0, dy + r0 * g->o + o0, g->o,
                                              tab + kh * rows, k0, t != t0,
                                              dw + (kh * run + k0) * g->o + o0, g->o);
        }
    }
}
#endif

static void tc_conv_forward_range(void *ctx, int64_t t0, int64_t t1)
{
    tc_conv_job *job = ctx;
#ifdef TC_GEMM_HAVE_X86_KERNELS
    if (job->rows_path) {
        tc_conv_forward_rows_range(job, t0, t1);
        return;
    }
#endif
    const tc_conv_geom *g = &job->g;
    const int es = job->es, mr = job->kern->mr, nr = job->kern->nr;
    const int64_t m = g->n * g->oh * g->ow;
    const int64_t panels = (job->tile_rows + nr - 1) / nr;
    const int64_t mpanels = (g->og + mr - 1) / mr;
    char *bpack = tc_gemm_scratch(2, (size_t)((panels + 1) * nr * g->k * es));
    if (bpack == NULL) {
        tc_conv_fail(job, TC_ERR_NOMEM);
        return;
    }
    char *rows = bpack + panels * nr * g->k * es;     /* NR im2col rows of one panel */
    for (int64_t t = t0; t < t1; ++t) {
        const int64_t r0 = t * job->tile_rows;
        const int64_t r1 = r0 + job->tile_rows < m ? r0 + job->tile_rows : m;
        for (int64_t gi = 0; gi < g->groups; ++gi) {
            for (int64_t q0 = r0, jp = 0; q0 < r1; q0 += nr, ++jp)
                tc_conv_pack_b(job, q0, r1 - q0 < nr ? (int)(r1 - q0) : nr, gi,
                               bpack + jp * nr * g->k * es, rows);
            tc_conv_gemm_packed(job->kern, g->og, r1 - r0, g->k, job->kc_step,
                                job->wpack + gi * mpanels * mr * g->k * es, bpack,
                                job->y + (r0 * g->o + gi * g->og) * es, g->o);
        }
    }
}

static void tc_conv_grad_input_range(void *ctx, int64_t n0, int64_t n1)
{
    tc_conv_job *job = ctx;
    const tc_conv_geom *g = &job->g;
    const int es = job->es;
    const int64_t per_image = g->oh * g->ow;
    const int pointwise = tc_conv_is_pointwise(g);
    char *col = tc_conv_scratch(job, job->tile_rows);
    if (col == NULL && !pointwise)
        return;
    for (int64_t n = n0; n < n1; ++n) {
        char *dx = job->y + n * g->h * g->w * g->c * es;
        if (!pointwise)
            memset(dx, 0, (size_t)(g->h * g->w * g->c * es));
        for (int64_t r0 = n * per_image; r0 < (n + 1) * per_image; r0 += job->tile_rows) {
            const int64_t r1 = r0 + job->tile_rows < (n + 1) * per_image
                               ? r0 + job->tile_rows : (n + 1) * per_image;
            for (int64_t gi = 0; gi < g->groups; ++gi) {
                /* dcol (rows x K) = dy[rows, group] (rows x Og) @ W_g^T (Og x K) */
                char *c = pointwise ? job->y + r0 * g->c * es : col;
                const int st = tc_gemm_packed(job->kern, r1 - r0, g->k, g->og, 1.0,
                                              job->dy + (r0 * g->o + gi * g->og) * es, g->o, 1,
                                              job->w + gi * g->og * es, 1, g->o, 0.0,
                                              c, pointwise ? g->c : g->k, 1, 0);
                if (st != TC_OK) {
                    tc_conv_fail(job, st);
                    return;
                }
                if (pointwise)
                    continue;
                if (es == 4)
                    tc_col2im_f32(g, (const float *)(const void *)col, r0, r1, gi,
                                  (float *)(void *)job->y);
                else
                    tc_col2im_f64(g, (const double *)(const void *)col, r0, r1, gi,
                                  (double *)(void *)job->y);
            }
        }
    }
}

static void tc_conv_grad_filter_range(void *ctx, int64_t p0, int64_t p1)
{
    tc_conv_job *job = ctx;
#ifdef TC_GEMM_HAVE_X86_KERNELS
    if (job->rows_path) {
        tc_conv_grad_filter_rows_range(job, p0, p1);
        return;
    }
#endif
    const tc_conv_geom *g = &job->g;
    const int es = job->es;
    char *col = tc_conv_scratch(job, job->tile_rows);
    if (col == NULL && !tc_conv_is_pointwise(g))
        return;
    for (int64_t p = p0; p < p1; ++p) {
        const int64_t t0 = p * job->ntiles / job->pieces;
        const int64_t t1 = (p + 1) * job->ntiles / job->pieces;
        for (int64_t t = t0; t < t1; ++t)
            for (int64_t gi = 0; gi < g->groups; ++gi) {
                int64_t r0, r1;
                const char *a = tc_conv_tile(job, t, gi, col, &r0, &r1);
                /* dW_g (K x Og) (+)= col^T (K x rows) @ dy[rows, group] (rows x Og) */
                const int st = tc_gemm_packed(job->kern, g->k, g->og, r1 - r0, 1.0, a, 1,
                                              tc_conv_lda(g),
                                              job->dy + (r0 * g->o + gi * g->og) * es, g->o,
                                              1, t == t0 ? 0.0 : 1.0,
                                              job->acc[p] + gi * g->og * es, g->o, 1, 0);
                if (st != TC_OK) {
                    tc_conv_fail(job, st);
                    return;
                }
            }
    }
}

static int tc_conv_finish(const char *who, tc_conv_job *job)
{
    const int st = atomic_load(&job->status);
    if (st == TC_ERR_NOMEM) {
        tc_set_error("%s: out of memory for the im2col tile", who);
        return TC_ERR_NOMEM;
    }
    if (st != TC_OK)
        return tc_set_error("%s: GEMM failed with status %d (internal error)", who, st);
    return TC_OK;
}

static void tc_conv_job_init(tc_conv_job *job, int dtype, const tc_conv_geom *g)
{
    memset(job, 0, sizeof *job);
    job->g = *g;
    job->kern = tc_gemm_select_kernel(dtype);
    job->es = (int)tc_dtype_size(dtype);
    atomic_init(&job->status, TC_OK);
}

/* The forward pass y = conv(x, w) on checked geometry g with N * OH * OW > 0 rows. */
static int tc_conv_forward(const char *who, int dtype, const tc_conv_geom *gp, const void *x,
                           const void *w, void *y)
{
    const tc_conv_geom g = *gp;
    const int64_t m = g.n * g.oh * g.ow;
    tc_conv_job job;
    tc_conv_job_init(&job, dtype, &g);
    job.x = x;
    job.y = y;
    const int mr = job.kern->mr, es = job.es;
    if (job.kern->mr * job.kern->nr * es > 2048)
        return tc_set_error("%s: micro-tile of %s too large (internal error)", who,
                            job.kern->name);
    /* K blocks: the fewest of at most KC, of nearly equal size (a multiple of 8). */
    const int64_t kblocks = (g.k + job.kern->kc - 1) / job.kern->kc;
    job.kc_step = ((g.k + kblocks - 1) / kblocks + 7) / 8 * 8;
    /* W^T of each group (Og x K, element (o, k) at w[k * O + gi * Og + o]) packed once. */
    const int64_t mpanels = (g.og + mr - 1) / mr;
    const size_t wbytes = (size_t)(g.groups * mpanels * mr * g.k * es);
    job.wpack = aligned_alloc(64, (wbytes + 63) & ~(size_t)63);
    if (job.wpack == NULL)
        return tc_set_error("%s: out of memory for the packed kernel (%zu bytes)", who,
                            wbytes);
    for (int64_t gi = 0; gi < g.groups; ++gi)
        tc_gemm_pack(es, mr, g.og, g.k, (const char *)w + gi * g.og * es, 1, g.o,
                     job.wpack + gi * mpanels * mr * g.k * es);
    job.tile_rows = tc_conv_tile_rows(&g, job.es, m, job.kern->nr);
    job.ntiles = (m + job.tile_rows - 1) / job.tile_rows;
#ifdef TC_GEMM_HAVE_X86_KERNELS
    job.rows_path = tc_conv_rows_path(&job) && !tc_conv_rows_disabled();
#endif
    tc_parallel_for(job.ntiles, 1, tc_conv_forward_range, &job);
    free(job.wpack);
    return tc_conv_finish(who, &job);
}

int tc_conv2d(int dtype, const int64_t *geom, const void *x, const void *w, void *y)
{
    tc_conv_geom g;
    int st = tc_conv_check("tc_conv2d", dtype, geom, 0, x, w, y, &g);
    if (st != TC_OK)
        return st;
    if (g.n * g.oh * g.ow == 0)
        return TC_OK;
    return tc_conv_forward("tc_conv2d", dtype, &g, x, w, y);
}

#ifdef TC_GEMM_HAVE_X86_KERNELS
/* Input gradient of a stride-1, one-group convolution as a forward convolution on the
 * window-row path: dx[n, ih, iw, c] = sum over (kh, kw, o) of
 * dy[n, ih + pt - kh*dh, iw + pl - kw*dw, o] * w[kh, kw, c, o] is the convolution of dy
 * (N, OH, OW, O) with w'[kh, kw, o, c] = w[KH-1-kh, KW-1-kw, c, o] padded by (KH-1)*dh - pt
 * above and (KW-1)*dw - pl on the left (dy outside its OH x OW contributes nothing, as
 * padding does), output H x W: no dcol tile, no col2im, no dx clearing. Sets *handled to
 * 0 (and does nothing) when that forward would not take the window-row path. */
static int tc_conv_grad_input_rows(int dtype, const tc_conv_geom *g, const void *dy,
                                   const void *w, void *dx, int *handled)
{
    *handled = 0;
    if (dtype != TC_FLOAT32 || g->sh != 1 || g->sw != 1 || g->groups != 1 ||
        (g->kh - 1) * g->dh < g->pt || (g->kw - 1) * g->dw < g->pl)
        return TC_OK;
    tc_conv_geom t = *g;
    t.h = g->oh;
    t.w = g->ow;
    t.c = t.cg = g->o;
    t.o = t.og = g->c;
    t.oh = g->h;
    t.ow = g->w;
    t.pt = (g->kh - 1) * g->dh - g->pt;
    t.pl = (g->kw - 1) * g->dw - g->pl;
    t.k = t.kh * t.kw * t.cg;
    tc_conv_job probe;
    tc_conv_job_init(&probe, dtype, &t);
    if (!tc_conv_rows_path(&probe) || tc_conv_rows_disabled())
        return TC_OK;
    *handled = 1;
    const int64_t taps = g->kh * g->kw, c = g->c, o = g->o;
    float *wt = malloc((size_t)(taps * c * o) * sizeof(float));
    if (wt == NULL)
        return tc_set_error("tc_conv2d_grad_input: out of memory for the flipped kernel");
    const float *src = w;
    for (int64_t tap = 0; tap < taps; ++tap) {
        float *dst = wt + (taps - 1 - tap) * o * c;     /* (kh, kw) -> (KH-1-kh, KW-1-kw) */
        for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t oi = 0; oi < o; ++oi)
                dst[oi * c + ci] = src[(tap * c + ci) * o + oi];
    }
    const int st = tc_conv_forward("tc_conv2d_grad_input", dtype, &t, dy, wt, dx);
    free(wt);
    return st;
}
#endif

int tc_conv2d_grad_input(int dtype, const int64_t *geom, const void *dy, const void *w,
                         void *dx)
{
    tc_conv_geom g;
    int st = tc_conv_check("tc_conv2d_grad_input", dtype, geom, 0, dy, w, dx, &g);
    if (st != TC_OK)
        return st;
    const int64_t es = tc_dtype_size(dtype);
    if (g.n == 0)
        return TC_OK;
    if (dx == NULL)     /* written whole, even when OH or OW is 0 (zeros) */
        return tc_set_error("tc_conv2d_grad_input: dx is NULL");
    if (g.oh == 0 || g.ow == 0) {
        memset(dx, 0, (size_t)(g.n * g.h * g.w * g.c * es));
        return TC_OK;
    }
#ifdef TC_GEMM_HAVE_X86_KERNELS
    int handled;
    st = tc_conv_grad_input_rows(dtype, &g, dy, w, dx, &handled);
    if (handled)
        return st;
#endif
    tc_conv_job job;
    tc_conv_job_init(&job, dtype, &g);
    job.dy = dy;
    job.w = w;
    job.y = dx;
    job.tile_rows = tc_conv_tile_rows(&g, job.es, g.oh * g.ow * tc_get_num_threads(),
                                      job.kern->nr);
    tc_parallel_for(g.n, 1, tc_conv_grad_input_range, &job);
    return tc_conv_finish("tc_conv2d_grad_input", &job);
}

#define TC_SUM_INTO_DEFINE(T, SUF)                                                         \
    static void tc_sum_into_##SUF(T *dst, char *const *src, int64_t nsrc, int64_t len)    \
    {                                                                                     \
        for (int64_t s = 0; s < nsrc; ++s) {                                              \
            const T *p = (const T *)(const void *)src[s];                                 \
            for (int64_t i = 0; i < len; ++i)                                             \
                dst[i] += p[i];                                                           \
        }                                                                                 \
    }
TC_SUM_INTO_DEFINE(float, f32)
TC_SUM_INTO_DEFINE(double, f64)

int tc_conv2d_grad_filter(int dtype, const int64_t *geom, const void *x, const void *dy,
                          void *dw)
{
    tc_conv_geom g;
    int st = tc_conv_check("tc_conv2d_grad_filter", dtype, geom, 0, x, dy, dw, &g);
    if (st != TC_OK)
        return st;
    const int64_t m = g.n * g.oh * g.ow;
    const int64_t len = g.kh * g.kw * g.cg * g.o;
    const int64_t es = tc_dtype_size(dtype);
    if (dw == NULL)     /* written whole, even when there are no output positions */
        return tc_set_error("tc_conv2d_grad_filter: dw is NULL");
    if (m == 0) {
        memset(dw, 0, (size_t)(len * es));
        return TC_OK;
    }
    tc_conv_job job;
    tc_conv_job_init(&job, dtype, &g);
    job.x = x;
    job.dy = dy;
    job.tile_rows = tc_conv_tile_rows(&g, job.es, m, job.kern->nr);
#ifdef TC_GEMM_HAVE_X86_KERNELS
    job.rows_path = tc_conv_wgrad_rows_path(&job) && !tc_conv_rows_disabled();
#endif
    job.ntiles = (m + job.tile_rows - 1) / job.tile_rows;
    int64_t pieces = tc_get_num_threads();
    /* Each extra piece costs a K x O buffer and a pass summing it: only with enough rows. */
    const int64_t by_work = m * g.k / (16 * len) + 1;
    if (pieces > by_work)
        pieces = by_work;
    if (pieces > job.ntiles)
        pieces = job.ntiles;
    char *bufs[256];
    if (pieces > 256)
        pieces = 256;
    job.pieces = pieces;
    job.acc = bufs;
    bufs[0] = dw;
    for (int64_t p = 1; p < pieces; ++p) {
        bufs[p] = malloc((size_t)(len * es));
        if (bufs[p] == NULL) {
            for (int64_t q = 1; q < p; ++q)
                free(bufs[q]);
            tc_set_error("tc_conv2d_grad_filter: out of memory");
            return TC_ERR_NOMEM;
        }
    }
    tc_parallel_for(pieces, 1, tc_conv_grad_filter_range, &job);
    st = tc_conv_finish("tc_conv2d_grad_filter", &job);
    if (st == TC_OK && pieces > 1) {
        if (es == 4)
            tc_sum_into_f32(dw, bufs + 1, pieces - 1, len);
        else
            tc_sum_into_f64(dw, bufs + 1, pieces - 1, len);
    }
    for (int64_t p = 1; p < pieces; ++p)
        free(bufs[p]);
    return st;
}

/* ---- pooling ----------------------------------------------------------------------- */

/* Pools one image: src is x (forward) or dy (backward), dst y or dx; arg is the image's
 * argmax (written by the max forward, read by the max backward, unused by "avg"). */
typedef void (*tc_pool_image_fn)(const tc_conv_geom *g, const void *src, int32_t *arg,
                                 void *dst);

typedef struct tc_pool_job {
    tc_conv_geom g;
    tc_pool_image_fn fn;
    const char *src;
    char *dst;
    int32_t *arg;               /* NULL for average pooling */
    int64_t src_image, dst_image, arg_image;   /* per-image strides: bytes, bytes, elements */
} tc_pool_job;

/* Window rows [kh0, kh1) and columns [kw0, kw1) that fall inside the input. */
static inline void tc_pool_window(const tc_conv_geom *g, int64_t oh, int64_t ow, int64_t *ih0,
                                  int64_t *ih1, int64_t *iw0, int64_t *iw1)
{
    const int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;
    *ih0 = h0 < 0 ? 0 : h0;
    *ih1 = h0 + g->kh < g->h ? h0 + g->kh : g->h;
    *iw0 = w0 < 0 ? 0 : w0;
    *iw1 = w0 + g->kw < g->w ? w0 + g->kw : g->w;
}

/* Max over the window of output (oh, ow), channels [k0, k1): y[k] and the flat input
 * position of the first maximum in arg[k]. A NaN wins over any number (as NumPy's max);
 * a window lying wholly in the padding gives -inf and position -1. */
#define TC_POOL_DEFINE(T, SUF)                                                              \
    static void tc_maxpool_channels_##SUF(const tc_conv_geom *g, const T *x, int64_t oh,   \
                                          int64_t ow, int64_t k0, int64_t k1, T *y,        \
                                          int32_t *arg)                                    \
    {                                                                                      \
        const int64_t c = g->c;                                                            \
        int64_t ih0, ih1, iw0, iw1;                                                        \
        tc_pool_window(g, oh, ow, &ih0, &ih1, &iw0, &iw1);                                 \
        if (ih0 >= ih1 || iw0 >= iw1) {                                                    \
            for (int64_t k = k0; k < k1; ++k) {                                            \
                y[k] = (T)-1.0 / (T)0.0;                                                   \
                arg[k] = -1;                                                               \
            }                                                                              \
            return;                                                                        \
        }                                                                                  \
        const T *first = x + (ih0 * g->w + iw0) * c;                                       \
        const int32_t first_pos = (int32_t)(ih0 * g->w + iw0);                             \
        for (int64_t k = k0; k < k1; ++k) {                                                \
            y[k] = first[k];                                                               \
            arg[k] = first_pos;                                                            \
        }                                                                                  \
        for (int64_t ih = ih0; ih < ih1; ++ih)                                             \
            for (int64_t iw = ih == ih0 ? iw0 + 1 : iw0; iw < iw1; ++iw) {                 \
                const T *xp = x + (ih * g->w + iw) * c;                                    \
                const int32_t pos = (int32_t)(ih * g->w + iw);                             \
                for (int64_t k = k0; k < k1; ++k) {                                        \
                    const T v = xp[k], cur = y[k];                                         \
                    const int take = (v > cur) | ((v != v) & (cur == cur));                \
                    y[k] = take ? v : cur;                                                 \
                    arg[k] = take ? pos : arg[k];                                          \
                }                                                                          \
            }                                                                              \
    }                                                                                      \
                                                                                           \
    static void tc_maxpool_image_##SUF(const tc_conv_geom *g, const void *src,             \
                                       int32_t *arg, void *dst)                            \
    {                                                                                      \
        const T *x = src;                                                                  \
        T *y = dst;                                                                        \
        for (int64_t oh = 0; oh < g->oh; ++oh)                                             \
            for (int64_t ow = 0; ow < g->ow; ++ow, y += g->c, arg += g->c)                 \
                tc_maxpool_channels_##SUF(g, x, oh, ow, 0, g->c, y, arg);                  \
    }                                                                                      \
                                                                                           \
    static void tc_avgpool_image_##SUF(const tc_conv_geom *g, const void *src,             \
                                       int32_t *unused, void *dst)                         \
    {                                                                                      \
        const int64_t c = g->c;                                                            \
        const T *x = src;                                                                  \
        T *y = dst;                                                                        \
        (void)unused;                                                                      \
        for (int64_t oh = 0; oh < g->oh; ++oh)                                             \
            for (int64_t ow = 0; ow < g->ow; ++ow, y += c) {                               \
                int64_t ih0, ih1, iw0, iw1;                                                \
                tc_pool_window(g, oh, ow, &ih0, &ih1, &iw0, &iw1);                         \
                for (int64_t k = 0; k < c; ++k)                                            \
                    y[k] = 0;                                                              \
                for (int64_t ih = ih0; ih < ih1; ++ih)                                     \
                    for (int64_t iw = iw0; iw < iw1; ++iw) {                               \
                        const T *xp = x + (ih * g->w + iw) * c;                            \
                        for (int64_t k = 0; k < c; ++k)                                    \
                            y[k] += xp[k];                                                 \
                    }                                                                      \
                const int64_t count = (ih1 - ih0) * (iw1 - iw0);                           \
                const T scale = count > 0 ? (T)1 / (T)count : (T)0.0 / (T)0.0;             \
                for (int64_t k = 0; k < c; ++k)                                            \
                    y[k] *= scale;                                                         \
            }                                                                              \
    }                                                                                      \
                                                                                           \
    static void tc_maxpool_grad_image_##SUF(const tc_conv_geom *g, const void *src,        \
                                            int32_t *arg, void *dst)                       \
    {                                                                                      \
        const int64_t c = g->c, outs = g->oh * g->ow;                                      \
        const T *dy = src;                                                                 \
        T *dx = dst;                                                                       \
        memset(dx, 0, (size_t)(g->h * g->w * c) * sizeof(T));                              \
        for (int64_t q = 0; q < outs; ++q, dy += c, arg += c)                              \
            for (int64_t k = 0; k < c; ++k)                                                \
                if (arg[k] >= 0)                                                           \
                    dx[(int64_t)arg[k] * c + k] += dy[k];                                  \
    }                                                                                      \
                                                                                           \
    static void tc_avgpool_grad_image_##SUF(const tc_conv_geom *g, const void *src,        \
                                            int32_t *unused, void *dst)                    \
    {                                                                                      \
        const int64_t c = g->c;                                                            \
        const T *dy = src;                                                                 \
        T *dx = dst;                                                                       \
        (void)unused;                                                                      \
        memset(dx, 0, (size_t)(g->h * g->w * c) * sizeof(T));                              \
        for (int64_t oh = 0; oh < g->oh; ++oh)                                             \
            for (int64_t ow = 0; ow < g->ow; ++ow, dy += c) {                              \
                int64_t ih0, ih1, iw0, iw1;                                                \
                tc_pool_window(g, oh, ow, &ih0, &ih1, &iw0, &iw1);                         \
                const int64_t count = (ih1 - ih0) * (iw1 - iw0);                           \
                if (count <= 0)                                                            \
                    continue;                                                              \
                const T scale = (T)1 / (T)count;                                           \
                for (int64_t ih = ih0; ih < ih1; ++ih)                                     \
                    for (int64_t iw = iw0; iw < iw1; ++iw) {                               \
                        T *xp = dx + (ih * g->w + iw) * c;                                 \
                        for (int64_t k = 0; k < c; ++k)                                    \
                            xp[k] += dy[k] * scale;                                        \
                    }                                                                      \
            }                                                                              \
    }
TC_POOL_DEFINE(float, f32)
TC_POOL_DEFINE(double, f64)

#ifdef TC_GEMM_HAVE_X86_KERNELS

/* tc_maxpool_image_f32 with 8 channels per AVX2 register: the running maximum and its
 * position stay in registers over the window (the generic loop's NaN rule compiles to
 * branches there and does not vectorize); channels past a multiple of 8 go through the
 * generic loop. Same results as the generic version, bit for bit. */
__attribute__((target("avx2,fma"))) static void
tc_maxpool_image_f32_avx2(const tc_conv_geom *g, const void *src, int32_t *arg, void *dst)
{
    const int64_t c = g->c, c8 = c & ~(int64_t)7;
    const float *x = src;
    float *y = dst;
    for (int64_t oh = 0; oh < g->oh; ++oh)
        for (int64_t ow = 0; ow < g->ow; ++ow, y += c, arg += c) {
            int64_t ih0, ih1, iw0, iw1;
            tc_pool_window(g, oh, ow, &ih0, &ih1, &iw0, &iw1);
            if (ih0 >= ih1 || iw0 >= iw1) {   /* window only over padding */
                tc_maxpool_channels_f32(g, x, oh, ow, 0, c, y, arg);
                continue;
            }
            if (c8 < c)
                tc_maxpool_channels_f32(g, x, oh, ow, c8, c, y, arg);
            for (int64_t k = 0; k < c8; k += 8) {
                const float *first = x + (ih0 * g->w + iw0) * c + k;
                __m256 best = _mm256_loadu_ps(first);
                __m256i at = _mm256_set1_epi32((int32_t)(ih0 * g->w + iw0));
                for (int64_t ih = ih0; ih < ih1; ++ih)
                    for (int64_t iw = ih == ih0 ? iw0 + 1 : iw0; iw < iw1; ++iw) {
                        const __m256 v = _mm256_loadu_ps(x + (ih * g->w + iw) * c + k);
                        const __m256 nan_over_number = _mm256_and_ps(
                            _mm256_cmp_ps(v, v, _CMP_UNORD_Q),
                            _mm256_cmp_ps(best, best, _CMP_ORD_Q));
                        const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ),
                                                         nan_over_number);
                        best = _mm256_blendv_ps(best, v, take);
                        at = _mm256_castps_si256(_mm256_blendv_ps(
                            _mm256_castsi256_ps(at),
                            _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)(ih * g->w + iw))),
                            take));
                    }
                _mm256_storeu_ps(y + k, best);
                _mm256_storeu_si256((__m256i *)(void *)(arg + k), at);
            }
        }
}
#endif

/* The per-image kernel of a pooling kind, element size and direction: the widest variant
 * the CPU runs. */
static tc_pool_image_fn tc_pool_image_kernel(int kind, int64_t es, int backward)
{
    if (kind == TC_POOL_AVG) {
        if (backward)
            return es == 4 ? tc_avgpool_grad_image_f32 : tc_avgpool_grad_image_f64;
        return es == 4 ? tc_avgpool_image_f32 : tc_avgpool_image_f64;
    }
    if (backward)
        return es == 4 ? tc_maxpool_grad_image_f32 : tc_maxpool_grad_image_f64;
    if (es == 8)
        return tc_maxpool_image_f64;
#ifdef TC_GEMM_HAVE_X86_KERNELS
    const int level = tc_simd_level_id();
    if (level == TC_SIMD_AVX2 || level == TC_SIMD_AVX512)
        return tc_maxpool_image_f32_avx2;
#endif
    return tc_maxpool_image_f32;
}

static void tc_pool_range(void *ctx, int64_t n0, int64_t n1)
{
    const tc_pool_job *job = ctx;
    for (int64_t n = n0; n < n1; ++n)
        job->fn(&job->g, job->src + n * job->src_image,
                job->arg != NULL ? job->arg + n * job->arg_image : NULL,
                job->dst + n * job->dst_image);
}

/* Checks the arguments and fills the job: src/dst are x/y (forward) or dy/dx (backward). */
static int tc_pool_setup(const char *who, int kind, int dtype, const int64_t *geom,
                         int backward, const void *src, void *dst, const int32_t *arg,
                         tc_pool_job *job)
{
    if (kind != TC_POOL_MAX && kind != TC_POOL_AVG)
        return tc_set_error("%s: unknown pooling kind %d", who, kind);
    tc_conv_geom g;
    const int st = tc_conv_check(who, dtype, geom, 1, src, dst,
                                 kind == TC_POOL_MAX ? (const void *)arg : src, &g);
    if (st != TC_OK)
        return st;
    const int64_t es = tc_dtype_size(dtype);
    const int64_t in = g.h * g.w * g.c * es, out = g.oh * g.ow * g.c * es;
    memset(job, 0, sizeof *job);
    job->g = g;
    job->fn = tc_pool_image_kernel(kind, es, backward);
    job->src = src;
    job->dst = dst;
    /* the backward pass only reads arg (the max kernel's signature is shared) */
    job->arg = kind == TC_POOL_MAX ? (int32_t *)(uintptr_t)arg : NULL;
    job->src_image = backward ? out : in;
    job->dst_image = backward ? in : out;
    job->arg_image = g.oh * g.ow * g.c;
    return TC_OK;
}

static int64_t tc_pool_chunk(const tc_conv_geom *g)
{
    const int64_t per = g->h * g->w * g->c;
    return per >= TC_POOL_CHUNK_ELEMS ? 1 : TC_POOL_CHUNK_ELEMS / (per > 0 ? per : 1);
}

int tc_pool2d(int kind, int dtype, const int64_t *geom, const void *x, void *y,
              int32_t *argmax)
{
    tc_pool_job job;
    const int st = tc_pool_setup("tc_pool2d", kind, dtype, geom, 0, x, y, argmax, &job);
    if (st != TC_OK)
        return st;
    if (job.g.n == 0 || job.g.oh == 0 || job.g.ow == 0)
        return TC_OK;
    tc_parallel_for(job.g.n, tc_pool_chunk(&job.g), tc_pool_range, &job);
    return TC_OK;
}

int tc_pool2d_grad(int kind, int dtype, const int64_t *geom, const void *dy,
                   const int32_t *argmax, void *dx)
{
    tc_pool_job job;
    const int st = tc_pool_setup("tc_pool2d_grad", kind, dtype, geom, 1, dy, dx, argmax, &job);
    if (st != TC_OK)
        return st;
    if (job.g.n == 0)
        return TC_OK;
    if (dx == NULL)     /* written whole, even when OH or OW is 0 (zeros) */
        return tc_set_error("tc_pool2d_grad: dx is NULL");
    if (job.g.oh == 0 || job.g.ow == 0) {
        memset(dx, 0, (size_t)(job.g.n * job.dst_image));
        return TC_OK;
    }
    tc_parallel_for(job.g.n, tc_pool_chunk(&job.g), tc_pool_range, &job);
    return TC_OK;
}
