// matmul for q2_K, q3_K, q4_K and q5_K weights in the x16 layouts (quant/format/repack.h), AVX2 (no
// AVX-512: Zen 1/2/3, Haswell..Comet Lake), GEMV (n < 16), against Q8_K x in the workspace
// (kiln_matmul_xq8k_prepare). The scheme of matmul_kquant_x16_avx512.c (one lane per row, x
// groups of 4 broadcast to every lane, scales of 8 rows unpacked at once, exact integer block
// totals) on each 8-row half of a record, with the int8 dot as maddubs (no VNNI) and q4_K's high
// nibbles shifted down (16 x a code would overflow maddubs' int16 pairs).
// Bit for bit with the AVX2 row tile (matmul_kquant_tile_avx2.c finishes its blocks in the
// same order) and so with repacked vs row weights (tests/test_repack.c).
// Versions: v1 q4_K, q5_K, q6_K; v2 q2_K and q3_K too (q23_half); v3 q4_K, q5_K sum maddubs
// pairs in int16 over as many groups as cannot overflow (8, 4) and apply the sub-block scale
// with one madd (scale_pairs), instead of madd(ones) per group and a vpmulld per sub-block.
// First run on an AVX2-only CPU (Zen 1, where vpmaddubsw, vpmaddwd and vpmulld share one
// multiply pipe at 2+ cycles per ymm, and vector shifts have one pipe at 2 cycles per ymm): one
// thread, m=1024 k=2048 cache-hot, q4_K 176 -> 117 us, q5_K 205 -> 181 (interleaved, best of 3).
// q6_K left this file in v3: the same int16 sums took it from 255 to 185 us cache-hot, but
// streaming from memory on 2 threads (TinyLlama's shapes) the row tile stayed 1.15-1.4x faster
// (q6_K x16 5.2 GB/s a thread from DRAM against 8.5 from L3, for reasons not found without
// hardware counters: prefetch distance 0-6720 bytes and a chunk-wise order of the two halves
// changed nothing), so AVX2 keeps q6_K in rows (backends/cpu/cpu_kernels.c, X16ROWS_Q6).
// v4 q5_K's 5th bits by a pshufb on the qh nibble (bit16).
// Test: `KILN_CPU_ISA=avx2 kiln ops --op matmul --type q2_K,q3_K,q4_K,q5_K`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/repack.h"

// acc += the int32 dots of 8 rows' 4 codes (u8) with the same 4 x bytes.
static inline __m256i dot4(__m256i acc, __m256i codes, const int8_t *xq) {
    int32_t xv;
    memcpy(&xv, xq, 4);
    const __m256i p = _mm256_maddubs_epi16(codes, _mm256_set1_epi32(xv));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

// acc16 += the int16 pair sums of 8 rows' 4 codes (u8) with the same 4 x bytes (v3: summed in
// int16 over as many groups as cannot overflow, then one madd by the scale, see scale_pairs).
static inline __m256i dot4_16(__m256i acc16, __m256i codes, const int8_t *xq) {
    int32_t xv;
    memcpy(&xv, xq, 4);
    return _mm256_add_epi16(acc16, _mm256_maddubs_epi16(codes, _mm256_set1_epi32(xv)));
}

// Byte i of each dword of v (one row's unsigned scale per dword) as the int16 pair [b, b] of that
// dword: madd(acc16, scale_pairs(v, i)) is then scale * (the dword's two pair sums), in int32.
static inline __m256i scale_pairs(__m256i v, int i) {
    const char z = (char)0x80;
    const char b0 = (char)i, b1 = (char)(4 + i), b2 = (char)(8 + i), b3 = (char)(12 + i);
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(b0, z, b0, z, b1, z, b1, z, b2, z, b2, z, b3, z, b3, z,
                                                   b0, z, b0, z, b1, z, b1, z, b2, z, b2, z, b3, z, b3, z));
}

static inline __m256i byte_of(__m256i v, int i) {
    return _mm256_and_si256(_mm256_srli_epi32(v, 8 * i), _mm256_set1_epi32(0xFF));
}

#define PAIR(a, b) _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(b) << 16) | (uint16_t)(a)))

