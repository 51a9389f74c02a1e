/* Internal declarations shared by the C core's translation units (not public API). */
#ifndef TC_INTERNAL_H
#define TC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tensorcore.h"

/* ---- thread pool (threads.c) ------------------------------------------------------
 * tc_parallel_for splits [0, n) into at most tc_get_num_threads() contiguous chunks of
 * at least min_chunk items and calls fn(ctx, begin, end) once per chunk, the caller's
 * thread taking one chunk. It runs fn(ctx, 0, n) inline when n < 2 * min_chunk, when
 * one thread is configured, when called from inside a pool worker (no nesting), or when
 * the pool is busy serving another caller thread (so it is safe from many threads).
 * Returns after every chunk has finished. The pool is re-created lazily after fork()
 * (pthread_atfork resets it in the child). */
typedef void (*tc_range_fn)(void *ctx, int64_t begin, int64_t end);
void tc_parallel_for(int64_t n, int64_t min_chunk, tc_range_fn fn, void *ctx);

/* ---- CPU features (cpu.c) ---------------------------------------------------------- */
int tc_cpu_has_avx2_fma(void);   /* 1 when the CPU and OS support AVX2 + FMA */
int tc_cpu_has_avx512f(void);    /* 1 when the CPU and OS support AVX-512F (zmm state) */

/* ---- errors (error.c) -------------------------------------------------------------- */
/* Records a printf-style message for tc_last_error() (thread-local) and returns
 * TC_ERR_INVALID, so callers can write `return tc_set_error("...", ...);`. */
int tc_set_error(const char *fmt, ...);

#endif
