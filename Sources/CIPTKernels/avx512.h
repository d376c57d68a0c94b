// Shared by the kernels' .c files (not part of the module's public header): the target attribute
// and the single-rounding float operations every kernel is written with. Include it only inside
// an x86-64 guard, after `#pragma clang fp contract(off)`, so that no multiply-add is fused.
#ifndef IPT_AVX512_H
#define IPT_AVX512_H

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq")))

AVX512 static inline __m512 mul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
AVX512 static inline __m512 add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
AVX512 static inline __m512 sub(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
AVX512 static inline __m512 con(float c) { return _mm512_set1_ps(c); }

// c[0] x^(n-1) + c[1] x^(n-2) + ... + c[n-1] by Horner's rule, each step a multiplication and an
// addition rounded on their own, as the Swift definitions' chains (a subtraction of c there is an
// addition of -c here: the same result bit for bit).
AVX512 static inline __m512 horner(__m512 x, const float *c, int n) {
    __m512 p = con(c[0]);
    for (int i = 1; i < n; i++) p = add(mul(p, x), con(c[i]));
    return p;
}

#endif
