// AVX-512 forms of IPTCore's vectorised elementary functions and kernels (Kernels/VectorMath.swift,
// Kernels/RowKernels.swift, Kernels/OptimizerKernels.swift): the same operations in the same order
// on 16 lanes, so the results are bit-identical to the Swift definitions, which Swift compiles for
// baseline x86-64 (SSE2: four instructions per 16-lane operation, and masked selects spelt out).
// Tested lane by lane in Tests/IPTCoreTests/NativeKernelTests.swift.
#include "ipt_kernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

// Every multiplication and addition below must round on its own, as in the Swift definition.
#pragma clang fp contract(off)

#include "avx512.h"
#include <float.h>
#include <math.h>

AVX512 static inline __m512 blend(__mmask16 where, __m512 with, __m512 otherwise) {
    return _mm512_mask_mov_ps(otherwise, where, with);
}
AVX512 static inline __mmask16 greater(__m512 a, float b) { return _mm512_cmp_ps_mask(a, con(b), _CMP_GT_OQ); }
AVX512 static inline __mmask16 less(__m512 a, float b) { return _mm512_cmp_ps_mask(a, con(b), _CMP_LT_OQ); }
AVX512 static inline __mmask16 is_nan(__m512 a) { return _mm512_cmp_ps_mask(a, a, _CMP_NEQ_UQ); }
AVX512 static inline __m512 flip_sign(__m512 x) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
}
AVX512 static inline __m512 magnitude(__m512 x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
}
AVX512 static inline __m512 copy_sign(__m512 x, __m512 sign) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)),
                                               _mm512_and_si512(_mm512_castps_si512(sign),
                                                                _mm512_set1_epi32((int)0x80000000u))));
}

// The pairwise sum of IPTCore's horizontalSum: halves added until one lane is left.
AVX512 static inline float horizontal_sum(__m512 v) {
    __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
    __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    return _mm_cvtss_f32(two) + _mm_cvtss_f32(_mm_shuffle_ps(two, two, 1));
}

// vexp.
AVX512 static inline __m512 exp16(__m512 x) {
    const __mmask16 high = greater(x, 88.72283f), low = less(x, -103.97208f), nan = is_nan(x);
    __m512 clamped = blend(high, con(88.72283f), x);
    clamped = blend(low, con(-103.97208f), clamped);
    clamped = blend(nan, con(0.0f), clamped);
    __m512 shifted = add(mul(clamped, con(1.4426950408889634f)), con(12582912.0f));
    __m512 n = sub(shifted, con(12582912.0f));
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000));
    __m512 r = sub(clamped, mul(n, con(0.693359375f)));
    r = sub(r, mul(n, con(-2.1219444e-4f)));
    __m512 r2 = mul(r, r);
    __m512 p = horner(r, (const float[]){1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
        1.6666665459e-1f, 5.0000001201e-1f}, 6);
    p = add(add(mul(p, r2), r), con(1.0f));
    __m512i half = _mm512_srai_epi32(ni, 1);
    __m512 scale1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, _mm512_set1_epi32(127)), 23));
    __m512 scale2 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, half), _mm512_set1_epi32(127)), 23));
    __m512 result = mul(mul(p, scale1), scale2);
    result = blend(high, con(__builtin_inff()), result);
    result = blend(low, con(0.0f), result);
    return blend(nan, x, result);
}

// verf.
AVX512 static inline __m512 erf16(__m512 x) {
    __m512 ax = magnitude(x);
    __m512 u = mul(ax, ax);
    __m512 q = horner(u, (const float[]){-9.680133189249318e-06f, 0.00011270543473074213f, -0.00084847112884745f,
        0.005221074912697077f, -0.02686544507741928f, 0.11283782869577408f, -0.37612637877464294f,
        0.12837916612625122f}, 8);
    __m512 small = add(ax, mul(ax, q));
    const __mmask16 below_one = less(ax, 1.0f);
    __m512 t = _mm512_div_ps(con(1.0f), blend(greater(ax, 4.0f), con(4.0f), blend(below_one, con(1.0f), ax)));
    __m512 g = horner(t, (const float[]){-0.011375083588063717f, 0.03800125792622566f, 0.004023976158350706f,
        -0.21906596422195435f, 0.48093709349632263f, -0.46466609835624695f, 0.040159422904253006f,
        0.5593158602714539f, 0.0002530918864067644f}, 9);
    __m512 result = sub(con(1.0f), mul(exp16(flip_sign(u)), g));
    result = blend(below_one, small, result);
    result = copy_sign(result, x);
    return blend(is_nan(x), x, result);
}

