/* The blocked, packed float GEMM (BLIS structure).
 *
 *   for jc over N in NC blocks:                       one parallel region per block
 *     for pc over K in KC blocks:
 *       for ic over this thread's rows in MC blocks:
 *         pack A[ic:ic+MC, pc:pc+KC] into MR-tall micro-panels  (per-thread buffer)
 *         for jr over the NC block in NR steps:
 *           make sure B micro-panel (pc, jr) is packed          (shared, packed once)
 *           for ir over the MC block in MR steps:
 *             micro-kernel on one MR x NR tile of C
 *
 * The packed B of an NC block is shared by the threads of a parallel region; one region
 * covers a group of consecutive K blocks, as many as fit in the packed-B bound
 * tc_gemm_b_bound() (usually all of K: one region per NC block; a very long K takes
 * several regions, run one after another, so the scratch never grows with K). Each
 * micro-panel has a state flag (0 free, 1 being packed, 2 ready): the
 * first thread that needs a panel packs it, others spin until it is ready. Packing
 * never waits on anything, so this cannot deadlock, and no barrier is needed between
 * K blocks (chunks may even run one after another on one thread). Threads start their
 * jr walk at different panels so they pack different panels at the same time.
 *
 * When the packed B of a region fits in one core's L2 (the chapter-2 shapes: 256-400 KiB),
 * each thread instead packs its own copy of the panels it uses, each right before its first
 * use (its first MC block), and keeps it in its own L2 for its later MC blocks. That packs
 * B once per thread instead of once in all, but every panel the kernel reads was written by
 * the same core: with the shared copy, half of a thread's panels come from the other core's
 * cache, and each serves only a few kernel calls when K is short. Measured on Zen 3
 * (2 cores, 512 KiB L2), 2 threads, median GFLOP/s of 20 alternating rounds, load ~3:
 * x.T@dy 784x128x512 156-158 -> 164-165, x@W 128x784x512 135-139 -> 142-147,
 * dy@W.T 128x512x784 151-153 -> 154-157; 1024^3 (4 MiB packed B) keeps the shared copy.
 *
 * The micro-kernels store C with unit stride along M, so the driver first transposes
 * the problem (C^T = B^T A^T, a swap of operands and strides) when C is row-major.
 * Full tiles of a unit-stride C go straight to the kernel with alpha and beta, and so do
 * full-height tiles of a narrow last B panel when the kernel has a narrow variant; other
 * edge tiles and C without a unit stride are computed into a local tile and merged. The
 * first K block applies the caller's beta, later blocks accumulate with beta = 1. */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "gemm_internal.h"
#include "tc_internal.h"

/* Largest micro-tile in bytes over all kernels (checked when a kernel is used). */
enum { TC_GEMM_TILE_BYTES = 2048 };

/* Work below this many flops per parallel chunk is not worth waking a thread for. */
#define TC_GEMM_MIN_CHUNK_FLOPS 0.5e6

/* Floor of the packed-B bound (see tc_gemm_b_bound). */
#define TC_GEMM_B_BYTES ((int64_t)8 << 20)

enum { TC_PANEL_FREE = 0, TC_PANEL_BUSY = 1, TC_PANEL_READY = 2 };

typedef union tc_scalar {
    float f;
    double d;
} tc_scalar;

typedef struct tc_gemm_job {
    const tc_gemm_kernel *kern;
    int64_t m, n, k;                    /* C is m x n; after the optional transpose */
    const char *a, *b;                  /* byte pointers; strides below are elements */
    char *c;
    int64_t rsa, csa, rsb, csb, rsc, csc;
    tc_scalar alpha, beta, one, zero;   /* typed for the kernel's dtype */
    int64_t kc_step;                    /* K block size (last block may be shorter) */
    int64_t kblocks;                    /* number of K blocks */
    /* Current NC block and K-block group [kb0, kb1), set before each parallel region. */
    int64_t jc, nc, npanels;            /* npanels = ceil(nc / NR) */
    int64_t kb0, kb1;
    char *pb;                           /* packed B: K block kb, panel jp at element offset
                                           (kb - kb0) * kc_step * npanels * NR + jp * NR * kc */
    atomic_int *state;                  /* (kb1 - kb0) * npanels panel flags */
    int private_b;                      /* each thread packs its own B copy (no flags) */
    size_t b_bytes;                     /* bytes of the packed B of a region */
    int split_m;                        /* chunks index MR panels of M (1) or NR of N (0) */
    atomic_int failed;                  /* a worker could not allocate its A block */
} tc_gemm_job;

