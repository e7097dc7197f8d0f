// matmul for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K), AVX2, GEMV (n < 16) and GEMM (n >= 16),
// integer dot products: y[n][m] = x[n][k] . W[m][k]^T with W in K-quant rows (quant/format/blocks.h,
// spec §3), x f32 quantized to Q8_K rows in the workspace first (kiln_matmul_xq8k_prepare, matmul_ref.c:
// ggml's quantize_row_q8_K, so the table rows declare KILN_ROUND_X_Q8_K and `kiln ops` checks
// them against the reference run on x rounded that way).
//
// The arithmetic per super-block is ggml's vec_dot_q*_K_q8_K: maddubs of the unsigned codes with
// the int8 x codes, madd by the sub-block scales, the mins (q4_K, q5_K) or the "- 32" (q6_K) once
// per block from x's bsums, one cvt + fma per block into 8 float lanes (summed at the row's end).
// q2_K/q3_K: 2-bit codes (q3_K: plus a high bit, codes 0..7 standing for -4..3) with a scale per
// 16 elements (q2_K 4-bit scales and mins; q3_K 6-bit signed scales, the "- 4" once as
// 4 sum(sc bsum)).
// What this file adds: each W block is unpacked once (codes, scales, high bits) and used for up to
// NC = 4 x columns, so the unpacking, which is most of the instructions at n = 1, is shared.
//   GEMV (n < 16): threads split the W rows; each row streams once, in column groups of 4 (the row
//     stays in L1 between groups). Memory-bound at n = 1: one sequential stream per thread.
//   GEMM (n >= 16): rows in blocks of RB, k in chunks of KB super-blocks: the chunk of 4 x columns
//     (4 x KB Q8_K blocks, 18 KiB) stays in L1 across the RB rows, the rows' chunks in L2. Partial
//     sums of the chunks are added into y (so y is summed in a different order from the GEMV;
//     both are f32 sums of exact integer block dots).
// NC = 4 measured best at m=4096 n=512 k=14336 on one AVX2 thread (2: 1.49 s, 3: 1.34 s, 4: 1.03 s,
// 6: 1.24 s, 8: 1.37 s for q4_K): past 4 the accumulators spill.
// Versions: v1 (matmul_kquant_avx2.c) one column per pass, rows in tiles of 4 sharing x loads
// (register spills, and a call for each f16 scale: q4_K 0.61x ggml at n = 1 on one thread);
// v2 inline F16C scales, one row per pass (q4_K 1.0-1.2x ggml, q6_K 0.9-1.07x: this host is noisy);
// v3 (this) column groups, and the GEMM through the same blocks instead of dequantizing W into f32
// panels: on AVX2 without VNNI no faster than the packed f32 GEMM (1.0 s vs 1.0-1.1 s, q4_K, one
// thread, interleaved runs) and 0.75x ggml's 0.86 s. Next: a repacked interleaved layout (ggml's
// Q4_K_8x8) so one maddubs serves several rows, and vpdpbusd where present.
// q2_K/q3_K joined in v3 (before: one block of one row at a time in their own file, 4.1-4.2 GB/s
// at m=4096 k=14336 on 2 threads, and the GEMM through f32 panels).
// Test: `kiln ops --op matmul --type q2_K,q3_K,q4_K,q5_K,q6_K`; bench: `kiln bench ops --op matmul --type q4_K`.
#include <string.h>

#include "kernels/common/kquant_x86.h"
#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

enum { NC = 4, RB = 16, KB = 16 };

// pshufb control broadcasting int16 lane i of each 128-bit half to all 8 lanes of that half.
static inline __m256i lane16(int i) { return _mm256_set1_epi16((short)((2 * i) | ((2 * i + 1) << 8))); }
// ... lane a in the low half and lane b in the high half.
static inline __m256i lane16_pair(int a, int b) {
    return _mm256_setr_m128i(_mm256_castsi256_si128(lane16(a)), _mm256_castsi256_si128(lane16(b)));
}


// One q4_K (five = false) or q5_K super-block of one W row against block b of nc x columns:
// acc[c] += d_w d_x sum(sc q x) - dmin_w d_x sum(m bsum). q5_K: each code's 5th bit (element l
// of sub-block s: bit s of qh[l % 32]) added as 16 (codes 0..31: maddubs pairs stay in int16).
static inline __attribute__((always_inline)) void q45_k_block(const uint8_t *blk, bool five,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m256 *acc) {
    const struct kiln_block_q4_K *w4 = (const void *)blk;
    const struct kiln_block_q5_K *w5 = (const void *)blk;
    const uint8_t *qs = five ? w5->qs : w4->qs;
    const __m256i sm = kiln_q45_k_scales_mins(five ? w5->scales : w4->scales);
    const __m128i mins = _mm256_extracti128_si256(sm, 1), sc128 = _mm256_castsi256_si128(sm);
    const __m256i scales = _mm256_setr_m128i(sc128, sc128);
        const __m256i h = five ? _mm256_loadu_si256((const __m256i *)w5->qh) : _mm256_setzero_si256();
    __m256i sum[NC];
    for (int c = 0; c < nc; c++)
        sum[c] = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high)
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m256i lo, hi;
        kiln_q45_k_codes(q, h, five, j, &lo, &hi);
        const __m256i s_lo = _mm256_shuffle_epi8(scales, lane16(2 * j));
        const __m256i s_hi = _mm256_shuffle_epi8(scales, lane16(2 * j + 1));
        #pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            const int8_t *xq = x[c][b].qs + 64 * j;
            const __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)xq));
            const __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xq + 32)));
            sum[c] = _mm256_add_epi32(sum[c], _mm256_add_epi32(_mm256_madd_epi16(pl, s_lo), _mm256_madd_epi16(ph, s_hi)));
        }
    }
    // The block's integer totals, then one FMA pair on lane 0 (the other lanes stay 0): the
    // order of the x16 layout's GEMV (matmul_kquant_x16_avx2.c), so that repacked and row
    // weights agree bit for bit (tests/test_repack.c).
    const float d = kiln_f16_scalar(five ? w5->d : w4->d), dmin = kiln_f16_scalar(five ? w5->dmin : w4->dmin);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        const __m128i pm = _mm_madd_epi16(mins, kiln_q8_k_sums32(&x[c][b]));
        const int32_t mt = _mm_cvtsi128_si32(_mm_hadd_epi32(_mm_hadd_epi32(pm, pm), pm));
        __m128 a = _mm_fmadd_ss(_mm_set_ss(d * dx), _mm_set_ss((float)kiln_hsum256_epi32(sum[c])),
                                _mm256_castps256_ps128(acc[c]));
        a = _mm_fnmadd_ss(_mm_set_ss(dmin * dx), _mm_set_ss((float)mt), a);
        acc[c] = _mm256_zextps128_ps256(a);
    }
}