// Rows 8 hv .. 8 hv + 7 of a q4_K (five = false) or q5_K record against one Q8_K block.
// The scales are unpacked first so that each sub-block's int16 sums go into the total at once.
// int16 bound: |x| <= 127 (Q8_K), so a maddubs pair is at most 2 * 15 * 127 = 3810 (q4_K: 8
// groups, 30480) or 2 * 31 * 127 = 7874 (q5_K: 4 groups, 31496) before the madd.
static inline __attribute__((always_inline)) __m256 q45_half(const uint8_t *rec, const struct kiln_block_q8_K *x,
                                                              __m256 acc, bool five, int hv) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    // q5_K: bit16[b][v] = 16 if bit b of the nibble v is set (a pshufb per code vector instead of
    // and + cmpeq + and: v4; Zen 1, m=1024 k=2048 cache-hot 197 -> 183 us, streaming 2% faster)
    static const uint8_t bit16_table[4][16] = {
        { 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16 },
        { 0, 0, 16, 16, 0, 0, 16, 16, 0, 0, 16, 16, 0, 0, 16, 16 },
        { 0, 0, 0, 0, 16, 16, 16, 16, 0, 0, 0, 0, 16, 16, 16, 16 },
        { 0, 0, 0, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16 } };
    __m256i bit16[4];
    for (int b = 0; b < 4; b++)
        bit16[b] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)bit16_table[b]));
    const __m256i a0 = _mm256_loadu_si256((const __m256i *)(rec + 64 + 32 * hv));
    const __m256i a1 = _mm256_loadu_si256((const __m256i *)(rec + 128 + 32 * hv));
    const __m256i a2 = _mm256_loadu_si256((const __m256i *)(rec + 192 + 32 * hv));
    const __m256i m6 = _mm256_set1_epi32(0x3f3f3f3f), m4 = _mm256_set1_epi32(0x0f0f0f0f);
    const __m256i m2 = _mm256_set1_epi32(0x03030303);
    const __m256i sc03 = _mm256_and_si256(a0, m6), mn03 = _mm256_and_si256(a1, m6);
    const __m256i sc47 = _mm256_or_si256(_mm256_and_si256(a2, m4),
                                         _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a0, 6), m2), 4));
    const __m256i mn47 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(a2, 4), m4),
                                         _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a1, 6), m2), 4));
    const int per_sum = five ? 4 : 8;  // groups summed in int16 before the madd
    __m256i t = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i sp_lo = scale_pairs(j < 2 ? sc03 : sc47, (2 * j) % 4);
        const __m256i sp_hi = scale_pairs(j < 2 ? sc03 : sc47, (2 * j + 1) % 4);
        __m256i s_lo = _mm256_setzero_si256(), s_hi = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int q = 0; q < 8; q++) {
            const __m256i w = _mm256_loadu_si256((const __m256i *)(rec + 256 + (8 * j + q) * 64 + 32 * hv));
            __m256i lo = _mm256_and_si256(w, low4), hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
            if (five) {  // the 5th bits of sub-blocks 2j, 2j + 1: nibble j / 2 of h, bits 2 (j % 2) + 0, 1
                const __m256i h = _mm256_loadu_si256((const __m256i *)(rec + 2304 + 64 * q + 32 * hv));
                const __m256i hn = _mm256_and_si256(j < 2 ? h : _mm256_srli_epi16(h, 4), low4);
                lo = _mm256_or_si256(lo, _mm256_shuffle_epi8(bit16[2 * (j % 2)], hn));
                hi = _mm256_or_si256(hi, _mm256_shuffle_epi8(bit16[2 * (j % 2) + 1], hn));
            }
            s_lo = dot4_16(s_lo, lo, x->qs + 64 * j + 4 * q);
            s_hi = dot4_16(s_hi, hi, x->qs + 64 * j + 32 + 4 * q);
            if ((q + 1) % per_sum == 0) {
                t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_madd_epi16(s_lo, sp_lo), _mm256_madd_epi16(s_hi, sp_hi)));
                s_lo = s_hi = _mm256_setzero_si256();
            }
        }
    }
    int16_t bs[8];
    for (int i = 0; i < 8; i++)
        bs[i] = (int16_t)(x->bsums[2 * i] + x->bsums[2 * i + 1]);
    const __m256i lo_words = _mm256_set1_epi32(0x00FF00FF);
    __m256i mn = _mm256_madd_epi16(_mm256_and_si256(mn03, lo_words), PAIR(bs[0], bs[2]));
    mn = _mm256_add_epi32(mn, _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi32(mn03, 8), lo_words), PAIR(bs[1], bs[3])));
    mn = _mm256_add_epi32(mn, _mm256_madd_epi16(_mm256_and_si256(mn47, lo_words), PAIR(bs[4], bs[6])));
    mn = _mm256_add_epi32(mn, _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi32(mn47, 8), lo_words), PAIR(bs[5], bs[7])));
    const __m256 dx = _mm256_set1_ps(x->d);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(rec + 16 * hv))), dx);
    const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(rec + 32 + 16 * hv))), dx);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(t), acc);
    return _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(mn), acc);
}

