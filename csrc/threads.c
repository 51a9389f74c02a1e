/* A small pthread pool behind tc_parallel_for (see tc_internal.h for the contract).
 *
 * One caller at a time owns the pool (tc_pool_busy, taken with trylock so a second
 * caller thread simply runs its loop inline). The owner splits [0, n) into up to
 * TC_PIECES_PER_THREAD pieces per participating thread, publishes the job under
 * tc_pool.lock, bumps the generation and wakes the workers. The owner and the workers
 * then claim pieces from a shared ticket until none are left, so a thread that starts
 * late (a sleeping worker, a vCPU the hypervisor took away) just claims fewer pieces
 * instead of making everyone wait for its fixed share. The ticket holds the job's
 * generation beside the next piece index, so a claim can only succeed for the job the
 * worker read; the owner returns once every piece has finished (not once every worker
 * has woken). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tc_internal.h"

#define TC_MAX_THREADS 256
/* Workers poll for new work this long after finishing a job before they sleep on the
 * condition variable (TENSORCORE_SPIN_US overrides, 0 disables). Waking a sleeping thread
 * costs a futex call and, on virtual machines, often a reschedule of an idle vCPU: up to
 * about a millisecond, which doubled the time of back-to-back 0.5 ms GEMMs. Polling for a
 * millisecond keeps the pool warm across the short Python gaps between ops. */
#define TC_DEFAULT_SPIN_US 1000
/* Pieces per participating thread: enough to rebalance around a slow or late thread,
 * few enough that each piece stays long (callers' min_chunk still bounds piece size). */
#define TC_PIECES_PER_THREAD 4

static _Atomic int64_t tc_spin_ns = -1;   /* read once from the environment */

static int64_t tc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tc_spin_limit(void)
{
    if (tc_spin_ns < 0) {
        const char *env = getenv("TENSORCORE_SPIN_US");
        long us = TC_DEFAULT_SPIN_US;
        if (env != NULL && *env != '\0') {
            char *end = NULL;
            long parsed = strtol(env, &end, 10);
            if (end != env && parsed >= 0 && parsed <= 1000000) {
                us = parsed;
            }
        }
        tc_spin_ns = (int64_t)us * 1000;
    }
    return tc_spin_ns;
}

static inline void tc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

typedef struct {
    pthread_mutex_t lock;      /* guards the plain fields below */
    pthread_cond_t work_cv;    /* signalled when generation changes */
    pthread_cond_t done_cv;    /* signalled when the last piece finishes */
    _Atomic uint64_t generation;
    tc_range_fn fn;
    void *ctx;
    int64_t n;
    int npieces;               /* pieces of the current job */
    int participants;          /* owner + workers 0 .. participants - 2 may claim pieces */
    _Atomic uint64_t ticket;   /* (low 32 bits of generation) << 32 | next piece index */
    _Atomic int done;          /* pieces of the current job finished */
    int nworkers;              /* threads started so far (they never exit) */
} tc_pool_t;

static tc_pool_t tc_pool = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
    0, NULL, NULL, 0, 0, 0, 0, 0, 0
};
static pthread_mutex_t tc_pool_busy = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int tc_num_threads = 0;          /* 0 until first read of the default */
static pthread_once_t tc_atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local int tc_in_worker = 0;
/* Generation current when worker i was created: its first job is any later one. Read
 * by the worker itself, which may start running only after that job was published. */
static uint64_t tc_worker_start_generation[TC_MAX_THREADS];

