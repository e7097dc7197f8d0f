// matmul for q2_K, q3_K, q4_K, q5_K and q6_K weights in the x16 layouts (quant/format/repack.h: tiles of 16
// rows, one record per super-block), AVX-512 (F+BW+VL+VNNI), GEMV (n < 16): y[j][i] = x[j] . W[i]
// with x quantized to Q8_K rows in the workspace (kiln_matmul_xq8k_prepare).
//
// One zmm lane is one of the tile's 16 rows throughout:
//   codes  each 64-byte group (4 code bytes of 16 rows) is unpacked with dword/byte masks (q4_K:
//          low nibbles & 0x0F, high nibbles kept in place & 0xF0, i.e. 16 x the code, the sum
//          shifted back by 4 exactly once per block; q5_K: both nibbles shifted down, the 5th
//          bit added as 16 under a vptestmb mask; q6_K: the two high bits or-ed in at bits 4-5),
//          then vpdpbusd against the 4 x bytes of that group broadcast to all lanes (embedded
//          {1to16}) adds into S[s], the row's integer dot with sub-block s.
//   scales q4_K/q5_K: three dword arrays unpack the 8 scales and 8 mins of 16 rows in one pass
//          of dword masks and shifts (get_scale_min_k4, spec 3.4); q6_K: four dword arrays of
//          the 16 signed scale bytes, each byte sign-extended by a shift pair.
//   sums   T = sum_s sc_s S_s by vpmulld (exact: |T| < 2^29); the mins term M = sum_s m_s bsum_s
//          (q6_K: the offset term 32 sum_s sc_s bsum_s) by vpmaddwd of the bytes as int16 pairs
//          against broadcast pairs of x's sub-block sums; then acc += d dx T - dmin dx M in f32.
// The row-layout tile (matmul_kquant_tile_avx512.c) finishes each block with the same exact
// integer totals and the same float operations in the same order (on lane 0), so the two
// layouts give the same results bit for bit (tests/test_repack.c); the GEMM on these layouts
// (matmul_kquant_gemm.h) unpacks each row's block back to GGUF's bytes.
//
// Versions: v1 (this). One thread / two threads, m=4096 k=14336, the AVX-512 Xeon of
// results/intel-xeon-processor-2c, against the row-layout kernel (KILN_NO_REPACK=1) in the same
// minutes: q4_K 2330-2390 / 1190-1280 us vs 2810 / 1430; q5_K 2780 / 1440-1460 vs 3580-3600 /
// 1880; q6_K 3590-3740 / 1890-1940 vs 4080-4120 / 2030-2050; q2_K 1400 / 730 vs 2930 / 1530;
// q3_K 2070 / 1030 vs 3630 / 1920 (q2_K/q3_K: 2-bit codes and 16-element sub-blocks made the
// row tile the slowest of all, 13 GB/s on two threads). Two threads read 25-28 GB/s of a
// 29 GB/s probe; one thread is at one core's read bandwidth (q4_K in L2: 18 us vs 42 for the
// row kernel on 256 x 4096).
// Test: `kiln ops --op matmul --type q2_K,q3_K,q4_K,q5_K,q6_K --kernel avx512`; tests/test_repack.c.
#include <string.h>

#include "kernels/common/simd_avx512.h"
#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/repack.h"


static inline __m512i byte_of(__m512i v, int i) {
    return _mm512_and_si512(_mm512_srli_epi32(v, 8 * i), _mm512_set1_epi32(0xFF));
}

// The int16 pair (a, b) in every dword.
static inline __m512i pair16(int16_t a, int16_t b) {
    return _mm512_set1_epi32((int32_t)(((uint32_t)(uint16_t)b << 16) | (uint16_t)a));
}
// Per dword lane: sum_i byte_i(v) * w[i] for its 4 unsigned bytes and 4 int16 weights (vpmaddwd
// of the even and the odd bytes as int16 pairs against broadcast weight pairs).
static inline __m512i madd_bytes4(__m512i v, const int16_t *w) {
    const __m512i lo_words = _mm512_set1_epi32(0x00FF00FF);
    return _mm512_add_epi32(_mm512_madd_epi16(_mm512_and_si512(v, lo_words), pair16(w[0], w[2])),
                            _mm512_madd_epi16(_mm512_and_si512(_mm512_srli_epi32(v, 8), lo_words), pair16(w[1], w[3])));
}