// Rows 8 hv .. 8 hv + 7 of a q2_K (q3 = false) or q3_K record against one Q8_K block: the
// AVX-512 file's q23_k_record on one 8-row half (32 of each 64-byte group). Codes 0..3 (q3_K:
// 0..7 with the hmask bit as 4) are small enough for maddubs' int16 pairs.
// q2_K: acc += d dx sum_s sc_s S_s - dmin dx sum_s m_s bsum_s;
// q3_K: acc += d dx sum_s (sc_s - 32) (S_s - 4 bsum_s).
static inline __attribute__((always_inline)) __m256 q23_half(const uint8_t *rec, const struct kiln_block_q8_K *x,
                                                              __m256 acc, bool q3, int hv) {
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    __m256i s[16];
    for (int i = 0; i < 16; i++)
        s[i] = _mm256_setzero_si256();
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        #pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const __m256i w = _mm256_loadu_si256((const __m256i *)(rec + 512 * h + 64 * g + 32 * hv));
            const __m256i hb = q3 ? _mm256_loadu_si256((const __m256i *)(rec + 1024 + 64 * g + 32 * hv))
                                  : _mm256_setzero_si256();
            #pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m256i c = _mm256_and_si256(_mm256_srli_epi32(w, 2 * j), three);
                if (q3) {  // bit 4h + j of each byte to bit 2
                    const int bit = 4 * h + j;
                    const __m256i hi = bit >= 2 ? _mm256_srli_epi32(hb, bit - 2) : _mm256_slli_epi32(hb, 2 - bit);
                    c = _mm256_or_si256(c, _mm256_and_si256(hi, four));
                }
                const int sub = 8 * h + 2 * j + g / 4;
                s[sub] = dot4(s[sub], c, x->qs + 128 * h + 32 * j + 4 * g);
            }
        }
    }
    __m256i t = _mm256_setzero_si256(), m = _mm256_setzero_si256();
    if (q3) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(rec + 1536 + 32 * hv));
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(rec + 1600 + 32 * hv));
        const __m256i hi = _mm256_loadu_si256((const __m256i *)(rec + 1664 + 32 * hv));
        const __m256i m1 = _mm256_set1_epi32(0x03030303), m2 = _mm256_set1_epi32(0x0f0f0f0f);
        const __m256i thirty2 = _mm256_set1_epi32(32);
        const __m256i sc[4] = {  // scale bytes 4a .. 4a + 3 (kiln_q3_k_scales16's unpacking)
            _mm256_or_si256(_mm256_and_si256(a0, m2), _mm256_slli_epi32(_mm256_and_si256(hi, m1), 4)),
            _mm256_or_si256(_mm256_and_si256(a1, m2), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hi, 2), m1), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(a0, 4), m2),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hi, 4), m1), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(a1, 4), m2),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hi, 6), m1), 4)),
        };
        #pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            const __m256i sci = _mm256_sub_epi32(byte_of(sc[i / 4], i % 4), thirty2);
            t = _mm256_add_epi32(t, _mm256_mullo_epi32(sci, s[i]));
            m = _mm256_add_epi32(m, _mm256_mullo_epi32(sci, _mm256_set1_epi32(x->bsums[i])));
        }
        t = _mm256_sub_epi32(t, _mm256_slli_epi32(m, 2));
    } else {
        const __m256i low4 = _mm256_set1_epi32(0x0F0F0F0F), lo_words = _mm256_set1_epi32(0x00FF00FF);
        #pragma GCC unroll 4
        for (int a = 0; a < 4; a++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(rec + 1024 + 64 * a + 32 * hv));
            const __m256i scv = _mm256_and_si256(v, low4), mnv = _mm256_and_si256(_mm256_srli_epi32(v, 4), low4);
            #pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
                t = _mm256_add_epi32(t, _mm256_mullo_epi32(s[4 * a + i], byte_of(scv, i)));
            const int16_t *bs = x->bsums + 4 * a;  // sum_i byte_i(mnv) bs[i], as the AVX-512 madd_bytes4
            m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_and_si256(mnv, lo_words), PAIR(bs[0], bs[2])));
            m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi32(mnv, 8), lo_words),
                                                      PAIR(bs[1], bs[3])));
        }
    }
    const __m256 dx = _mm256_set1_ps(x->d);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(rec + (q3 ? 1728 : 1280) + 16 * hv))), dx);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(t), acc);
    if (q3)
        return acc;
    const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(rec + 1312 + 16 * hv))), dx);
    return _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(m), acc);
}
#undef PAIR

typedef struct {
    __m256 lo, hi;  // rows 0-7, 8-15
} x16_acc;
static inline x16_acc x16_acc_zero(void) { return (x16_acc){ _mm256_setzero_ps(), _mm256_setzero_ps() }; }
static inline void x16_store(float *y, x16_acc acc) {
    _mm256_storeu_ps(y, acc.lo);
    _mm256_storeu_ps(y + 8, acc.hi);
}
static inline __attribute__((always_inline)) x16_acc x16_record(enum kiln_type type, const uint8_t *rec,
                                                                 const struct kiln_block_q8_K *x, x16_acc acc) {
    if (type == KILN_TYPE_Q2_K || type == KILN_TYPE_Q3_K) {
        const bool q3 = type == KILN_TYPE_Q3_K;
        return (x16_acc){ q23_half(rec, x, acc.lo, q3, 0), q23_half(rec, x, acc.hi, q3, 1) };
    }
    const bool five = type == KILN_TYPE_Q5_K;
    return (x16_acc){ q45_half(rec, x, acc.lo, five, 0), q45_half(rec, x, acc.hi, five, 1) };
}
#define X16_HAS_Q23 1
#define X16_NAME(t) kiln_matmul_##t##x16_avx2_gemv
#include "kernels/matmul/matmul_kquant_x16.h"