static int tc_default_threads(void)
{
    const char *env = getenv("TENSORCORE_NUM_THREADS");
    if (env != NULL && env[0] != '\0') {
        long v = strtol(env, NULL, 10);
        if (v >= 1) {
            return v > TC_MAX_THREADS ? TC_MAX_THREADS : (int)v;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) {
        cpus = 1;
    }
    return cpus > TC_MAX_THREADS ? TC_MAX_THREADS : (int)cpus;
}

void tc_set_num_threads(int n)
{
    if (n < 1) {
        n = tc_default_threads();
    }
    if (n > TC_MAX_THREADS) {
        n = TC_MAX_THREADS;
    }
    atomic_store(&tc_num_threads, n);
}

int tc_get_num_threads(void)
{
    int n = atomic_load(&tc_num_threads);
    if (n == 0) {
        int expected = 0;
        n = tc_default_threads();
        if (!atomic_compare_exchange_strong(&tc_num_threads, &expected, n)) {
            n = expected;
        }
    }
    return n;
}

static void tc_chunk_bounds(int64_t n, int nchunks, int index, int64_t *begin, int64_t *end)
{
    int64_t base = n / nchunks, extra = n % nchunks;
    *begin = base * index + (index < extra ? index : extra);
    *end = *begin + base + (index < extra ? 1 : 0);
}

/* Claim and run pieces of the job of generation `gen` until none are left. */
static void tc_run_pieces(uint64_t gen, tc_range_fn fn, void *ctx, int64_t n, int npieces)
{
    const uint64_t tag = (gen & 0xffffffffu) << 32;
    for (;;) {
        uint64_t t = atomic_load_explicit(&tc_pool.ticket, memory_order_acquire);
        if ((t & ~(uint64_t)0xffffffffu) != tag || (int64_t)(t & 0xffffffffu) >= npieces) {
            return;                   /* another job, or every piece claimed */
        }
        if (!atomic_compare_exchange_weak_explicit(&tc_pool.ticket, &t, t + 1,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire)) {
            continue;
        }
        int64_t begin, end;
        tc_chunk_bounds(n, npieces, (int)(t & 0xffffffffu), &begin, &end);
        fn(ctx, begin, end);
        if (atomic_fetch_add_explicit(&tc_pool.done, 1, memory_order_acq_rel) + 1 == npieces) {
            pthread_mutex_lock(&tc_pool.lock);
            pthread_cond_signal(&tc_pool.done_cv);
            pthread_mutex_unlock(&tc_pool.lock);
        }
    }
}

static void *tc_worker_main(void *arg)
{
    int index = (int)(intptr_t)arg;      /* participates when index + 1 < participants */
    tc_in_worker = 1;
    pthread_mutex_lock(&tc_pool.lock);
    uint64_t seen = tc_worker_start_generation[index];
    pthread_mutex_unlock(&tc_pool.lock);
    for (;;) {
        /* Poll for a while (cheap wake-up for back-to-back jobs), then sleep. */
        const int64_t limit = tc_spin_limit();
        const int64_t start = limit > 0 ? tc_now_ns() : 0;
        for (unsigned spin = 0; limit > 0; spin++) {
            if (atomic_load_explicit(&tc_pool.generation, memory_order_acquire) != seen) {
                break;
            }
            tc_cpu_relax();
            if ((spin & 63u) == 63u && tc_now_ns() - start > limit) {
                break;
            }
        }
        pthread_mutex_lock(&tc_pool.lock);
        while (atomic_load(&tc_pool.generation) == seen) {
            pthread_cond_wait(&tc_pool.work_cv, &tc_pool.lock);
        }
        seen = atomic_load(&tc_pool.generation);
        if (index + 1 >= tc_pool.participants) {
            pthread_mutex_unlock(&tc_pool.lock);
            continue;
        }
        tc_range_fn fn = tc_pool.fn;
        void *ctx = tc_pool.ctx;
        int64_t n = tc_pool.n;
        int npieces = tc_pool.npieces;
        pthread_mutex_unlock(&tc_pool.lock);
        /* Claims fail once the owner has moved on to a later job, so fn and ctx
         * (the owner's) are only used while that job is still running. */
        tc_run_pieces(seen, fn, ctx, n, npieces);
    }
    return NULL;
}

static void tc_atfork_prepare(void)
{
    pthread_mutex_lock(&tc_pool_busy);
    pthread_mutex_lock(&tc_pool.lock);
}

static void tc_atfork_parent(void)
{
    pthread_mutex_unlock(&tc_pool.lock);
    pthread_mutex_unlock(&tc_pool_busy);
}

/* In the child only the forking thread exists: forget the workers, start afresh. */
static void tc_atfork_child(void)
{
    pthread_mutex_init(&tc_pool.lock, NULL);
    pthread_cond_init(&tc_pool.work_cv, NULL);
    pthread_cond_init(&tc_pool.done_cv, NULL);
    pthread_mutex_init(&tc_pool_busy, NULL);
    atomic_store(&tc_pool.generation, 0);
    tc_pool.fn = NULL;
    tc_pool.ctx = NULL;
    tc_pool.n = 0;
    tc_pool.npieces = 0;
    tc_pool.participants = 0;
    atomic_store(&tc_pool.ticket, 0);
    atomic_store(&tc_pool.done, 0);
    tc_pool.nworkers = 0;
}

static void tc_register_atfork(void)
{
    pthread_atfork(tc_atfork_prepare, tc_atfork_parent, tc_atfork_child);
}

/* Starts workers until `wanted` exist (called with tc_pool_busy held). Returns how many
 * exist afterwards (fewer when pthread_create fails). */
static int tc_ensure_workers(int wanted)
{
    while (tc_pool.nworkers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&tc_pool.lock);
        tc_worker_start_generation[tc_pool.nworkers] = atomic_load(&tc_pool.generation);
        pthread_mutex_unlock(&tc_pool.lock);
        int rc = pthread_create(&thread, &attr, tc_worker_main,
                                (void *)(intptr_t)tc_pool.nworkers);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            break;
        }
        tc_pool.nworkers++;
    }
    return tc_pool.nworkers;
}

