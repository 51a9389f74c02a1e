/* Internal GEMM declarations: micro-kernel signature, per-kernel block-size tables,
 * packing and the SIMD level (not public API). */
#ifndef TC_GEMM_INTERNAL_H
#define TC_GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Ordered within an architecture: x86 generic < avx2 < avx512; aarch64 generic < neon. */
enum tc_simd_level_id { TC_SIMD_GENERIC = 0, TC_SIMD_AVX2 = 1, TC_SIMD_AVX512 = 2, TC_SIMD_NEON = 3 };

/* The level tc_simd_level() names (cpu.c): hardware support, capped by the build
 * (TC_NO_SIMD -> generic) and by env TENSORCORE_SIMD; read once and cached. */
int tc_simd_level_id(void);

/* Micro-kernel: C[0:MR, 0:NR] = alpha * Apanel @ Bpanel + beta * C.
 * - a: packed A micro-panel, element (i, p) at a[p * MR + i]; b: packed B micro-panel,
 *   element (p, j) at b[p * NR + j]. Both hold kc * MR (kc * NR) elements and are read
 *   only. The packing buffers start on a 64-byte boundary (so A panels of the SIMD
 *   kernels, MR * esize = 64 or 128 bytes, stay aligned); kernels still use unaligned
 *   loads, so no alignment is required for correctness.
 * - c: element (i, j) at c[i + j * ldc]: unit stride along M (the caller guarantees
 *   it), any ldc (may be negative). The whole MR x NR tile is valid memory.
 * - alpha, beta point at a float (f32 kernels) or a double (f64 kernels).
 * - beta == 0: C is written without being read (it may hold NaN).
 * - C does not alias a or b. kc >= 1. */
typedef void (*tc_gemm_ukr_fn)(int64_t kc, const void *alpha, const void *a, const void *b,
                               const void *beta, void *c, int64_t ldc);

/* Optional narrow-panel kernel: C[0:MR, 0:nn] = alpha * Apanel @ Bpanel[:, 0:nn] + beta * C
 * for 1 <= nn < NR, same panels and C contract as tc_gemm_ukr_fn (the packed B micro-panel
 * keeps its NR-element rows; columns nn..NR-1 are ignored) and only nn columns of C are
 * touched. The last B micro-panel of an N that is not a multiple of NR (N = 128 with
 * NR = 6) then costs about nn / NR of a full call instead of a full call plus a merge. */
typedef void (*tc_gemm_ukr_narrow_fn)(int nn, int64_t kc, const void *alpha, const void *a,
                                      const void *b, const void *beta, void *c, int64_t ldc);

/* One kernel and its block sizes (all data). Invariants: mc % mr == 0, nc % nr == 0,
 * mr * nr * esize <= 2048 (the driver's edge-tile buffer). */
typedef struct tc_gemm_kernel {
    const char *name;   /* e.g. "avx512 32x12 f32" */
    int dtype;          /* TC_FLOAT32 or TC_FLOAT64 */
    int esize;          /* bytes per element */
    int mr, nr;         /* micro-tile */
    int kc, mc, nc;     /* cache blocks: B micro-panel kc x nr in L1, A block mc x kc in
                           L2, B panel kc x nc in L3 */
    tc_gemm_ukr_fn ukr;
    tc_gemm_ukr_narrow_fn ukr_narrow;   /* NULL: narrow panels go through ukr + merge */
} tc_gemm_kernel;

extern const tc_gemm_kernel tc_gemm_kernel_generic_f32;
extern const tc_gemm_kernel tc_gemm_kernel_generic_f64;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_GEMM_HAVE_X86_KERNELS 1
extern const tc_gemm_kernel tc_gemm_kernel_avx2_f32;
extern const tc_gemm_kernel tc_gemm_kernel_avx2_f64;
extern const tc_gemm_kernel tc_gemm_kernel_avx512_f32;
extern const tc_gemm_kernel tc_gemm_kernel_avx512_f64;
#endif
#if defined(__aarch64__) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_GEMM_HAVE_NEON_KERNELS 1
extern const tc_gemm_kernel tc_gemm_kernel_neon_f32;
extern const tc_gemm_kernel tc_gemm_kernel_neon_f64;
#endif

