// Roofline probes, AVX2+FMA (probe.h). Compiled with -mavx2 -mfma.
//   read: 8 independent accumulators of 32-byte loads, so the loop is bound by the loads
//         (2 per cycle), not by the add latency.
//   copy: 32-byte loads and stores; for buffers far beyond the caches this is the ordinary
//         store path (read-for-ownership included), as STREAM's copy measures.
//   fma:  12 independent FMA chains (latency 4 x 2 ports needs >= 8 in flight) per repetition.
//   int8: 12 independent chains of vpmaddubsw + vpaddw (32 u8 x s8 products as 16 int16 pair
//         sums, accumulated in int16): the AVX2 int8 dot product's best rate, which kiln's
//         K-quant GEMM and x16 GEMVs reach by summing several maddubs in int16 before one
//         vpmaddwd. Each chain feeds its accumulator back in as the u8 operand so nothing is
//         loop-invariant.
//         v1 timed vpmaddubsw + vpmaddwd + vpaddd per 32 products: on Zen 1 (vpmaddubsw and
//         vpmaddwd share one multiply pipe, 2 cycles per ymm each) that is half the maddubs
//         rate, and TinyLlama Q4_K_M prefill read "105% of the int8 peak".
#include <immintrin.h>

#include "kernels/common/simd_x86.h"
#include "kernels/probe/probe.h"

float kiln_probe_read_avx2(const float *a, size_t n) {
    __m256 acc[8];
    for (int i = 0; i < 8; i++)
        acc[i] = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 8; j++)
            acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(a + i + 8 * j));
    for (int j = 1; j < 8; j++)
        acc[0] = _mm256_add_ps(acc[0], acc[j]);
    float s = kiln_hsum256(acc[0]);
    for (; i < n; i++)
        s += a[i];
    return s;
}

void kiln_probe_copy_avx2(float *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++)
            _mm256_storeu_ps(dst + i + 8 * j, _mm256_loadu_ps(src + i + 8 * j));
    for (; i < n; i++)
        dst[i] = src[i];
}

float kiln_probe_fma_avx2(uint64_t reps) {
    __m256 c[12];
    for (int j = 0; j < 12; j++)
        c[j] = _mm256_set1_ps((float)j * 0.001f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = _mm256_fmadd_ps(c[j], a, b);
    for (int j = 1; j < 12; j++)
        c[0] = _mm256_add_ps(c[0], c[j]);
    return kiln_hsum256(c[0]);
}

float kiln_probe_int8_avx2(uint64_t reps) {
    __m256i c[12];
    for (int j = 0; j < 12; j++)
        c[j] = _mm256_set1_epi32(j + 1);
    const __m256i b = _mm256_set1_epi8(3);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = _mm256_add_epi16(c[j], _mm256_maddubs_epi16(c[j], b));
    for (int j = 1; j < 12; j++)
        c[0] = _mm256_add_epi32(c[0], c[j]);
    return (float)_mm256_extract_epi32(c[0], 0);
}
