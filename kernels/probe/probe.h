// Roofline probes: the kernels `kiln bench roofline` times to measure a device's ceilings.
//   read  sums `bytes` of f32 (memory read bandwidth; the sum is stored so it cannot be elided)
//   copy  copies `bytes` from a to b (bandwidth counted as read + write)
//   fma   a fixed count of independent fused multiply-adds on registers (peak FLOP/s)
// Each CPU version does thread ith's share of the work; the backend runs them on its pool.
#pragma once

#include <stddef.h>
#include <stdint.h>

// FLOPs one call of the FMA probe does per unit of `reps` (so callers can size the work).
#define KILN_PROBE_FMA_FLOPS_PER_REP_AVX2 (12 * 8 * 2)
#define KILN_PROBE_FMA_FLOPS_PER_REP_REF (8 * 2)

float kiln_probe_read_avx2(const float *a, size_t n);
void kiln_probe_copy_avx2(float *dst, const float *src, size_t n);
float kiln_probe_fma_avx2(uint64_t reps);

float kiln_probe_read_ref(const float *a, size_t n);
void kiln_probe_copy_ref(float *dst, const float *src, size_t n);
float kiln_probe_fma_ref(uint64_t reps);

// True where the AVX2 versions exist and the CPU has AVX2+FMA (probe_select.c).
#include <stdbool.h>
bool kiln_probe_has_avx2(void);
