/* Vectorizable float32 log, tanh, sin, cos and sigmoid (internal; used by simd_math.c and
 * unary.c).
 *
 * Each is branch-free straight-line code on one element, so gcc vectorizes the loops that
 * call it (simd_math.c compiles them for generic x86-64, AVX2+FMA and AVX-512; -std=c11
 * turns off FMA contraction, so every variant gives the same bits). log and tanh compute
 * in float32 (log: the atanh series in a compensated form; tanh: a minimax polynomial or a
 * short exp); sin and cos compute in float32 (Cody-Waite reduction, minimax polynomials)
 * for |x| <= 2^12 and in double up to 2^19; sigmoid computes in double (a short exp,
 * one division, one rounding to float32). Measured errors: bench/README.md
 * (`python bench/ulp_error.py`). Special values follow C99 Annex F / the array API
 * standard: log(+-0) = -inf, log(x < 0) = NaN, log(inf) = inf, tanh(+-0) = +-0,
 * tanh(+-inf) = +-1, sin(+-0) = +-0, sigmoid(-inf) = 0, sigmoid(inf) = 1, NaN stays NaN. Type punning goes through memcpy (no
 * aliasing assumptions). */
#ifndef TC_VMATH_H
#define TC_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Bit casts through memcpy: tc_bits_f64(x) is x's bit pattern, tc_f64_bits(u) the double
 * with bit pattern u, and the same for float32. */
#define TC_BIT_CAST(NAME, FROM, TO)                                                     \
    static inline TO NAME(FROM x)                                                       \
    {                                                                                   \
        TO u;                                                                           \
        memcpy(&u, &x, sizeof u);                                                       \
        return u;                                                                       \
    }
TC_BIT_CAST(tc_bits_f64, double, uint64_t)
TC_BIT_CAST(tc_f64_bits, uint64_t, double)
TC_BIT_CAST(tc_bits_f32, float, int32_t)
TC_BIT_CAST(tc_f32_bits, int32_t, float)

/* log in float32: x = 2^k m, m in [sqrt(1/2), sqrt(2)) from the float's bits (subnormals
 * pre-scaled by 2^23), f = m - 1 (exact). With s = f / (2 + f) and z = s^2,
 * log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R)), R = 2z/3 + 2z^2/5 + 2z^3/7 + 2z^4/9
 * (|s| <= 0.1716: the series' remainder is below 1e-9 relative), so the rounding of s only
 * touches the small correction term. log x = k ln2_hi + (log(1 + f) + k ln2_lo), ln2_hi with
 * 16 significant bits (k ln2_hi exact). Branch-free (8 lanes per AVX2 register). */
static inline float tc_log_f32(float x)
{
    int tiny = x < 0x1p-126f;                     /* subnormal, zero, negative */
    float xs = tiny ? x * 0x1p23f : x;
    int32_t ix = tc_bits_f32(xs);
    int32_t k = ((ix >> 23) & 0xff) - 127 - (tiny ? 23 : 0);
    int32_t mb = (ix & 0x007fffff) | 0x3f800000;
    int big = mb > 0x3fb504f3;                    /* m > sqrt(2): halve it */
    mb -= big ? 0x00800000 : 0;
    k += big;
    float f = tc_f32_bits(mb) - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float r = 2.0f / 9;
    r = r * z + 2.0f / 7;
    r = r * z + 2.0f / 5;
    r = r * z + 2.0f / 3;
    r = r * z;
    float hfsq = 0.5f * f * f;
    float kf = (float)k;
    float lo = s * (hfsq + r) + kf * 0x1.7f7d1cp-20f;
    float out = kf * 0x1.62e400p-1f + (f - (hfsq - lo));
    out = x < 0.0f ? NAN : out;
    out = x == 0.0f ? -INFINITY : out;
    out = x == INFINITY ? x : out;
    return x != x ? x : out;
}

/* tanh in float32 (tc_exp_taylor7_f32 of tc_internal.h, included first), branch-free so
 * gcc vectorizes it with 8 lanes per AVX2 register. |x| < 0.75: odd minimax polynomial x + x^3 P(x^2), P of degree 6 (fitted for this file
 * by iterated weighted least squares on the relative error; 2.9e-9 with the float32
 * coefficients). |x| >= 0.75: 1 - 2 / (e + 1), e = exp(2 min(|x|, 10)) by a short exp
 * (the argument lies in [0, 20], so no clamping, subnormal or overflow handling as in
 * tc_exp_f32): y = k ln2 + r, |r| <= ln2/2 (ln2 in two parts), tc_exp_taylor7_f32(r),
 * 2^k added to the exponent bits. tanh rounds to 1 from |x| = 9.01 on, so
 * large |x| and infinities give exactly +-1. The sign comes back by copysign. A NaN takes the
 * polynomial side (min(NaN, 10) is 10, which keeps the exp finite) and stays NaN. For
 * |x| < 2^-12 the polynomial term is below half an ulp of |x|, so the result is x itself
 * (-0 stays -0). Measured over every float32: bench/README.md. */