void tc_parallel_for(int64_t n, int64_t min_chunk, tc_range_fn fn, void *ctx)
{
    if (n <= 0) {
        return;
    }
    if (min_chunk < 1) {
        min_chunk = 1;
    }
    int threads = tc_get_num_threads();
    if (threads < 2 || n < 2 * min_chunk || tc_in_worker) {
        fn(ctx, 0, n);
        return;
    }
    int64_t max_pieces = n / min_chunk;
    int participants = max_pieces < threads ? (int)max_pieces : threads;
    pthread_once(&tc_atfork_once, tc_register_atfork);
    if (pthread_mutex_trylock(&tc_pool_busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    int workers = tc_ensure_workers(participants - 1);
    if (workers + 1 < participants) {
        participants = workers + 1;
    }
    if (participants < 2) {
        pthread_mutex_unlock(&tc_pool_busy);
        fn(ctx, 0, n);
        return;
    }
    int64_t want = (int64_t)participants * TC_PIECES_PER_THREAD;
    const int npieces = (int)(max_pieces < want ? max_pieces : want);
    pthread_mutex_lock(&tc_pool.lock);
    const uint64_t gen = atomic_load(&tc_pool.generation) + 1;
    tc_pool.fn = fn;
    tc_pool.ctx = ctx;
    tc_pool.n = n;
    tc_pool.npieces = npieces;
    tc_pool.participants = participants;
    atomic_store(&tc_pool.done, 0);
    atomic_store_explicit(&tc_pool.ticket, (gen & 0xffffffffu) << 32, memory_order_release);
    atomic_store_explicit(&tc_pool.generation, gen, memory_order_release);
    pthread_cond_broadcast(&tc_pool.work_cv);
    pthread_mutex_unlock(&tc_pool.lock);

    tc_in_worker = 1;             /* the owner's pieces must not nest either */
    tc_run_pieces(gen, fn, ctx, n, npieces);
    tc_in_worker = 0;

    /* poll (the last pieces usually finish together), then sleep */
    const int64_t limit = tc_spin_limit();
    const int64_t start = limit > 0 ? tc_now_ns() : 0;
    for (unsigned spin = 0; limit > 0; spin++) {
        if (atomic_load_explicit(&tc_pool.done, memory_order_acquire) == npieces) {
            break;
        }
        tc_cpu_relax();
        if ((spin & 63u) == 63u && tc_now_ns() - start > limit) {
            break;
        }
    }
    pthread_mutex_lock(&tc_pool.lock);
    while (atomic_load(&tc_pool.done) < npieces) {
        pthread_cond_wait(&tc_pool.done_cv, &tc_pool.lock);
    }
    pthread_mutex_unlock(&tc_pool.lock);
    pthread_mutex_unlock(&tc_pool_busy);
}
