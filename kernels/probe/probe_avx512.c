// Roofline compute probes, AVX-512 (probe.h): 12 independent chains of 512-bit instructions.
//   fma:  vfmadd231ps zmm (16 lanes; Zen 4 issues it in two 256-bit halves, Zen 5 and Intel
//         server cores at full width: the probe measures whichever the CPU does)
//   int8: vpdpbusd zmm (AVX512-VNNI: 64 u8 x s8 products into 16 int32 lanes)
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; selected only where CPUID
// reports them and the OS saves ZMM state (cpu_features.c).
#include <immintrin.h>

#include "kernels/probe/probe.h"

float kiln_probe_fma_avx512(uint64_t reps) {
    __m512 c[12];
    for (int j = 0; j < 12; j++)
        c[j] = _mm512_set1_ps((float)j * 0.001f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = _mm512_fmadd_ps(c[j], a, b);
    for (int j = 1; j < 12; j++)
        c[0] = _mm512_add_ps(c[0], c[j]);
    return _mm512_reduce_add_ps(c[0]);
}

float kiln_probe_int8_avx512vnni(uint64_t reps) {
    __m512i c[12];
    for (int j = 0; j < 12; j++)
        c[j] = _mm512_set1_epi32(j + 1);
    const __m512i a = _mm512_set1_epi8(5), b = _mm512_set1_epi8(3);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = _mm512_dpbusd_epi32(c[j], a, b);
    for (int j = 1; j < 12; j++)
        c[0] = _mm512_add_epi32(c[0], c[j]);
    // The lanes have wrapped by now (as vpdpbusd does); summed as uint32, since
    // _mm512_reduce_add_epi32 adds them as int in C, which overflows (UBSan caught it).
    uint32_t lanes[16], sum = 0;
    _mm512_storeu_si512(lanes, c[0]);
    for (int i = 0; i < 16; i++)
        sum += lanes[i];
    return (float)sum;
}
