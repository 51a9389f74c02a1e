/* A small pthread pool behind tc_parallel_for (see tc_internal.h for the contract).
 *
 * One caller at a time owns the pool (tc_pool_busy, taken with trylock so a second
 * caller thread simply runs its loop inline). The owner publishes a job under
 * tc_pool.lock, bumps the generation and wakes the workers; worker w runs chunk w + 1
 * when it exists, the owner runs chunk 0, then waits until `pending` drops to 0.
 * A job's chunks all finish before the owner releases tc_pool_busy, so a worker that
 * sleeps through a generation can only have missed a job with no chunk for it. */
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
    pthread_mutex_t lock;      /* guards every field below */
    pthread_cond_t work_cv;    /* signalled when generation changes */
    pthread_cond_t done_cv;    /* signalled when pending reaches 0 */
    _Atomic uint64_t generation;
    tc_range_fn fn;
    void *ctx;
    int64_t n;
    int nchunks;               /* chunks of the current job, chunk 0 is the owner's */
    _Atomic int pending;       /* worker chunks of the current job not yet finished */
    int nworkers;              /* threads started so far (they never exit) */
} tc_pool_t;

static tc_pool_t tc_pool = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
    0, NULL, NULL, 0, 0, 0, 0
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

static void *tc_worker_main(void *arg)
{
    int index = (int)(intptr_t)arg;      /* this worker runs chunk index + 1 */
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
        int chunk = index + 1;
        if (chunk >= tc_pool.nchunks) {
            pthread_mutex_unlock(&tc_pool.lock);
            continue;
        }
        tc_range_fn fn = tc_pool.fn;
        void *ctx = tc_pool.ctx;
        int64_t begin, end;
        tc_chunk_bounds(tc_pool.n, tc_pool.nchunks, chunk, &begin, &end);
        pthread_mutex_unlock(&tc_pool.lock);

        fn(ctx, begin, end);

        pthread_mutex_lock(&tc_pool.lock);
        if (atomic_fetch_sub(&tc_pool.pending, 1) == 1) {
            pthread_cond_signal(&tc_pool.done_cv);
        }
        pthread_mutex_unlock(&tc_pool.lock);
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
    tc_pool.nchunks = 0;
    atomic_store(&tc_pool.pending, 0);
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
    int64_t max_chunks = n / min_chunk;
    int nchunks = max_chunks < threads ? (int)max_chunks : threads;
    pthread_once(&tc_atfork_once, tc_register_atfork);
    if (pthread_mutex_trylock(&tc_pool_busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    int workers = tc_ensure_workers(nchunks - 1);
    if (workers + 1 < nchunks) {
        nchunks = workers + 1;
    }
    if (nchunks < 2) {
        pthread_mutex_unlock(&tc_pool_busy);
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&tc_pool.lock);
    tc_pool.fn = fn;
    tc_pool.ctx = ctx;
    tc_pool.n = n;
    tc_pool.nchunks = nchunks;
    atomic_store(&tc_pool.pending, nchunks - 1);
    atomic_fetch_add_explicit(&tc_pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&tc_pool.work_cv);
    pthread_mutex_unlock(&tc_pool.lock);

    int64_t begin, end;
    tc_chunk_bounds(n, nchunks, 0, &begin, &end);
    tc_in_worker = 1;             /* the owner's chunk must not nest either */
    fn(ctx, begin, end);
    tc_in_worker = 0;

    /* poll (chunks usually finish together), then sleep */
    const int64_t limit = tc_spin_limit();
    const int64_t start = limit > 0 ? tc_now_ns() : 0;
    for (unsigned spin = 0; limit > 0; spin++) {
        if (atomic_load_explicit(&tc_pool.pending, memory_order_acquire) == 0) {
            break;
        }
        tc_cpu_relax();
        if ((spin & 63u) == 63u && tc_now_ns() - start > limit) {
            break;
        }
    }
    pthread_mutex_lock(&tc_pool.lock);
    while (atomic_load(&tc_pool.pending) > 0) {
        pthread_cond_wait(&tc_pool.done_cv, &tc_pool.lock);
    }
    pthread_mutex_unlock(&tc_pool.lock);
    pthread_mutex_unlock(&tc_pool_busy);
}
