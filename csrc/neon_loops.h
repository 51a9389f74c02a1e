/* NEON (AArch64 ASIMD) inner loops for the hottest float32 passes (neon_loops.c): the
 * four arithmetic binary ops on unit-stride and scalar-broadcast operands, and the sum
 * folds of tc_reduce. Callers use them only when tc_simd_level_id() is TC_SIMD_NEON, so
 * TENSORCORE_SIMD=generic runs the plain C loops on the same machine; results are
 * bit-identical to those loops (same operations, same summation order). Not public API. */
#ifndef TC_NEON_LOOPS_H
#define TC_NEON_LOOPS_H

#include <stdint.h>

#if defined(__aarch64__) && defined(__GNUC__) && !defined(TC_NO_SIMD)
#define TC_HAVE_NEON_LOOPS 1

enum { TC_NEON_ADD = 0, TC_NEON_SUB = 1, TC_NEON_MUL = 2, TC_NEON_DIV = 3 };

/* o[i] = a[i * sa] OP b[i * sb] for i < n, unit-stride o, (sa, sb) one of (1, 1), (1, 0),
 * (0, 1); a scalar operand is read once, before any store. Returns 0 (nothing written)
 * for other strides and when o partly overlaps a vector operand (o == a or o == b is
 * fine: in place). */
int tc_neon_binary_f32(int op, float *o, const float *a, int64_t sa, const float *b,
                       int64_t sb, int64_t n);

/* Sum of x[0..n) (n >= 8) in double, in the order of the generic row fold of
 * reduce_loops.h: 8 lanes, lane k takes x[i + k], the tail goes to lane 0, lanes merged
 * pairwise. */
double tc_neon_sum8_f32(const float *x, int64_t n);

/* acc[j] += rows[r][j] for r < rows, j < n (row r at p + r * rs bytes, unit stride), in
 * double, each column in row order as the generic column fold does. */
void tc_neon_col_sum_f32(double *acc, const char *p, int64_t n, int64_t rows, int64_t rs);
#endif

#endif
