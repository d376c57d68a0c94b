#include "ipt_kernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

// Every multiplication and addition below must round on its own, as in the Swift definition.
#pragma clang fp contract(off)

#include "avx512.h"

int ipt_has_avx512(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    }
    return cached;
}

// SplitMix64's finaliser over key and index + 1, eight lanes.
AVX512 static inline __m512i counter_bits(__m512i key, __m512i index) {
    __m512i z = _mm512_add_epi64(key, _mm512_mullo_epi64(_mm512_add_epi64(index, _mm512_set1_epi64(1)),
                                                          _mm512_set1_epi64((long long)0x9E3779B97F4A7C15ULL)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94D049BB133111EBULL));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// -x in the lanes of `lanes` (the sign bit flipped, as Swift's negation does; 0 - x would give +0 for 0).
AVX512 static inline __m512 negate(__m512 x, __mmask16 lanes) {
    return _mm512_castsi512_ps(_mm512_mask_xor_epi32(_mm512_castps_si512(x), lanes, _mm512_castps_si512(x),
                                                     _mm512_set1_epi32((int)0x80000000u)));
}

AVX512 static void normals_avx512(uint64_t key, int64_t start, int64_t count, float *out) {
    const __m512i keys = _mm512_set1_epi64((long long)key);
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int64_t i = 0; i < count; i += 16) {
        __m512i first = counter_bits(keys, _mm512_add_epi64(_mm512_set1_epi64(start + i), lanes));
        __m512i second = counter_bits(keys, _mm512_add_epi64(_mm512_set1_epi64(start + i + 8), lanes));
        __m512i low = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(first)), _mm512_cvtepi64_epi32(second), 1);
        __m512i high = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(first, 32))),
                                          _mm512_cvtepi64_epi32(_mm512_srli_epi64(second, 32)), 1);
        __m512 u1 = mul(add(_mm512_cvtepi32_ps(_mm512_srli_epi32(low, 8)), con(0.5f)), con(0x1p-24f));
        __m512 u2 = mul(_mm512_cvtepi32_ps(_mm512_srli_epi32(high, 8)), con(0x1p-24f));
        // log(u1), Cephes logf form.
        __m512i bits = _mm512_castps_si512(u1);
        __m512 exponent = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srai_epi32(bits, 23), _mm512_set1_epi32(127)));
        __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)),
                                                       _mm512_set1_epi32(0x3F800000)));
        __mmask16 large = _mm512_cmp_ps_mask(m, con(1.41421356f), _CMP_GT_OQ);
        m = _mm512_mask_mul_ps(m, large, m, con(0.5f));
        exponent = _mm512_mask_add_ps(exponent, large, exponent, con(1.0f));
        __m512 f = sub(m, con(1.0f));
        __m512 z = mul(f, f);
        __m512 p = horner(f, (const float[]){7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
            1.4249322787e-1f, -1.6668057664e-1f, 2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f}, 9);
        __m512 y = mul(mul(p, z), f);
        y = sub(y, mul(con(0.5f), z));
        __m512 logarithm = add(add(f, y), mul(exponent, con(0.69314718056f)));
        // cos(2 pi u2).
        __m512 t = _mm512_mask_sub_ps(u2, _mm512_cmp_ps_mask(u2, con(0.5f), _CMP_GT_OQ), u2, con(1.0f));
        t = negate(t, _mm512_cmp_ps_mask(t, con(0.0f), _CMP_LT_OQ));
        __mmask16 flip = _mm512_cmp_ps_mask(t, con(0.25f), _CMP_GT_OQ);
        t = _mm512_mask_sub_ps(t, flip, con(0.5f), t);
        __m512 x = mul(t, con(6.28318530718f));
        __m512 x2 = mul(x, x);
        __m512 q = horner(x2, (const float[]){-2.755731922e-7f, 2.480158730e-5f, -1.388888889e-3f, 4.166666667e-2f,
            -0.5f, 1.0f}, 6);
        q = negate(q, flip);
        _mm512_storeu_ps(out + i, mul(_mm512_sqrt_ps(mul(con(-2.0f), logarithm)), q));
    }
}

AVX512 static void permutation_avx512(const uint64_t multipliers[4], const uint64_t addends[4], uint64_t mask,
                                      uint64_t shift, int64_t start, int64_t count, uint32_t output_mask, uint32_t *out) {
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i masks = _mm512_set1_epi64((long long)mask);
    const __m128i shifts = _mm_set_epi64x(0, (long long)shift);
    __m512i m[4], a[4];
    for (int r = 0; r < 4; r++) {
        m[r] = _mm512_set1_epi64((long long)multipliers[r]);
        a[r] = _mm512_set1_epi64((long long)addends[r]);
    }
    for (int64_t i = 0; i < count; i += 8) {
        __m512i x = _mm512_add_epi64(_mm512_set1_epi64(start + i), lanes);
        for (int r = 0; r < 4; r++) {
            x = _mm512_and_si512(_mm512_add_epi64(_mm512_mullo_epi64(x, m[r]), a[r]), masks);
            x = _mm512_xor_si512(x, _mm512_srl_epi64(x, shifts));
        }
        __m256i low = _mm512_cvtepi64_epi32(x);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_and_si256(low, _mm256_set1_epi32((int)output_mask)));
    }
}

int ipt_counter_normals(uint64_t key, int64_t start, int64_t count, float *out) {
    if (!ipt_has_avx512()) return 0;
    normals_avx512(key, start, count, out);
    return 1;
}

int ipt_permutation_bins(const uint64_t multipliers[4], const uint64_t addends[4], uint64_t mask, uint64_t shift,
                         int64_t start, int64_t count, uint32_t output_mask, uint32_t *out) {
    if (!ipt_has_avx512()) return 0;
    permutation_avx512(multipliers, addends, mask, shift, start, count, output_mask, out);
    return 1;
}

#else

int ipt_has_avx512(void) { return 0; }

int ipt_counter_normals(uint64_t key, int64_t start, int64_t count, float *out) {
    (void)key; (void)start; (void)count; (void)out;
    return 0;
}

int ipt_permutation_bins(const uint64_t multipliers[4], const uint64_t addends[4], uint64_t mask, uint64_t shift,
                         int64_t start, int64_t count, uint32_t output_mask, uint32_t *out) {
    (void)multipliers; (void)addends; (void)mask; (void)shift; (void)start; (void)count; (void)output_mask; (void)out;
    return 0;
}

#endif