// One q4_K (five = false) or q5_K record (16 rows, super-block b) against one Q8_K block:
// acc[r] += the rows' dots. q5_K: each code's 5th bit (element 4q + i of sub-block s: bit s of
// byte i of the record's qh dword q) added as 16 under a byte mask; its high nibbles are
// shifted down (16 x a 5-bit code would not fit a byte).
static inline __attribute__((always_inline)) __m512 q45_k_record(const uint8_t *rec, const struct kiln_block_q8_K *x,
                                                                  __m512 acc, bool five) {
    const __m512i low4 = _mm512_set1_epi8(0x0F), high4 = _mm512_set1_epi8((char)0xF0);
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512i s[8];
    for (int i = 0; i < 8; i++)
        s[i] = _mm512_setzero_si512();
    const uint8_t *codes = rec + 256;
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        #pragma GCC unroll 8
        for (int q = 0; q < 8; q++) {
            const __m512i w = _mm512_loadu_si512((const void *)(codes + (8 * j + q) * 64));
            int32_t xl, xh;
            memcpy(&xl, x->qs + 64 * j + 4 * q, 4);
            memcpy(&xh, x->qs + 64 * j + 32 + 4 * q, 4);
            __m512i lo = _mm512_and_si512(w, low4), hi;
            if (five) {
                const __m512i h = _mm512_loadu_si512((const void *)(rec + 2304 + 64 * q));
                hi = _mm512_and_si512(_mm512_srli_epi32(w, 4), low4);
                lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(h, _mm512_set1_epi8((char)(1 << (2 * j)))), lo, sixteen);
                hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(h, _mm512_set1_epi8((char)(2 << (2 * j)))), hi, sixteen);
            } else {
                hi = _mm512_and_si512(w, high4);  // 16 x the code
            }
            s[2 * j] = _mm512_dpbusd_epi32(s[2 * j], lo, _mm512_set1_epi32(xl));
            s[2 * j + 1] = _mm512_dpbusd_epi32(s[2 * j + 1], hi, _mm512_set1_epi32(xh));
        }
    }
    // Scales and mins of the 16 rows (bytes 0-3, 4-7, 8-11 of each row's packed 12).
    const __m512i a0 = _mm512_loadu_si512((const void *)(rec + 64));
    const __m512i a1 = _mm512_loadu_si512((const void *)(rec + 128));
    const __m512i a2 = _mm512_loadu_si512((const void *)(rec + 192));
    const __m512i m6 = _mm512_set1_epi32(0x3f3f3f3f), m4 = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i m2 = _mm512_set1_epi32(0x03030303);
    const __m512i sc03 = _mm512_and_si512(a0, m6), mn03 = _mm512_and_si512(a1, m6);
    const __m512i sc47 = _mm512_or_si512(_mm512_and_si512(a2, m4),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a0, 6), m2), 4));
    const __m512i mn47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(a2, 4), m4),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a1, 6), m2), 4));
    __m512i t_even = _mm512_setzero_si512(), t_odd16 = _mm512_setzero_si512();
    #pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t_even = _mm512_add_epi32(t_even, _mm512_mullo_epi32(s[2 * i], byte_of(i < 2 ? sc03 : sc47, 2 * (i % 2))));
        t_odd16 = _mm512_add_epi32(t_odd16, _mm512_mullo_epi32(s[2 * i + 1], byte_of(i < 2 ? sc03 : sc47, 2 * (i % 2) + 1)));
    }
    // q4_K's odd sub-blocks were summed over 16 x the codes: every term is a multiple of 16.
    const __m512i t = _mm512_add_epi32(t_even, five ? t_odd16 : _mm512_srai_epi32(t_odd16, 4));
    // Mins: bytes (m0 m1 m2 m3) of a dword as int16 pairs (m0, m2) and (m1, m3), against the
    // broadcast pairs (b0, b2) and (b1, b3) of x's 32-element sums.
    int16_t bs[8];
    for (int i = 0; i < 8; i++)
        bs[i] = (int16_t)(x->bsums[2 * i] + x->bsums[2 * i + 1]);
    const __m512i mn = _mm512_add_epi32(madd_bytes4(mn03, bs), madd_bytes4(mn47, bs + 4));
    const __m512 dx = _mm512_set1_ps(x->d);
    const __m512 d = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)rec)), dx);
    const __m512 dmin = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rec + 32))), dx);
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(t), acc);
    return _mm512_fnmadd_ps(dmin, _mm512_cvtepi32_ps(mn), acc);
}

