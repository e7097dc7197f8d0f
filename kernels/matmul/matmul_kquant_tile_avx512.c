// matmul for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K), AVX-512 (F+BW+VL+VNNI), GEMV (n < 16) and GEMM
// (n >= 16), integer dot products: matmul_kquant_tile_avx2.c (layouts, x quantized to Q8_K, the
// driver, NC/RB/KB and why) with the block arithmetic in 512-bit registers: the 64 codes of two
// sub-blocks (q4_K/q5_K: the low and high nibbles of 32 bytes; q6_K: two 32-element runs;
// q2_K/q3_K: two 32-element groups of four 16-element sub-blocks) fill
// one zmm and meet 64 contiguous bytes of x, so each column takes half the maddubs/madd of the
// AVX2 tile, with the sub-block scales placed per 256-bit (or 128-bit) lane by one vpermw.
// maddubs + madd is kept over vpdpbusd: the scales multiply the pair sums in madd for free,
// while vpdpbusd would need a separate 32-bit multiply per sub-block.
// The integer block sums are exact, as in the AVX2 tile; the float lanes they are converted in
// differ (16, not 8), so results agree with the AVX2 rows to rounding, not bit for bit.
// Versions: v1; v2 q4_K's codes unpacked by a broadcast load and one variable shift (two
// ops per 64 codes instead of four): GEMV m=4096 k=14336, one thread, AVX-512 Xeon 3320-3380 ->
// 3120-3240 us; v3 q5_K's 5th bits added under a byte mask (vptestmb + masked add: 2 ops
// per 64 codes instead of 9), q6_K's runs unpacked in zmm (one 64-byte ql load and one variable
// shift of qh per run pair instead of ymm halves and inserts), and the driver's prefetch 16
// super-blocks ahead (matmul_kquant_tile.h): one thread, same shape, q4_K 3350 -> 2810 us, q5_K
// 4690 -> 3530, q6_K 4470 -> 4030. Still vector-port bound (in L2: ~8 ns per q4_K block, 52
// vector uops on ports 0 and 5, the scale unpacking and the mins a third of them): a load-time
// repack with pre-unpacked scales (ggml's Q4_K_8x8) is what would take it further; v4 (this)
// that repack exists for q4_K/q5_K/q6_K (matmul_kquant_x16_avx512.c), and these three types'
// blocks now end with the x16 kernel's float steps (the integer totals, one FMA pair on lane 0)
// so that both layouts agree bit for bit: the price is a lane reduction per block (q4_K in L2,
// 256 x 4096: 42 -> 55 us); these rows now run only where a weight stays in rows (m % 16 != 0,
// KILN_NO_REPACK=1).
// Since the integer GEMMs (matmul_kquant_gemm_avx512.c) the GEMM rows here are checked but not
// chosen. 32 zmm registers would allow NC > 4 without spills: to sweep.
// Test: `kiln ops --op matmul --type q2_K,q3_K,q4_K,q5_K,q6_K --kernel avx512`.
#include <string.h>

#include "kernels/common/kquant_x86.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

enum { NC = 4, RB = 16, KB = 16 };


// int16 lanes: value v0 in the low 256 bits, v1 in the high 256 bits, picked from the 16 int16
// lanes of t (vpermw).
static inline __m512i pick16_pair(__m256i t, int v0, int v1) {
    const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)v0)),
                                           _mm256_set1_epi16((short)v1), 1);
    return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(t));
}

// int16 lanes: v0 + L in 128-bit lane L (L = 0..3), picked from the 16 int16 lanes of t.
static inline __m512i pick16_quad(__m256i t, int v0) {
    const __m512i idx = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_setr_m128i(_mm_set1_epi16((short)v0), _mm_set1_epi16((short)(v0 + 1)))),
        _mm256_setr_m128i(_mm_set1_epi16((short)(v0 + 2)), _mm_set1_epi16((short)(v0 + 3))), 1);
    return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(t));
}

