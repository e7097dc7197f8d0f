// Roofline int8 probe, AVX-VNNI (probe.h): 12 independent chains of vpdpbusd ymm (32 u8 x s8
// products into 8 int32 lanes per instruction; latency 4-5, 2 per cycle on Alder Lake / Zen 5).
// Compiled with -mavx2 -mavxvnni; selected only where CPUID reports AVX-VNNI.
#include <immintrin.h>

#include "kernels/probe/probe.h"

float kiln_probe_int8_avxvnni(uint64_t reps) {
    __m256i c[12];
    for (int j = 0; j < 12; j++)
        c[j] = _mm256_set1_epi32(j + 1);
    const __m256i a = _mm256_set1_epi8(5), b = _mm256_set1_epi8(3);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = _mm256_dpbusd_avx_epi32(c[j], a, b);
    for (int j = 1; j < 12; j++)
        c[0] = _mm256_add_epi32(c[0], c[j]);
    return (float)_mm256_extract_epi32(c[0], 0);
}