// One q6_K record against one Q8_K block: acc[r] += d dx T, T = sum_s sc_s (S_s - 32 bsum_s)
// (codes 0..63 stand for -32..31; bsum_s: x's sum over 16-element sub-block s, Q8_K's bsums).
static inline __attribute__((always_inline)) __m512 q6_k_record(const uint8_t *rec, const struct kiln_block_q8_K *x,
                                                                 __m512 acc) {
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    __m512i s[16];
    for (int i = 0; i < 16; i++)
        s[i] = _mm512_setzero_si512();
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        #pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const uint8_t *base = rec + 1536 * h + 192 * g;
            const __m512i a = _mm512_loadu_si512((const void *)base), b = _mm512_loadu_si512((const void *)(base + 64));
            const __m512i hb = _mm512_loadu_si512((const void *)(base + 128));
            // run r of the half: elements 128h + 32r + 4g + i, sub-block 8h + 2r + g / 4; its
            // low 4 bits from a (runs 0, 2) or b (1, 3), its high 2 from bits 2r, 2r + 1 of hb
            const __m512i c[4] = {
                _mm512_or_si512(_mm512_and_si512(a, low4), _mm512_and_si512(_mm512_slli_epi32(hb, 4), bits45)),
                _mm512_or_si512(_mm512_and_si512(b, low4), _mm512_and_si512(_mm512_slli_epi32(hb, 2), bits45)),
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(a, 4), low4), _mm512_and_si512(hb, bits45)),
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(b, 4), low4),
                                _mm512_and_si512(_mm512_srli_epi32(hb, 2), bits45)),
            };
            #pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                int32_t xv;
                memcpy(&xv, x->qs + 128 * h + 32 * r + 4 * g, 4);
                const int sub = 8 * h + 2 * r + g / 4;
                s[sub] = _mm512_dpbusd_epi32(s[sub], c[r], _mm512_set1_epi32(xv));
            }
        }
    }
    // sum_s sc_s S_s by vpmulld on the signed scale bytes; 32 sum_s sc_s bsum_s by vpmaddwd of the
    // scale bytes as int16 pairs (s, s + 2) and (s + 1, s + 3) against broadcast pairs of bsums.
    __m512i t = _mm512_setzero_si512(), bias = _mm512_setzero_si512();
    #pragma GCC unroll 4
    for (int a = 0; a < 4; a++) {
        const __m512i v = _mm512_loadu_si512((const void *)(rec + 3072 + 64 * a));
        #pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            t = _mm512_add_epi32(t, _mm512_mullo_epi32(s[4 * a + i], _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * i), 24)));
        const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8), odd = _mm512_srai_epi16(v, 8);
        bias = _mm512_add_epi32(bias, _mm512_madd_epi16(even, pair16(x->bsums[4 * a], x->bsums[4 * a + 2])));
        bias = _mm512_add_epi32(bias, _mm512_madd_epi16(odd, pair16(x->bsums[4 * a + 1], x->bsums[4 * a + 3])));
    }
    t = _mm512_sub_epi32(t, _mm512_slli_epi32(bias, 5));
    const __m512 d = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rec + 3328))), _mm512_set1_ps(x->d));
    return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(t), acc);
}