// One q4_K (five = false) or q5_K super-block of one W row against block b of nc x columns:
// acc[c] += d_w d_x sum(sc q x) - dmin_w d_x sum(m bsum). Per j, the 64 codes of sub-blocks 2j
// (low nibbles) and 2j+1 (high) fill one zmm, matching 64 contiguous bytes of x: one maddubs
// and one madd with [sc_2j x16 | sc_2j+1 x16] per column, where the AVX2 tile needs two of each.
// q5_K: each code's 5th bit (element l of sub-block s: bit s of qh[l % 32]) added as 16.
static inline __attribute__((always_inline)) void q45_k_block(const uint8_t *blk, bool five,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q4_K *w4 = (const void *)blk;
    const struct kiln_block_q5_K *w5 = (const void *)blk;
    const uint8_t *qs = five ? w5->qs : w4->qs;
    const __m256i sm = kiln_q45_k_scales_mins(five ? w5->scales : w4->scales);
    const __m128i mins = _mm256_extracti128_si256(sm, 1);
    // q5_K: the 32 qh bytes in both halves; bit 2j (low half) or 2j + 1 (high half) of each
    // byte is its element's 5th bit, added as 16 under a byte mask (vptestmb + masked add).
    const __m512i h2 = five ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)w5->qh)) : _mm512_setzero_si512();
    __m512i sum[NC];
    for (int c = 0; c < nc; c++)
        sum[c] = _mm512_setzero_si512();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high)
        // The 32 bytes in both halves (a load), the high half shifted by 4: two ops.
        const __m512i q2 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * j)));
        const __m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
        __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(q2, shift), _mm512_set1_epi8(0x0F));
        if (five) {
            const __m512i bits = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8((char)(1 << (2 * j)))),
                                                    _mm256_set1_epi8((char)(2 << (2 * j))), 1);
            codes = _mm512_mask_add_epi8(codes, _mm512_test_epi8_mask(h2, bits), codes, _mm512_set1_epi8(16));
        }
        const __m512i sc = pick16_pair(sm, 2 * j, 2 * j + 1);
        #pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 64 * j));
            sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), sc));
        }
    }
    const float d = kiln_f16_scalar(five ? w5->d : w4->d), dmin = kiln_f16_scalar(five ? w5->dmin : w4->dmin);
    // The block's integer totals, then one FMA pair on lane 0, in the order of the x16
    // layout's GEMV (matmul_kquant_x16_avx512.c) so that repacked and row weights give the
    // same results bit for bit (tests/test_repack.c); the other lanes stay 0.
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        const __m128i pm = _mm_madd_epi16(mins, kiln_q8_k_sums32(&x[c][b]));
        const int32_t t = kiln_hsum512_epi32(sum[c]);
        const int32_t mt = _mm_cvtsi128_si32(_mm_hadd_epi32(_mm_hadd_epi32(pm, pm), pm));
        __m128 a = _mm_fmadd_ss(_mm_set_ss(d * dx), _mm_set_ss((float)t), _mm512_castps512_ps128(acc[c]));
        a = _mm_fnmadd_ss(_mm_set_ss(dmin * dx), _mm_set_ss((float)mt), a);
        acc[c] = kiln_zext128_ps512(a);
    }
}