/* The kernel tc_gemm uses for dtype (TC_FLOAT32 / TC_FLOAT64): the family picked by the
 * SIMD level and TENSORCORE_GEMM_ISA, with KC/MC/NC from the cache model
 * (gemm_blocking.c). */
const tc_gemm_kernel *tc_gemm_select_kernel(int dtype);

/* Data caches of the CPU (L1d, L2, L3): bytes, associativity, line size; 0 bytes when
 * unknown. */
typedef struct tc_cache_level {
    int64_t size;
    int ways, line;
} tc_cache_level;
typedef struct tc_cache_info {
    tc_cache_level level[3];
} tc_cache_info;

/* Detected caches (read once); *source (if not NULL) gets "cpuid", "sysfs" or "default". */
const tc_cache_info *tc_cache_sizes_info(const char **source);

/* Sets k->kc, mc, nc from the BLIS analytical model for `caches` (unchanged when L1 or
 * L2 is unknown). */
void tc_gemm_model_blocks(const tc_cache_info *caches, tc_gemm_kernel *k);

/* Packs the rows x cols matrix src (element (r, q) at src[r * rs + q * cs], any
 * strides) into ceil(rows / w) micro-panels of w rows each: panel t, element (r, q)
 * goes to dst[t * w * cols + q * w + (r - t * w)]; rows past `rows` in the last panel
 * are zero-filled. dst holds ceil(rows / w) * w * cols elements of esize (4 or 8)
 * bytes. A is packed as (mc x kc, w = MR); B as its transpose (nc x kc, w = NR). */
void tc_gemm_pack(int esize, int w, int64_t rows, int64_t cols, const void *src, int64_t rs,
                  int64_t cs, void *dst);

#ifdef TC_GEMM_HAVE_X86_KERNELS
/* AVX2 transposing pack of one float32 micro-panel (gemm_pack_avx2.c): rows [0, h) of
 * src (row r at src + r * rs, unit column stride) to dst[q * w + r], rows h..w-1 zeroed.
 * Needs 1 <= h <= w and an AVX2 CPU. */
void tc_gemm_pack_panel_t8_f32(int w, int h, int64_t cols, const float *src, int64_t rs,
                               float *dst);
#endif

/* Blocked, packed float GEMM (gemm_packed.c). Preconditions: m, n, k >= 1, pointers
 * valid for every index, C not aliasing A or B, `kern` for this dtype. `threaded` = 0
 * keeps all work on the calling thread. Returns TC_OK or TC_ERR_NOMEM. */
int tc_gemm_packed(const tc_gemm_kernel *kern, int64_t m, int64_t n, int64_t k, double alpha,
                   const void *a, int64_t rsa, int64_t csa, const void *b, int64_t rsb,
                   int64_t csb, double beta, void *c, int64_t rsc, int64_t csc, int threaded);

/* Largest packed-B scratch tc_gemm_packed uses with `kern`, in bytes (plus one int flag
 * per micro-panel): max(8 MiB, KC * NC * esize). K is split into groups of KC blocks
 * that fit, so the bound does not depend on the problem size. */
int64_t tc_gemm_b_bound(const tc_gemm_kernel *kern);

/* Matrix-vector path (gemm_gemv.c) for m == 1 or n == 1: no packing; scratch is a few
 * bytes per thread. Same preconditions as tc_gemm_packed, float dtypes only. */
int tc_gemv(int dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
            int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta,
            void *c, int64_t rsc, int64_t csc, int threaded);

/* Per-thread scratch cache: a 64-byte aligned buffer of at least `bytes` bytes, kept in
 * thread-local slot `slot` (0 = packed B + panel flags of the calling thread, 1 = A block
 * of the executing thread, 2 = im2col tile of conv.c) and reused by later calls on the same thread; contents are
 * not preserved when it grows; freed when the thread exits. NULL when allocation fails. */
void *tc_gemm_scratch(int slot, size_t bytes);

#endif