// One q2_K (q3 = false) or q3_K record against one Q8_K block. Codes: bits 2j..2j+1 of each
// byte (element 128h + 32j + 4g + i; sub-block 8h + 2j + g / 4); q3_K or-s in the high bit
// (record's hmask bit 4h + j) as 4, so its codes are 0..7 standing for -4..3.
// q2_K: acc += d dx sum_s sc_s S_s - dmin dx sum_s m_s bsum_s (scale and min nibbles);
// q3_K: acc += d dx sum_s (sc_s - 32) (S_s - 4 bsum_s) (6-bit scales, spec 3.3).
static inline __attribute__((always_inline)) __m512 q23_k_record(const uint8_t *rec, const struct kiln_block_q8_K *x,
                                                                  __m512 acc, bool q3) {
    const __m512i three = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
    __m512i s[16];
    for (int i = 0; i < 16; i++)
        s[i] = _mm512_setzero_si512();
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        #pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const __m512i w = _mm512_loadu_si512((const void *)(rec + 512 * h + 64 * g));
            const __m512i hb = q3 ? _mm512_loadu_si512((const void *)(rec + 1024 + 64 * g)) : _mm512_setzero_si512();
            #pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m512i c = _mm512_and_si512(_mm512_srli_epi32(w, 2 * j), three);
                if (q3) {  // bit 4h + j of each byte to bit 2
                    const int bit = 4 * h + j;
                    const __m512i hi = bit >= 2 ? _mm512_srli_epi32(hb, bit - 2) : _mm512_slli_epi32(hb, 2 - bit);
                    c = _mm512_or_si512(c, _mm512_and_si512(hi, four));
                }
                int32_t xv;
                memcpy(&xv, x->qs + 128 * h + 32 * j + 4 * g, 4);
                const int sub = 8 * h + 2 * j + g / 4;
                s[sub] = _mm512_dpbusd_epi32(s[sub], c, _mm512_set1_epi32(xv));
            }
        }
    }
    __m512i t = _mm512_setzero_si512(), m = _mm512_setzero_si512();
    if (q3) {
        const __m512i a0 = _mm512_loadu_si512((const void *)(rec + 1536));
        const __m512i a1 = _mm512_loadu_si512((const void *)(rec + 1600));
        const __m512i hi = _mm512_loadu_si512((const void *)(rec + 1664));
        const __m512i m1 = _mm512_set1_epi32(0x03030303), m2 = _mm512_set1_epi32(0x0f0f0f0f);
        const __m512i thirty2 = _mm512_set1_epi32(32);
        const __m512i sc[4] = {  // scale bytes 4a .. 4a + 3 (kiln_q3_k_scales16's unpacking)
            _mm512_or_si512(_mm512_and_si512(a0, m2), _mm512_slli_epi32(_mm512_and_si512(hi, m1), 4)),
            _mm512_or_si512(_mm512_and_si512(a1, m2), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hi, 2), m1), 4)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(a0, 4), m2),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hi, 4), m1), 4)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(a1, 4), m2),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hi, 6), m1), 4)),
        };
        #pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            const __m512i sci = _mm512_sub_epi32(byte_of(sc[i / 4], i % 4), thirty2);
            t = _mm512_add_epi32(t, _mm512_mullo_epi32(sci, s[i]));
            m = _mm512_add_epi32(m, _mm512_mullo_epi32(sci, _mm512_set1_epi32(x->bsums[i])));
        }
        t = _mm512_sub_epi32(t, _mm512_slli_epi32(m, 2));
    } else {
        const __m512i low4 = _mm512_set1_epi32(0x0F0F0F0F);
        #pragma GCC unroll 4
        for (int a = 0; a < 4; a++) {
            const __m512i v = _mm512_loadu_si512((const void *)(rec + 1024 + 64 * a));
            const __m512i scv = _mm512_and_si512(v, low4), mnv = _mm512_and_si512(_mm512_srli_epi32(v, 4), low4);
            #pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
                t = _mm512_add_epi32(t, _mm512_mullo_epi32(s[4 * a + i], byte_of(scv, i)));
            m = _mm512_add_epi32(m, madd_bytes4(mnv, x->bsums + 4 * a));
        }
    }
    const __m512 dx = _mm512_set1_ps(x->d);
    const __m512 d = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rec + (q3 ? 1728 : 1280)))), dx);
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(t), acc);
    if (q3)
        return acc;
    const __m512 dmin = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rec + 1312))), dx);
    return _mm512_fnmadd_ps(dmin, _mm512_cvtepi32_ps(m), acc);
}

typedef __m512 x16_acc;
static inline x16_acc x16_acc_zero(void) { return _mm512_setzero_ps(); }
static inline void x16_store(float *y, x16_acc acc) { _mm512_storeu_ps(y, acc); }
static inline __attribute__((always_inline)) x16_acc x16_record(enum kiln_type type, const uint8_t *rec,
                                                                 const struct kiln_block_q8_K *x, x16_acc acc) {
    if (type == KILN_TYPE_Q2_K || type == KILN_TYPE_Q3_K)
        return q23_k_record(rec, x, acc, type == KILN_TYPE_Q3_K);
    return type == KILN_TYPE_Q6_K ? q6_k_record(rec, x, acc) : q45_k_record(rec, x, acc, type == KILN_TYPE_Q5_K);
}
#define X16_HAS_Q23 1
#define X16_HAS_Q6 1
#define X16_NAME(t) kiln_matmul_##t##x16_avx512_gemv
#include "kernels/matmul/matmul_kquant_x16.h"
