// matmul GEMV (n < 16), AVX2: y[n][m] = x[n][k] . W[m][k]^T for W in q4_1, q5_0 or q5_1 rows
// (quant/blocks.h, spec §2), x f32. Layouts as matmul.h.
//
// x is quantized to Q8_0 rows first by the same prepare step as the q4_0/q8_0 GEMVs
// (matmul_avx2.c: d = amax/127 as f16, codes rne(x * 127/amax)), so the table rows declare
// KILN_ROUND_X_Q8_0_INV127. Per 32-element block, with codes q unsigned (0..15, or 0..31 with
// the 5th bit from qh) as maddubs's unsigned operand and s = the sum of x's codes:
//   q4_1, q5_1:  d_w d_x sum(q qx) + m_w d_x s
//   q5_0:        d_w d_x (sum(q qx) - 16 s)
// s is computed once per x block and shared by the tile's RM rows.
//
// Versions: v1 (this); before it these types' decode took the dequantize-to-f32 fallback.
// Test: `kiln ops --op matmul --type q4_1,q5_0,q5_1`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/blocks.h"

enum { RM = 4 };

enum w32 { W_Q4_1, W_Q5_0, W_Q5_1 };

// 32 bits -> 32 bytes, 16 where the bit is set (the codes' 5th bit), element order.
static inline __m256i fifth_bits(const uint8_t qh[4]) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                            0x0202020202020202, 0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);  // byte i: byte i/8 of bits
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));         // all but bit i % 8
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(-1)), _mm256_set1_epi8(16));
}

static inline __m256i nibbles(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

static inline __attribute__((always_inline)) void tile(enum w32 kind, const char *rows[RM], size_t bsz,
                                                       const struct kiln_block_q8_0 *xb, int64_t nb,
                                                       float out[RM]) {
    __m256 acc[RM];
    for (int r = 0; r < RM; r++)
        acc[r] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; b++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const float dx = _cvtsh_ss(xb[b].d);
        // s: the sum of x's codes, as 8 int32 lanes (every lane's share)
        const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, xq), ones16);
        #pragma GCC unroll 4
        for (int r = 0; r < RM; r++) {
            const char *blk = rows[r] + (size_t)b * bsz;
            _mm_prefetch(blk + 8 * bsz, _MM_HINT_T0);
            __m256i q;
            float d, m = 0.0f;
            if (kind == W_Q4_1) {
                const struct kiln_block_q4_1 *w = (const void *)blk;
                q = nibbles(w->qs);
                d = _cvtsh_ss(w->d);
                m = _cvtsh_ss(w->m);
            } else if (kind == W_Q5_0) {
                const struct kiln_block_q5_0 *w = (const void *)blk;
                q = _mm256_or_si256(nibbles(w->qs), fifth_bits(w->qh));
                d = _cvtsh_ss(w->d);
            } else {
                const struct kiln_block_q5_1 *w = (const void *)blk;
                q = _mm256_or_si256(nibbles(w->qs), fifth_bits(w->qh));
                d = _cvtsh_ss(w->d);
                m = _cvtsh_ss(w->m);
            }
            __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(q, xq), ones16);
            if (kind == W_Q5_0)
                dot = _mm256_sub_epi32(dot, _mm256_slli_epi32(s, 4));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(dot), acc[r]);
            if (kind != W_Q5_0)
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(m * dx), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (int r = 0; r < RM; r++)
        out[r] = kiln_hsum256(acc[r]);
}

static inline __attribute__((always_inline)) void gemv(const struct kiln_op *op, const void *ws,
                                                       enum w32 kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / 32;
    const size_t xq_row = kiln_row_size(KILN_TYPE_Q8_0, k);
    const size_t bsz = kind == W_Q4_1 ? sizeof(struct kiln_block_q4_1)
                       : kind == W_Q5_0 ? sizeof(struct kiln_block_q5_0)
                                        : sizeof(struct kiln_block_q5_1);
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        const char *rows[RM];
        for (int r = 0; r < RM; r++)
            rows[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            float out[RM];
            tile(kind, rows, bsz, (const void *)((const char *)ws + (size_t)j * xq_row), nb, out);
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++)
                yr[i0 + r] = out[r];
        }
    }
}

static void q4_1_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv(op, ws, W_Q4_1, ith, nth); }
static void q5_0_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv(op, ws, W_Q5_0, ith, nth); }
static void q5_1_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv(op, ws, W_Q5_1, ith, nth); }

const struct kiln_cpu_kernel kiln_matmul_q4_1_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_1_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_0_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_0_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_1_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_1_gemv };