static int64_t tc_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t tc_min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Step that splits `len` into the fewest blocks of at most `max_step`, all of nearly equal
 * size (a multiple of `unit` when that does not add a block): avoids a thin last block,
 * e.g. k = 784 with KC = 384 gives 264 + 264 + 256 instead of 384 + 384 + 16. */
static int64_t tc_block_step(int64_t len, int64_t max_step, int64_t unit)
{
    if (len <= max_step)
        return len;
    const int64_t blocks = tc_ceil_div(len, max_step);
    const int64_t step = tc_ceil_div(tc_ceil_div(len, blocks), unit) * unit;
    return step <= max_step ? step : max_step;
}

static void tc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Byte offset of packed B micro-panel jp of K block kb in a region's packed B. */
static int64_t tc_gemm_b_offset(const tc_gemm_job *job, int64_t kb, int64_t jp)
{
    const int nr = job->kern->nr;
    const int64_t kc = tc_min64(job->kc_step, job->k - kb * job->kc_step);
    return ((kb - job->kb0) * job->kc_step * job->npanels * nr + jp * nr * kc)
           * job->kern->esize;
}

/* Packs B micro-panel jp of K block kb to dst. */
static void tc_gemm_pack_b_panel(const tc_gemm_job *job, int64_t kb, int64_t jp, char *dst)
{
    const int nr = job->kern->nr, es = job->kern->esize;
    const int64_t pc = kb * job->kc_step, kc = tc_min64(job->kc_step, job->k - pc);
    /* B^T block: rows = columns of B (stride csb), cols = rows of B (stride rsb). */
    const int64_t j0 = jp * nr, rows = tc_min64(nr, job->nc - j0);
    const char *src = job->b + (pc * job->rsb + (job->jc + j0) * job->csb) * es;
    tc_gemm_pack(es, nr, rows, kc, src, job->csb, job->rsb, dst);
}

/* Returns shared packed B micro-panel jp of K block kb, packing it first if nobody has. */
static const char *tc_gemm_b_panel(tc_gemm_job *job, int64_t kb, int64_t jp)
{
    char *dst = job->pb + tc_gemm_b_offset(job, kb, jp);
    atomic_int *flag = &job->state[(kb - job->kb0) * job->npanels + jp];
    int st = atomic_load_explicit(flag, memory_order_acquire);
    if (st == TC_PANEL_READY)
        return dst;
    int expected = TC_PANEL_FREE;
    if (st == TC_PANEL_FREE && atomic_compare_exchange_strong_explicit(
            flag, &expected, TC_PANEL_BUSY, memory_order_acquire, memory_order_acquire)) {
        tc_gemm_pack_b_panel(job, kb, jp, dst);
        atomic_store_explicit(flag, TC_PANEL_READY, memory_order_release);
        return dst;
    }
    /* The packer may have been preempted: yield after a short spin. */
    for (int spins = 0; atomic_load_explicit(flag, memory_order_acquire) != TC_PANEL_READY;)
        if (++spins < 4096)
            tc_cpu_relax();
        else
            sched_yield();
    return dst;
}