static inline float tc_tanh_f32(float x)
{
    float a = fabsf(x);
    float z = a * a;
    float p = -0x1.4bcd0cp-11f;
    p = p * z + 0x1.85424ep-9f;
    p = p * z - 0x1.19b2a2p-7f;
    p = p * z + 0x1.653e3ap-6f;
    p = p * z - 0x1.ba0974p-5f;
    p = p * z + 0x1.1110c6p-3f;
    p = p * z - 0x1.555554p-2f;
    float small = a + a * z * p;
    float y = 2.0f * (a < 10.0f ? a : 10.0f);     /* NaN -> 10 */
    float kf = (y * 0x1.715476p0f + 0x1.8p23f) - 0x1.8p23f;
    float r = y - kf * 0x1.62e400p-1f;            /* exact: kf <= 29, 15-bit ln2 head */
    r = r - kf * 0x1.7f7d1cp-20f;
    float q = tc_exp_taylor7_f32(r);
    float e = tc_f32_bits(tc_bits_f32(q) + ((int32_t)kf << 23));
    float big = 1.0f - 2.0f / (e + 1.0f);
    return copysignf(a >= 0.75f ? big : small, x);
}

/* sin/cos in float32 for |x| <= TC_SINCOSF_LIMIT (the fast path). k = round(x * 2/pi);
 * r = x - k pi/2 by Cody-Waite with pi/2 split into three 12-bit parts and a float32 tail
 * (k has at most 12 bits, so k * part is exact without FMA; the split holds pi/2 to 2^-69).
 * The first difference is exact; the next two are error-free sums (Knuth's TwoSum) whose
 * errors, with the tail, are carried in a low part, so r = rh + rl keeps about 48 bits even
 * where x nearly cancels a multiple of pi/2. Minimax polynomials on |r| <= pi/4 (fitted
 * for this file by iterated weighted least squares): sin r = r + r^3 P(r^2) (relative
 * error 3.8e-9), cos r = 1 - r^2/2 + r^4 Q(r^2) (1.2e-10), rl entering to first order.
 * The quadrant k mod 4 (+1 for cos) picks sin or cos of r and the sign. Measured over every
 * float32 with |x| <= 2^12 against the double libm result: at most 1.02 ulp (sin and cos;
 * bench/README.md). sin of |x| < 2^-12 is x itself (keeps -0). Callers handle |x| beyond
 * the limit, infinities and NaN. */
#define TC_SINCOSF_LIMIT 0x1p12f
static inline float tc_sincosf_f32(float x, int offset)
{
    float kf = (x * 0x1.45f306p-1f + 0x1.8p23f) - 0x1.8p23f;
    float r1 = x - kf * 0x1.922p0f;               /* exact */
    float p2 = kf * 0x1.2aep-18f;
    float s2 = r1 + p2;                           /* TwoSum: s2 + err = r1 + p2 */
    float b = s2 - r1;
    float err = (r1 - (s2 - b)) + (p2 - b);
    float p3 = kf * 0x1.deap-31f;
    float s3 = s2 + p3;
    b = s3 - s2;
    err += (s2 - (s3 - b)) + (p3 - b);
    float lo = err - kf * 0x1.184698p-44f;
    float rh = s3 + lo;
    b = rh - s3;
    float rl = (s3 - (rh - b)) + (lo - b);
    float z = rh * rh;
    float ps = -0x1.994388p-13f;
    ps = ps * z + 0x1.11073ap-7f;
    ps = ps * z - 0x1.555546p-3f;
    float sn = rh + (rl + rh * z * ps);
    float pc = 0x1.99eb4ap-16f;
    pc = pc * z - 0x1.6c0c32p-10f;
    pc = pc * z + 0x1.55554ap-5f;
    float cs = 1.0f - (0.5f * z - (z * z * pc - rh * rl));
    int32_t q = (int32_t)kf + offset;
    float v = (q & 1) ? cs : sn;
    v = (q & 2) ? -v : v;
    return (offset == 0 && fabsf(x) < 0x1p-12f) ? x : v;
}

