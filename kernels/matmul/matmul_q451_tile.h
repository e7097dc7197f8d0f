// The q4_1, q5_0, q5_1 GEMV tiles, written once for the files that instantiate them
// (matmul_q451_avx2.c: maddubs + madd; matmul_q451_avx512.c: vpdpbusd). Arithmetic, layouts and
// versions: matmul_q451_avx2.c. The includer defines
//   static inline __m256i q451_dot(__m256i u, __m256i s);
// the 8 int32 lane sums of u (unsigned bytes, < 128) times s (signed bytes), four products per
// lane: exact either way, so every instantiation gives the same bits.
// It gets the static functions q4_1_gemv, q5_0_gemv and q5_1_gemv.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

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
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t b = 0; b < nb; b++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const float dx = _cvtsh_ss(xb[b].d);
        // s: the sum of x's codes, as 8 int32 lanes (every lane's share)
        const __m256i s = q451_dot(ones, xq);
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
            __m256i dot = q451_dot(q, xq);
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