static void tc_gemm_merge_f32(const float *t, int ldt, int mr, int nr, float *c, int64_t rsc,
                              int64_t csc, float alpha, float beta)
{
    for (int j = 0; j < nr; ++j)
        for (int i = 0; i < mr; ++i) {
            float *cij = c + i * rsc + j * csc;
            *cij = beta == 0.0f ? alpha * t[i + j * ldt] : alpha * t[i + j * ldt] + beta * *cij;
        }
}

static void tc_gemm_merge_f64(const double *t, int ldt, int mr, int nr, double *c, int64_t rsc,
                              int64_t csc, double alpha, double beta)
{
    for (int j = 0; j < nr; ++j)
        for (int i = 0; i < mr; ++i) {
            double *cij = c + i * rsc + j * csc;
            *cij = beta == 0.0 ? alpha * t[i + j * ldt] : alpha * t[i + j * ldt] + beta * *cij;
        }
}

/* One column of tiles: C[ic:ic+mc, jc+jr:jc+jr+nr_now] (+)= alpha * packed A @ panel pbj.
 * pa holds ceil(mc / MR) panels of MR x kc. */
static void tc_gemm_tile_column(const tc_gemm_job *job, const char *pa, const char *pbj,
                                int64_t kc, const tc_scalar *beta, int64_t ic, int64_t mc,
                                int64_t jr, int nr_now)
{
    const tc_gemm_kernel *kern = job->kern;
    const int mr = kern->mr, es = kern->esize;
    const int64_t rsc = job->rsc, csc = job->csc;
    _Alignas(64) unsigned char tile[TC_GEMM_TILE_BYTES];
    for (int64_t ir = 0; ir < mc; ir += mr) {
        const int mr_now = mc - ir < mr ? (int)(mc - ir) : mr;
        const char *pai = pa + ir * kc * es;
        char *cij = job->c + ((ic + ir) * rsc + (job->jc + jr) * csc) * es;
        if (mr_now == mr && rsc == 1) {
            if (nr_now == kern->nr) {
                kern->ukr(kc, &job->alpha, pai, pbj, beta, cij, csc);
                continue;
            }
            if (kern->ukr_narrow != NULL) {
                kern->ukr_narrow(nr_now, kc, &job->alpha, pai, pbj, beta, cij, csc);
                continue;
            }
        }
        kern->ukr(kc, &job->one, pai, pbj, &job->zero, tile, mr);
        if (es == 4)
            tc_gemm_merge_f32((const float *)tile, mr, mr_now, nr_now, (float *)cij, rsc, csc,
                              job->alpha.f, beta->f);
        else
            tc_gemm_merge_f64((const double *)tile, mr, mr_now, nr_now, (double *)cij, rsc, csc,
                              job->alpha.d, beta->d);
    }
}