AVX512 static float row_max_avx512(const float *x, int64_t count) {
    __m512 best = con(-__builtin_inff());
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        best = blend(_mm512_cmp_ps_mask(v, best, _CMP_GT_OQ), v, best);
    }
    float result = _mm512_reduce_max_ps(best);
    for (; i < count; i++) result = x[i] > result ? x[i] : result;
    return result;
}

AVX512 static float exp_shifted_avx512(const float *x, float *out, int64_t count, float shift) {
    __m512 total = con(0.0f);
    const __m512 s = con(shift);
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 e = exp16(sub(_mm512_loadu_ps(x + i), s));
        _mm512_storeu_ps(out + i, e);
        total = add(total, e);
    }
    float result = horizontal_sum(total);
    if (i < count) {
        const __mmask16 tail = (__mmask16)((1u << (count - i)) - 1);
        __m512 e = exp16(blend(tail, sub(_mm512_maskz_loadu_ps(tail, x + i), s), con(-__builtin_inff())));
        _mm512_mask_storeu_ps(out + i, tail, e);
        float lanes[16];
        _mm512_storeu_ps(lanes, e);
        for (int64_t j = 0; j < count - i; j++) result += lanes[j];
    }
    return result;
}

AVX512 static inline void gelu16(__m512 x, float *value, float *slope, __mmask16 lanes) {
    __m512 erf = erf16(mul(x, con(0.7071067811865475f)));
    if (!slope) {
        _mm512_mask_storeu_ps(value, lanes, mul(mul(x, con(0.5f)), add(con(1.0f), erf)));
        return;
    }
    __m512 cdf = mul(con(0.5f), add(con(1.0f), erf));
    __m512 pdf = mul(exp16(mul(mul(con(-0.5f), x), x)), con(0.3989422804014327f));
    _mm512_mask_storeu_ps(value, lanes, mul(x, cdf));
    _mm512_mask_storeu_ps(slope, lanes, add(cdf, mul(x, pdf)));
}

AVX512 static void gelu_avx512(const float *x, float *value, float *slope, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) gelu16(_mm512_loadu_ps(x + i), value + i, slope ? slope + i : 0, 0xFFFF);
    if (i < count) {
        const __mmask16 tail = (__mmask16)((1u << (count - i)) - 1);
        gelu16(_mm512_maskz_loadu_ps(tail, x + i), value + i, slope ? slope + i : 0, tail);
    }
}

