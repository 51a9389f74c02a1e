/* Stress test of the thread pool behind tc_parallel_for (csrc/threads.c).
 *
 * Every job checks that each index of [0, n) is handed out exactly once, to non-empty
 * pieces inside [0, n), with 2-4 threads, random sizes, pieces that stall (so other
 * threads must take over the rest), and two caller threads using the pool at once (one of
 * them then runs inline).
 *
 *   gcc -O2 -std=c11 -pthread -Icsrc csrc/*.c tests/c/test_pool.c -lm -o test_pool
 *   (also built with -fsanitize=thread by .ci/sanitize.sh)
 * Exits 0 and prints "test_pool: ok" when every check holds. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tc_internal.h"

#define MAX_N 6000

typedef struct {
    int64_t n, min_chunk;
    _Atomic int hits[MAX_N];
    _Atomic int bad;               /* a piece outside [0, n) or shorter than allowed */
    _Atomic int pieces;
    int stall_every;               /* every k-th piece sleeps a little (0: never) */
} job_t;

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void body(void *arg, int64_t begin, int64_t end)
{
    job_t *job = arg;
    int piece = atomic_fetch_add(&job->pieces, 1);
    if (begin < 0 || end > job->n || begin >= end)
        atomic_store(&job->bad, 1);
    if (job->stall_every > 0 && piece % job->stall_every == 0)
        sleep_us(200);
    for (int64_t i = begin; i < end; i++)
        atomic_fetch_add_explicit(&job->hits[i], 1, memory_order_relaxed);
}

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Runs `count` random jobs; returns the number of failed checks. */
static int run_jobs(uint64_t seed, int count, job_t *job)
{
    int failures = 0;
    uint64_t state = seed;
    for (int j = 0; j < count; j++) {
        job->n = 1 + (int64_t)(next_random(&state) % MAX_N);
        job->min_chunk = 1 + (int64_t)(next_random(&state) % 64);
        job->stall_every = (int)(next_random(&state) % 4);   /* 0..3 */
        for (int64_t i = 0; i < job->n; i++)
            atomic_store(&job->hits[i], 0);
        atomic_store(&job->bad, 0);
        atomic_store(&job->pieces, 0);
        tc_parallel_for(job->n, job->min_chunk, body, job);
        for (int64_t i = 0; i < job->n; i++) {
            if (atomic_load(&job->hits[i]) != 1) {
                fprintf(stderr, "test_pool: job %d (n=%lld): index %lld ran %d times\n", j,
                        (long long)job->n, (long long)i, atomic_load(&job->hits[i]));
                failures++;
                break;
            }
        }
        if (atomic_load(&job->bad)) {
            fprintf(stderr, "test_pool: job %d: a piece outside [0, %lld)\n", j,
                    (long long)job->n);
            failures++;
        }
    }
    return failures;
}

typedef struct {
    uint64_t seed;
    int count;
    int failures;
    job_t job;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    c->failures = run_jobs(c->seed, c->count, &c->job);
    return NULL;
}

int main(void)
{
    static caller_t callers[2];
    int failures = 0;
    for (int threads = 2; threads <= 4; threads++) {
        tc_set_num_threads(threads);
        failures += run_jobs(0x9e3779b97f4a7c15ull + (uint64_t)threads, 300, &callers[0].job);
        /* two caller threads at once: one owns the pool, the other runs inline */
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            callers[i].seed = 12345u + 77u * (uint64_t)i + (uint64_t)threads;
            callers[i].count = 150;
            callers[i].failures = 0;
            pthread_create(&t[i], NULL, caller_main, &callers[i]);
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(t[i], NULL);
            failures += callers[i].failures;
        }
    }
    if (failures) {
        fprintf(stderr, "test_pool: %d failed checks\n", failures);
        return 1;
    }
    printf("test_pool: ok\n");
    return 0;
}