/* Parallel body over MR panels of M (split_m) or NR panels of the NC block. */
static void tc_gemm_compute_range(void *ctx, int64_t begin, int64_t end)
{
    tc_gemm_job *job = ctx;
    const tc_gemm_kernel *kern = job->kern;
    const int es = kern->esize, mr = kern->mr, nr = kern->nr;
    int64_t m0 = 0, m1 = job->m, p0 = 0, p1 = job->npanels, start = 0;
    if (job->split_m) {
        m0 = begin * mr;
        m1 = tc_min64(end * mr, job->m);
        /* Start the panel walk where this chunk sits in M, so threads pack B in parallel. */
        start = begin * job->npanels / tc_ceil_div(job->m, mr);
    } else {
        p0 = begin;
        p1 = end;
    }
    const int64_t mc_step = tc_block_step(m1 - m0, kern->mc, mr);
    const int64_t kc_max = tc_min64(job->kc_step, job->k);
    char *pa = tc_gemm_scratch(1, (size_t)(tc_ceil_div(mc_step, mr) * mr * kc_max * es));
    if (pa == NULL) {
        atomic_store(&job->failed, 1);
        return;
    }
    /* Private B: this thread's slot-0 scratch (on the calling thread, job->pb itself:
     * b_bytes never exceeds what it allocated, so the buffer is not replaced). */
    char *own_b = NULL;
    if (job->private_b) {
        own_b = tc_gemm_scratch(0, job->b_bytes);
        if (own_b == NULL) {
            atomic_store(&job->failed, 1);
            return;
        }
    }
    const int64_t np = p1 - p0;
    for (int64_t kb = job->kb0; kb < job->kb1; ++kb) {
        const int64_t pc = kb * job->kc_step, kc = tc_min64(job->kc_step, job->k - pc);
        const tc_scalar *beta = kb == 0 ? &job->beta : &job->one;
        for (int64_t ic = m0; ic < m1; ic += mc_step) {
            const int64_t mc = tc_min64(mc_step, m1 - ic);
            const char *src = job->a + (ic * job->rsa + pc * job->csa) * es;
            tc_gemm_pack(es, mr, mc, kc, src, job->rsa, job->csa, pa);
            for (int64_t t = 0; t < np; ++t) {
                int64_t jp = p0 + (start + t) % np;
                const char *pbj;
                if (own_b != NULL) {
                    char *mine = own_b + tc_gemm_b_offset(job, kb, jp);
                    if (ic == m0)   /* first MC block: pack right before first use */
                        tc_gemm_pack_b_panel(job, kb, jp, mine);
                    pbj = mine;
                } else {
                    pbj = tc_gemm_b_panel(job, kb, jp);
                }
                const int64_t jr = jp * nr;
                const int nr_now = (int)tc_min64(nr, job->nc - jr);
                tc_gemm_tile_column(job, pa, pbj, kc, beta, ic, mc, jr, nr_now);
            }
        }
    }
}

