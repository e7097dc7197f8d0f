// Roofline probes: the kernels `kiln bench roofline` times to measure a device's ceilings.
//   read  sums `bytes` of f32 (memory read bandwidth; the sum is stored so it cannot be elided)
//   copy  copies `bytes` from a to b (bandwidth counted as read + write)
//   fma   a fixed count of independent fused multiply-adds on registers (peak FLOP/s), with the
//         widest vectors the CPU has (AVX-512 zmm, else AVX2 ymm, NEON q registers)
//   int8  a fixed count of independent int8 dot products on registers (peak integer op/s, two
//         ops per multiply-add, as FLOPs count an FMA): the instructions quantized kernels use,
//         vpdpbusd zmm (AVX512-VNNI), vpdpbusd ymm (AVX-VNNI), vpmaddubsw+vpaddw
//         (AVX2), sdot (Armv8.2 dotprod)
// Each CPU version does thread ith's share of the work; the backend runs them on its pool.
// Versions: v1 read/copy/fma (AVX2 ymm only: on an AVX-512 CPU the FMA peak read half the
// machine's, and a prefill could show "77% of the FMA peak" while llama.cpp ran 2.8x faster on
// int8 dot products); v2 (this) the widest FMA and the int8 peak.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

float kiln_probe_read_avx2(const float *a, size_t n);
void kiln_probe_copy_avx2(float *dst, const float *src, size_t n);

float kiln_probe_read_ref(const float *a, size_t n);
void kiln_probe_copy_ref(float *dst, const float *src, size_t n);
float kiln_probe_fma_ref(uint64_t reps);
#define KILN_PROBE_FMA_FLOPS_PER_REP_REF (8 * 2)

// True where the AVX2 read/copy versions exist and the CPU has AVX2+FMA (probe_select.c).
bool kiln_probe_has_avx2(void);

// A compute probe: `run(reps)` does reps x ops_per_rep operations on registers.
struct kiln_probe_compute {
    const char *isa;     // what it issues, for the report: "avx512 zmm vfmadd231ps"
    double ops_per_rep;
    float (*run)(uint64_t reps);
};

// The widest FMA probe this CPU and build run (never NULL: the portable one at worst), and the
// best int8 dot-product probe (NULL where there is none: a CPU without AVX2 or dotprod).
const struct kiln_probe_compute *kiln_probe_fma_select(void);
const struct kiln_probe_compute *kiln_probe_int8_select(void);

// The per-ISA compute probes (each in its own file, compiled for its ISA).
float kiln_probe_fma_avx2(uint64_t reps);
float kiln_probe_int8_avx2(uint64_t reps);
float kiln_probe_int8_avxvnni(uint64_t reps);
float kiln_probe_fma_avx512(uint64_t reps);
float kiln_probe_int8_avx512vnni(uint64_t reps);
float kiln_probe_fma_neon(uint64_t reps);
float kiln_probe_int8_neon_dotprod(uint64_t reps);
