// Hand-vectorised kernels that Swift cannot express: Swift compiles for the baseline x86-64
// instruction set, and these use AVX-512 when the CPU has it (checked at run time). Each has a
// lane-by-lane definition in IPTCore that it reproduces bit for bit (tested there); callers fall
// back to that definition when a kernel returns 0.
#ifndef IPT_KERNELS_H
#define IPT_KERNELS_H

#include <stdint.h>

/// 1 when the CPU has AVX-512F and AVX-512DQ (the kernels below run), else 0.
int ipt_has_avx512(void);

/// Writes the standard normal values of `CounterRandom(key)` for indices start ..< start + count
/// into out[0 ..< count] (count a multiple of 16). Returns 1, or 0 (nothing written) when the CPU
/// lacks AVX-512F/DQ.
int ipt_counter_normals(uint64_t key, int64_t start, int64_t count, float *out);

/// Writes `BijectivePermutation(i) & output_mask` for i in start ..< start + count into
/// out[0 ..< count] (count a multiple of 8). `multipliers` and `addends` hold the permutation's
/// four rounds; `mask` is 2^bits - 1. Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_permutation_bins(const uint64_t multipliers[4], const uint64_t addends[4], uint64_t mask, uint64_t shift,
                         int64_t start, int64_t count, uint32_t output_mask, uint32_t *out);

/// The largest of x[0 ..< count] (-inf for none) into *result, as IPTCore's rowMaximum.
/// Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_row_max(const float *x, int64_t count, float *result);

/// out[j] = e^(x[j] - shift) for j < count and their sum into *sum, bit for bit as IPTCore's
/// exponentiateShifted (out may be x). Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_exp_shifted(const float *x, float *out, int64_t count, float shift, float *sum);

/// GELU (erf form) of x[0 ..< count] into value and, when slope is not NULL, its derivative into
/// slope, bit for bit as IPTCore's Tensor.gelu (without slope: its no-gradient form).
/// Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_gelu(const float *x, float *value, float *slope, int64_t count);

/// The dot product of x and y (count floats each) into *result, bit for bit as IPTCore's rowDot.
/// Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_dot(const float *x, const float *y, int64_t count, float *result);

/// One AdamW update of count weights w and moments m, v from gradients g (each multiplied by
/// grad_scale first: gradient clipping), in place, bit for bit as IPTCore's AdamWUpdate; the
/// largest |w| written into *largest (+inf when one is not finite). Returns 1, or 0 (nothing
/// written) without AVX-512F/DQ.
int ipt_adamw(float *w, float *m, float *v, const float *g, int64_t count, float grad_scale, float beta1, float beta2,
              float epsilon, float decay, float step_size, float root_correction2, float *largest);

#endif