// One q6_K super-block (spec §3.6; see matmul_kquant_tile_avx2.c) against block b of nc columns:
// acc[c] += d_w d_x (sum(sc q x) - 32 sum(sc bsum)). Runs r and r + 1 of a half (64 contiguous
// elements of x) share one zmm; its four 128-bit lanes take scales 2r .. 2r + 3 of the half.
static inline __attribute__((always_inline)) void q6_k_block(const uint8_t *blk, const struct kiln_block_q8_K *const *x,
                                                              int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q6_K *w = (const void *)blk;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    __m512i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
        sum[c] = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias, 5)), 0);
    }
    #pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        // Runs 0 and 1 of the half: the low nibbles of its 64 ql bytes (one load), high bits
        // 0-1 (low 256 bits) and 2-3 (high) of its 32 qh bytes (in both halves) moved to bits
        // 4-5 by one variable shift; runs 2 and 3: the high nibbles, qh bits 4-5 and 6-7.
        const __m512i l = _mm512_loadu_si512((const void *)(w->ql + 64 * half));
        const __m512i h2 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * half)));
        const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
        const __m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
        const __m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
        const __m512i codes2[2] = {
            _mm512_or_si512(_mm512_and_si512(l, low4), _mm512_and_si512(_mm512_sllv_epi16(h2, sh01), bits45)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4),
                            _mm512_and_si512(_mm512_srlv_epi16(h2, sh23), bits45)),
        };
        #pragma GCC unroll 2
        for (int r = 0; r < 4; r += 2) {
            const __m512i codes = codes2[r / 2];
            const __m512i sc = pick16_quad(sc16, 8 * half + 2 * r);
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 128 * half + 32 * r));
                sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), sc));
            }
        }
    }
    // The block's integer total, then one FMA on lane 0: the order of the x16 layout's GEMV
    // (matmul_kquant_x16_avx512.c), so that repacked and row weights agree bit for bit.
    const float d = kiln_f16_scalar(w->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m128 a = _mm_fmadd_ss(_mm_set_ss(d * x[c][b].d), _mm_set_ss((float)kiln_hsum512_epi32(sum[c])),
                                      _mm512_castps512_ps128(acc[c]));
        acc[c] = kiln_zext128_ps512(a);
    }
}

// One q2_K (q3 = false) or q3_K super-block against block b of nc columns (arithmetic: the
// AVX2 tile's q23_k_block): groups g and g + 1 of a half (64 contiguous x codes) share one zmm,
// its 128-bit lanes taking the scales of the four 16-element sub-blocks.
static inline __attribute__((always_inline)) void q23_k_block(const uint8_t *blk, bool q3,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    __m256i sc16, mins16, hm;
    kiln_q23_k_unpack_block(blk, q3, &sc16, &mins16, &hm);
    const uint8_t *qs = q3 ? w3->qs : w2->qs;
    __m512i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        __m256i bias = _mm256_setzero_si256();
        if (q3)  // the "- 4" of every code: - 4 sum(sc bsum), once per block
            bias = _mm256_slli_epi32(_mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums)), 2);
        sum[c] = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_sub_epi32(_mm256_setzero_si256(), bias), 0);
    }
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        #pragma GCC unroll 2
        for (int g = 0; g < 4; g += 2) {
            const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(kiln_q23_k_codes(q, hm, q3, h, g)),
                                                     kiln_q23_k_codes(q, hm, q3, h, g + 1), 1);
            const __m512i s = pick16_quad(sc16, 8 * h + 2 * g);
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 128 * h + 32 * g));
                sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), s));
            }
        }
    }
    // Lane 0 only, in the x16 GEMV's order (bit for bit with repacked weights), as q45_k_block.
    const float d = kiln_f16_scalar(q3 ? w3->d : w2->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        __m128 a = _mm_fmadd_ss(_mm_set_ss(d * dx), _mm_set_ss((float)kiln_hsum512_epi32(sum[c])),
                                _mm512_castps512_ps128(acc[c]));
        if (!q3) {
            const __m256i pm = _mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
            a = _mm_fnmadd_ss(_mm_set_ss(kiln_f16_scalar(w2->dmin) * dx), _mm_set_ss((float)kiln_hsum256_epi32(pm)), a);
        }
        acc[c] = kiln_zext128_ps512(a);
    }
}

typedef __m512 kq_acc;
static inline kq_acc kq_acc_zero(void) { return _mm512_setzero_ps(); }
static inline float kq_acc_sum(kq_acc v) { return kiln_hsum512(v); }
#define KQ_NAME(t, v) kiln_matmul_##t##_avx512_##v
#include "kernels/matmul/matmul_kquant_tile.h"
