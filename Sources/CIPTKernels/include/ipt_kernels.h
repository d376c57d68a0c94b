// Hand-vectorised kernels that Swift cannot express: Swift compiles for the baseline x86-64
// instruction set, and these use AVX-512 when the CPU has it (checked at run time). Each has a
// lane-by-lane definition in IPTCore that it reproduces bit for bit (tested there); callers fall
// back to that definition when a kernel returns 0.
#ifndef IPT_KERNELS_H
#define IPT_KERNELS_H

#include <stdint.h>

/// Writes the standard normal values of `CounterRandom(key)` for indices start ..< start + count
/// into out[0 ..< count] (count a multiple of 16). Returns 1, or 0 (nothing written) when the CPU
/// lacks AVX-512F/DQ.
int ipt_counter_normals(uint64_t key, int64_t start, int64_t count, float *out);

/// Writes `BijectivePermutation(i) & output_mask` for i in start ..< start + count into
/// out[0 ..< count] (count a multiple of 8). `multipliers` and `addends` hold the permutation's
/// four rounds; `mask` is 2^bits - 1. Returns 1, or 0 (nothing written) without AVX-512F/DQ.
int ipt_permutation_bins(const uint64_t multipliers[4], const uint64_t addends[4], uint64_t mask, uint64_t shift,
                         int64_t start, int64_t count, uint32_t output_mask, uint32_t *out);

#endif