// One q6_K super-block (spec §3.6: two halves of 128; in each, 32-byte runs l of ql/qh give
// elements l, l+32, l+64, l+96 with scales is, is+2, is+4, is+6) against block b of nc columns:
// acc[c] += d_w d_x (sum(sc q x) - 32 sum(sc bsum)). Run r of a half takes scale 2r in its low
// 128-bit lane (elements 0..15) and 2r+1 in its high lane: one pshufb of the half's scales.
static inline __attribute__((always_inline)) void q6_k_block(const uint8_t *blk, const struct kiln_block_q8_K *const *x,
                                                              int64_t b, int nc, __m256 *acc) {
    const struct kiln_block_q6_K *w = (const void *)blk;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    __m256i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
        sum[c] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias, 5));
    }
    #pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        const __m128i s8 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(w->scales + 8 * half)));
        const __m256i sc = _mm256_setr_m128i(s8, s8);
        __m256i q[4];  // codes 0..63 of the four 32-element runs
        kiln_q6_k_codes(w->ql + 64 * half, w->qh + 32 * half, q);
        #pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const __m256i s = _mm256_shuffle_epi8(sc, lane16_pair(2 * r, 2 * r + 1));
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x[c][b].qs + 128 * half + 32 * r));
                sum[c] = _mm256_add_epi32(sum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], xv), s));
            }
        }
    }
    // Lane 0 only, as in q45_k_block (bit for bit with the x16 layout).
    const float d = kiln_f16_scalar(w->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m128 a = _mm_fmadd_ss(_mm_set_ss(d * x[c][b].d), _mm_set_ss((float)kiln_hsum256_epi32(sum[c])),
                                      _mm256_castps256_ps128(acc[c]));
        acc[c] = _mm256_zextps128_ps256(a);
    }
}

// One q2_K (q3 = false) or q3_K super-block against block b of nc columns (spec §3.2-3.3): per
// half h and group g, 32 codes (kiln_q23_k_codes) meet 32 x codes in one maddubs, and the madd
// applies the two 16-element sub-blocks' scales [sc 8h+2g x8 | sc 8h+2g+1 x8]; W is unpacked
// once for the nc columns. q2_K: acc += d_w d_x sum(sc q x) - dmin_w d_x sum(m bsum). q3_K
// (scales signed, codes 0..7 standing for -4..3): acc += d_w d_x (sum(sc q x) - 4 sum(sc bsum)).
static inline __attribute__((always_inline)) void q23_k_block(const uint8_t *blk, bool q3,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m256 *acc) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    __m256i sc16, mins16, hm;
    kiln_q23_k_unpack_block(blk, q3, &sc16, &mins16, &hm);
    const uint8_t *qs = q3 ? w3->qs : w2->qs;
    __m256i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        sum[c] = _mm256_setzero_si256();
        if (q3)  // the "- 4" of every code: - 4 sum(sc bsum), once per block
            sum[c] = _mm256_sub_epi32(sum[c], _mm256_slli_epi32(
                _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums)), 2));
    }
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        // scales 8h .. 8h+7 in both halves (the immediate must be a constant: clang insists)
        const __m256i sch = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00);
        #pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            const __m256i codes = kiln_q23_k_codes(q, hm, q3, h, g);
            const __m256i s = _mm256_shuffle_epi8(sch, lane16_pair(2 * g, 2 * g + 1));
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x[c][b].qs + 128 * h + 32 * g));
                sum[c] = _mm256_add_epi32(sum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(codes, xv), s));
            }
        }
    }
    // Lane 0 only, in the x16 GEMV's order (bit for bit with repacked weights), as q45_k_block.
    const float d = kiln_f16_scalar(q3 ? w3->d : w2->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        __m128 a = _mm_fmadd_ss(_mm_set_ss(d * dx), _mm_set_ss((float)kiln_hsum256_epi32(sum[c])),
                                _mm256_castps256_ps128(acc[c]));
        if (!q3) {
            const __m256i pm = _mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
            a = _mm_fnmadd_ss(_mm_set_ss(kiln_f16_scalar(w2->dmin) * dx), _mm_set_ss((float)kiln_hsum256_epi32(pm)), a);
        }
        acc[c] = _mm256_zextps128_ps256(a);
    }
}

typedef __m256 kq_acc;
static inline kq_acc kq_acc_zero(void) { return _mm256_setzero_ps(); }
static inline float kq_acc_sum(kq_acc v) { return kiln_hsum256(v); }
#define KQ_NAME(t, v) kiln_matmul_##t##_avx2_##v
#include "kernels/matmul/matmul_kquant_tile.h"
