// Unpacking shared by the x86 K-quant kernels (matmul_kquant_tile_avx2.c and _avx512.c,
// dequant_kquant_avx2.c, dequant_avx512.c).
#pragma once

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "quant/format/blocks.h"

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

// q3_K's sixteen 6-bit scale codes minus 32, as 16 int16 lanes (spec §3.3: scale j has its low
// 4 bits in nibble j / 8 of scales[j % 8], its high 2 bits at bit 2 (j / 4) of scales[8 + j % 4]),
// unpacked four at a time with 32-bit masks as ggml does.
static inline __m256i kiln_q3_k_scales16(const uint8_t *s) {
    uint32_t a[4];
    memcpy(a, s, 12);
    const uint32_t m1 = 0x03030303, m2 = 0x0f0f0f0f, hi = a[2];
    a[2] = ((a[0] >> 4) & m2) | (((hi >> 4) & m1) << 4);
    a[3] = ((a[1] >> 4) & m2) | (((hi >> 6) & m1) << 4);
    a[0] = (a[0] & m2) | ((hi & m1) << 4);
    a[1] = (a[1] & m2) | (((hi >> 2) & m1) << 4);
    const __m128i codes = _mm_set_epi32((int)a[3], (int)a[2], (int)a[1], (int)a[0]);
    return _mm256_sub_epi16(_mm256_cvtepu8_epi16(codes), _mm256_set1_epi16(32));
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

// The eight 6-bit scales (int16 lanes 0..7) and mins (lanes 8..15) of a q4_K/q5_K block (spec
// §3.4, get_scale_min_k4), unpacked with 32-bit masks as ggml does.
static inline __m256i kiln_q45_k_scales_mins(const uint8_t *q) {
    uint32_t u[4];
    memcpy(u, q, 12);
    const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
    u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
    const uint32_t mins_lo = u[1] & m1;
    u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
    u[2] = mins_lo;
    u[0] &= m1;
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
}

// The 8 sums of x's 32-element sub-blocks (Q8_K keeps sums of 16), as int16.
static inline __m128i kiln_q8_k_sums32(const struct kiln_block_q8_K *x) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
    return _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
}

// The codes of sub-blocks 2j (lo: the low nibbles of q, the block's 32 qs bytes at 32 j) and
// 2j + 1 (hi: the high nibbles) of a q4_K block, or of a q5_K block (five: each code's 5th bit,
// element l of sub-block s at bit s of qh[l], h the 32 qh bytes, added as 16).
static inline void kiln_q45_k_codes(__m256i q, __m256i h, bool five, int j, __m256i *lo, __m256i *hi) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    *lo = _mm256_and_si256(q, low4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
    if (five) {
        const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * j))), bh = _mm256_set1_epi8((char)(2 << (2 * j)));
        *lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bl), bl), sixteen));
        *hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bh), bh), sixteen));
    }
}

// A q2_K (q3 = false) or q3_K block's per-16 scales as 16 int16 lanes (q2_K: low nibbles of
// scales[]; q3_K: kiln_q3_k_scales16), q2_K's mins (high nibbles; zero for q3_K), and q3_K's
// 32 hmask bytes (zero for q2_K).
static inline void kiln_q23_k_unpack_block(const uint8_t *blk, bool q3, __m256i *sc16, __m256i *mins16, __m256i *hm) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    if (q3) {
        *sc16 = kiln_q3_k_scales16(w3->scales);
        *mins16 = _mm256_setzero_si256();
        *hm = _mm256_loadu_si256((const __m256i *)w3->hmask);
    } else {
        const __m128i raw = _mm_loadu_si128((const __m128i *)w2->scales);
        *sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(15)));
        *mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
        *hm = _mm256_setzero_si256();
    }
}