int tc_gemm_packed(const tc_gemm_kernel *kern, int64_t m, int64_t n, int64_t k, double alpha,
                   const void *a, int64_t rsa, int64_t csa, const void *b, int64_t rsb,
                   int64_t csb, double beta, void *c, int64_t rsc, int64_t csc, int threaded)
{
    if (kern->mr * kern->nr * kern->esize > TC_GEMM_TILE_BYTES)
        return TC_ERR_UNSUPPORTED;
    /* Make C unit-stride along M when possible: C^T (n x m) = B^T A^T; but not when that
     * puts a skinny side (e.g. 10 output columns) under the MR-tall micro-panels and pads
     * the work much more than the untransposed problem would (strided C is merged through
     * the local tile instead). */
    const int64_t padded_t = tc_ceil_div(n, kern->mr) * kern->mr * tc_ceil_div(m, kern->nr)
                             * kern->nr;
    const int64_t padded_n = tc_ceil_div(m, kern->mr) * kern->mr * tc_ceil_div(n, kern->nr)
                             * kern->nr;
    const int skinny = 2 * padded_t > 3 * padded_n;
    if (rsc != 1 && !skinny &&
        (csc == 1 || (rsc < 0 ? -rsc : rsc) > (csc < 0 ? -csc : csc))) {
        int64_t t = m; m = n; n = t;
        const void *tp = a; a = b; b = tp;
        const int64_t ra = csb, ca = rsb, rb = csa, cb = rsa;
        rsa = ra; csa = ca; rsb = rb; csb = cb;
        t = rsc; rsc = csc; csc = t;
    }
    tc_gemm_job job = {
        .kern = kern, .m = m, .n = n, .k = k, .a = a, .b = b, .c = c,
        .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .rsc = rsc, .csc = csc,
    };
    if (kern->esize == 4) {
        job.alpha.f = (float)alpha; job.beta.f = (float)beta; job.one.f = 1.0f; job.zero.f = 0.0f;
    } else {
        job.alpha.d = alpha; job.beta.d = beta; job.one.d = 1.0; job.zero.d = 0.0;
    }
    atomic_init(&job.failed, 0);

    const int nthreads = threaded ? tc_get_num_threads() : 1;
    const int64_t es = kern->esize, nr = kern->nr;
    const int64_t bound = tc_gemm_b_bound(kern);
    job.kc_step = tc_block_step(k, kern->kc, 8);
    job.kblocks = tc_ceil_div(k, job.kc_step);
    /* All of K in one region when the packed B of NC (or all n) columns fits the bound,
     * else NC columns and as many K blocks per region as fit. */
    const int64_t nc_allk = bound / (k * es) / nr * nr;
    const int64_t nc_want = tc_min64(kern->nc, tc_ceil_div(n, nr) * nr);
    const int64_t nc_step = tc_block_step(n, nc_allk >= nc_want ? nc_allk : kern->nc, nr);
    const int64_t np_max = tc_ceil_div(nc_step, nr);
    int64_t kgroup = tc_min64(job.kblocks, bound / (job.kc_step * np_max * nr * es));
    kgroup = kgroup > 1 ? kgroup : 1;   /* >= 1 already: kc_step <= KC, nc_step <= NC */
    const size_t b_bytes = (size_t)(kgroup * job.kc_step * np_max * nr * es);
    const size_t flags_off = (b_bytes + 63) & ~(size_t)63;
    const size_t nflags = (size_t)(kgroup * np_max);
    char *pb = tc_gemm_scratch(0, flags_off + nflags * sizeof(atomic_int));
    if (pb == NULL)
        return TC_ERR_NOMEM;
    job.pb = pb;
    job.state = (atomic_int *)(void *)(pb + flags_off);
    job.b_bytes = b_bytes;
    /* Private B copies only when one fits in a core's L2 (see the header comment): the
     * pool threads then keep at most L2-size scratch in slot 0 (docs/memory-bounds.md). */
    const int64_t l2 = tc_cache_sizes_info(NULL)->level[1].size;
    job.private_b = nthreads > 1 && (int64_t)b_bytes <= l2;

    const int64_t m_panels = tc_ceil_div(m, kern->mr);
    for (int64_t jc = 0; jc < n; jc += nc_step) {
        job.jc = jc;
        job.nc = tc_min64(nc_step, n - jc);
        job.npanels = tc_ceil_div(job.nc, nr);
        /* Split M when it has enough micro-panels for every thread, else N. */
        job.split_m = m_panels >= 2 * (int64_t)nthreads || m_panels >= job.npanels;
        const int64_t units = job.split_m ? m_panels : job.npanels;
        for (job.kb0 = 0; job.kb0 < job.kblocks; job.kb0 = job.kb1) {
            job.kb1 = tc_min64(job.kb0 + kgroup, job.kblocks);
            const int64_t kspan = tc_min64(job.kb1 * job.kc_step, k) - job.kb0 * job.kc_step;
            for (int64_t i = 0; i < (job.kb1 - job.kb0) * job.npanels; ++i)
                atomic_init(&job.state[i], TC_PANEL_FREE);
            const double unit_flops = 2.0 * (double)kspan *
                (job.split_m ? (double)kern->mr * (double)job.nc : (double)nr * (double)m);
            /* One piece per thread: finer pieces would each stream the whole packed B
             * panel again (measured: x@W at 128x784x512 lost 15% with four pieces per
             * thread). */
            int64_t chunk = nthreads > 1 ? 1 + (int64_t)(TC_GEMM_MIN_CHUNK_FLOPS / unit_flops)
                                         : units;
            const int64_t share = units / nthreads;   /* floor: still nthreads pieces */
            chunk = chunk > share ? chunk : share;
            tc_parallel_for(units, chunk, tc_gemm_compute_range, &job);
            if (atomic_load(&job.failed))
                return TC_ERR_NOMEM;
        }
    }
    return TC_OK;
}

int64_t tc_gemm_b_bound(const tc_gemm_kernel *kern)
{
    const int64_t blocks = (int64_t)kern->kc * kern->nc * kern->esize;
    return blocks > TC_GEMM_B_BYTES ? blocks : TC_GEMM_B_BYTES;
}