AVX512 static float dot_avx512(const float *x, const float *y, int64_t count) {
    __m512 total = con(0.0f);
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) total = add(total, mul(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    float result = horizontal_sum(total);
    for (; i < count; i++) result += x[i] * y[i];
    return result;
}

AVX512 static inline __m512 adamw16(float *w, float *m, float *v, const float *g, __mmask16 lanes, __m512 scale,
                                    __m512 b1, __m512 c1, __m512 b2, __m512 c2, __m512 eps, __m512 decay, __m512 step,
                                    __m512 root2) {
    __m512 gi = mul(_mm512_maskz_loadu_ps(lanes, g), scale);
    __m512 mi = add(mul(b1, _mm512_maskz_loadu_ps(lanes, m)), mul(c1, gi));
    __m512 vi = add(mul(b2, _mm512_maskz_loadu_ps(lanes, v)), mul(mul(c2, gi), gi));
    _mm512_mask_storeu_ps(m, lanes, mi);
    _mm512_mask_storeu_ps(v, lanes, vi);
    __m512 denominator = add(_mm512_div_ps(_mm512_sqrt_ps(vi), root2), eps);
    __m512 wi = sub(mul(_mm512_maskz_loadu_ps(lanes, w), decay), _mm512_div_ps(mul(step, mi), denominator));
    _mm512_mask_storeu_ps(w, lanes, wi);
    return wi;
}

// Returns the largest |w| written, or +inf when one is not finite (NaN included).
AVX512 static float adamw_avx512(float *w, float *m, float *v, const float *g, int64_t count, float grad_scale,
                                 float beta1, float beta2, float epsilon, float decay, float step_size,
                                 float root_correction2) {
    const __m512 scale = con(grad_scale), b1 = con(beta1), c1 = con(1.0f - beta1), b2 = con(beta2), c2 = con(1.0f - beta2);
    const __m512 eps = con(epsilon), d = con(decay), step = con(step_size), root2 = con(root_correction2);
    const __m512 largest_finite = con(FLT_MAX);
    __m512 largest = con(0.0f);
    __mmask16 finite = 0xFFFF;
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 magnitude = _mm512_abs_ps(adamw16(w + i, m + i, v + i, g + i, 0xFFFF, scale, b1, c1, b2, c2, eps, d, step, root2));
        finite &= _mm512_cmp_ps_mask(magnitude, largest_finite, _CMP_LE_OQ);  // false for NaN and inf
        largest = _mm512_max_ps(largest, magnitude);
    }
    if (i < count) {
        __mmask16 lanes = (__mmask16)((1u << (count - i)) - 1);
        __m512 magnitude = _mm512_abs_ps(adamw16(w + i, m + i, v + i, g + i, lanes, scale, b1, c1, b2, c2, eps, d, step, root2));
        finite &= _mm512_mask_cmp_ps_mask(lanes, magnitude, largest_finite, _CMP_LE_OQ) | (__mmask16)~lanes;
        largest = _mm512_mask_max_ps(largest, lanes, largest, magnitude);
    }
    return finite == 0xFFFF ? _mm512_reduce_max_ps(largest) : INFINITY;
}

int ipt_dot(const float *x, const float *y, int64_t count, float *result) {
    if (!ipt_has_avx512()) return 0;
    *result = dot_avx512(x, y, count);
    return 1;
}

int ipt_adamw(float *w, float *m, float *v, const float *g, int64_t count, float grad_scale, float beta1, float beta2,
              float epsilon, float decay, float step_size, float root_correction2, float *largest) {
    if (!ipt_has_avx512()) return 0;
    *largest = adamw_avx512(w, m, v, g, count, grad_scale, beta1, beta2, epsilon, decay, step_size, root_correction2);
    return 1;
}

int ipt_row_max(const float *x, int64_t count, float *result) {
    if (!ipt_has_avx512()) return 0;
    *result = row_max_avx512(x, count);
    return 1;
}

int ipt_exp_shifted(const float *x, float *out, int64_t count, float shift, float *sum) {
    if (!ipt_has_avx512()) return 0;
    *sum = exp_shifted_avx512(x, out, count, shift);
    return 1;
}

int ipt_gelu(const float *x, float *value, float *slope, int64_t count) {
    if (!ipt_has_avx512()) return 0;
    gelu_avx512(x, value, slope, count);
    return 1;
}

#else

int ipt_dot(const float *x, const float *y, int64_t count, float *result) {
    (void)x; (void)y; (void)count; (void)result;
    return 0;
}

int ipt_adamw(float *w, float *m, float *v, const float *g, int64_t count, float grad_scale, float beta1, float beta2,
              float epsilon, float decay, float step_size, float root_correction2, float *largest) {
    (void)w; (void)m; (void)v; (void)g; (void)count; (void)grad_scale; (void)beta1; (void)beta2; (void)epsilon;
    (void)decay; (void)step_size; (void)root_correction2; (void)largest;
    return 0;
}

int ipt_row_max(const float *x, int64_t count, float *result) {
    (void)x; (void)count; (void)result;
    return 0;
}

int ipt_exp_shifted(const float *x, float *out, int64_t count, float shift, float *sum) {
    (void)x; (void)out; (void)count; (void)shift; (void)sum;
    return 0;
}

int ipt_gelu(const float *x, float *value, float *slope, int64_t count) {
    (void)x; (void)value; (void)slope; (void)count;
    return 0;
}

#endif
