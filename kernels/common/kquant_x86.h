// Unpacking shared by the x86 K-quant kernels (matmul_kquant_tile_avx2.c and _avx512.c,
// dequant_kquant_avx2.c, dequant_avx512.c).
#pragma once

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

// The codes 0..63 of one q6_K half (128 elements, spec §3.6) as four 32-byte runs: run r holds
// elements 32 r .. 32 r + 31 of the half; ql points at its 64 low-nibble bytes, qh at its 32
// high-bit bytes.
static inline void kiln_q6_k_codes(const uint8_t *ql, const uint8_t *qh, __m256i q[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03);
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(h, two), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two), 4));
}

// q3_K's sixteen 6-bit scale codes minus 32 (spec §3.3: the low 4 bits from scales[0..8), the
// high 2 bits from scales[8..12)), as int16.
static inline void kiln_q3_k_scales(const uint8_t *s, int16_t sc[16]) {
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
        const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (int16_t)((low | high << 4) - 32);
    }
}

// The 32 codes of group g (elements 128 h + 32 g .. + 31) of a q2_K/q3_K half (spec §3.2-3.3):
// bits 2g..2g+1 of the half's 32 qs bytes q; q3_K (hm: its 32 hmask bytes) adds 4 where bit
// 4h + g of hmask is set.
static inline __m256i kiln_q23_k_codes(__m256i q, __m256i hm, bool q3, int h, int g) {
    __m256i c = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), _mm256_set1_epi8(3));
    if (q3) {
        const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + g)));
        c = _mm256_or_si256(c, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), _mm256_set1_epi8(4)));
    }
    return c;
}