/* sin/cos: x = k pi/2 + r in double (3-part Cody-Waite, exact products for |k| < 2^20),
 * |r| <= pi/4, Taylor polynomials to r^9 / r^12 (truncation < 2e-9 relative). The
 * quadrant (k + offset) mod 4 picks sin or cos of r and the sign: offset 0 gives sin, 1 cos.
 * Valid for |x| <= TC_SINCOS_LIMIT; callers send larger |x|, infinities and NaN to libm. */
#define TC_SINCOS_LIMIT 0x1p19f
static inline float tc_sincos_f32(float x, int offset)
{
    double xd = x;
    double kd = (xd * 0x1.45f306dc9c883p-1 + 0x1.8p52) - 0x1.8p52;
    double r = xd - kd * 0x1.921fb54400000p0;
    r = r - kd * 0x1.0b4611a600000p-34;
    r = r - kd * 0x1.3198a2e037073p-69;
    int32_t q = (int32_t)kd + offset;
    double z = r * r;
    double ps = 1.0 / 362880;
    ps = ps * z - 1.0 / 5040;
    ps = ps * z + 1.0 / 120;
    ps = ps * z - 1.0 / 6;
    double sn = r + r * z * ps;
    double pc = 1.0 / 479001600;
    pc = pc * z - 1.0 / 3628800;
    pc = pc * z + 1.0 / 40320;
    pc = pc * z - 1.0 / 720;
    pc = pc * z + 1.0 / 24;
    pc = pc * z - 0.5;
    double cs = 1.0 + z * pc;
    double v = (q & 1) ? cs : sn;
    v = (q & 2) ? -v : v;
    return (offset == 0 && fabsf(x) < 0x1p-12f) ? x : (float)v;   /* sin(-0) = -0 */
}

/* sin (offset 0) or cos (offset 1) of any float32: the float32 polynomial, then the double
 * one, libm beyond both (and for infinities and NaN). */
static inline float tc_sincos_any_f32(float x, int offset)
{
    if (fabsf(x) <= TC_SINCOSF_LIMIT) {
        return tc_sincosf_f32(x, offset);
    }
    if (fabsf(x) <= TC_SINCOS_LIMIT) {
        return tc_sincos_f32(x, offset);
    }
    return offset ? cosf(x) : sinf(x);
}

/* Logistic of a float32 in double: s = 1 / (1 + e), e = exp(-x) = 2^k e^r with
 * k = round(-x / ln2) and r = -x - k ln2 (|r| <= ln2/2, ln2 as a double: r is exact to
 * about 2^-60 relative), e^r by a degree-6 minimax polynomial (fitted for this file by
 * iterated weighted least squares on the relative error: 2.0e-9 on |r| <= 1.001 ln2/2),
 * 2^k added to the exponent bits: k sits in the low bits of the rounding sum
 * -x/ln2 + 1.5 * 2^52, so the shift needs no float-to-int64 conversion, which AVX2 lacks,
 * and the loop vectorizes with 4 doubles per AVX2 register. The only rounding that matters
 * is the final one to float32: at most 0.53 ulp measured over every float32 in [-20, 20]
 * (bench/README.md). -x is clamped to [-104, 104] in float32 first (e^104 is a normal
 * double; sigmoid(-104) rounds to +0 in float32 and sigmoid(104) to 1, like -inf and
 * +inf); NaN takes the clamp and is returned as it came. */
static inline float tc_sigmoid_f32(float x)
{
    float nx = x < 104.0f ? -x : -104.0f;         /* NaN -> -104 */
    nx = nx < 104.0f ? nx : 104.0f;
    double t = nx;
    double shifted = t * 0x1.71547652b82fep0 + 0x1.8p52;     /* 1.5 * 2^52 + k */
    double kd = shifted - 0x1.8p52;
    double r = t - kd * 0x1.62e42fefa39efp-1;
    double p = 0x1.6ae68a1d28248p-10;
    p = p * r + 0x1.1268311d34b6cp-7;
    p = p * r + 0x1.55582534a5895p-5;
    p = p * r + 0x1.5554181de0df3p-3;
    p = p * r + 0x1.fffffc16fdc40p-2;
    p = p * r + 0x1.0000008af8ad9p+0;
    p = p * r + 1.0;
    double e = tc_f64_bits(tc_bits_f64(p) + (tc_bits_f64(shifted) << 52));     /* p 2^k */
    float s = (float)(1.0 / (1.0 + e));
    return x != x ? x : s;
}

static inline double tc_sigmoid_f64(double x)
{
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    double e = exp(x);
    return e / (1.0 + e);
}

#endif
