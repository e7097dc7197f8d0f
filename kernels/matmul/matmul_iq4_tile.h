// The IQ4_NL and IQ4_XS GEMV tiles, written once for the files that instantiate them
// (matmul_iq4_avx2.c: maddubs + madd; matmul_iq4_avx512.c: vpdpbusd). Arithmetic, layouts and
// versions: matmul_iq4_avx2.c. The includer defines
//   static inline __m256i iq4_dot(__m256i u, __m256i s);
// the 8 int32 lane sums of u (unsigned bytes, <= 127) times s (signed bytes), four products per
// lane: exact either way, so every instantiation gives the same bits.
// It gets the static functions iq4_nl_gemv and iq4_xs_gemv.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

enum { RM = 4 };

// 16 packed bytes -> 32 codes in element order (low nibbles are elements 0-15).
static inline __m256i iq4_codes(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

// sum over 32 elements of level(code) * xq, as 8 int32 lanes: the levels by one pshufb of the
// 16-entry table; maddubs wants an unsigned operand, so |level| against x with level's sign.
static inline __m256i iq4_block_dot(__m256i table, const uint8_t *qs, __m256i xq) {
    const __m256i v = _mm256_shuffle_epi8(table, iq4_codes(qs));
    return iq4_dot(_mm256_abs_epi8(v), _mm256_sign_epi8(xq, v));
}

static inline __m256i iq4_table(void) {
    const __m128i t = _mm_loadu_si128((const __m128i *)kiln_iq4_values);
    return _mm256_set_m128i(t, t);
}

static inline __attribute__((always_inline)) void nl_tile(const char *rows[RM], const struct kiln_block_q8_0 *xb,
                                                          int64_t nb, float out[RM]) {
    __m256 acc[RM];
    for (int r = 0; r < RM; r++)
        acc[r] = _mm256_setzero_ps();
    const __m256i table = iq4_table();
    for (int64_t b = 0; b < nb; b++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const float dx = _cvtsh_ss(xb[b].d);
        #pragma GCC unroll 4
        for (int r = 0; r < RM; r++) {
            const struct kiln_block_iq4_nl *w = (const struct kiln_block_iq4_nl *)rows[r] + b;
            _mm_prefetch((const char *)(w + 8), _MM_HINT_T0);
            const __m256i dot = iq4_block_dot(table, w->qs, xq);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(w->d) * dx), _mm256_cvtepi32_ps(dot), acc[r]);
        }
    }
    for (int r = 0; r < RM; r++)
        out[r] = kiln_hsum256(acc[r]);
}

// IQ4_XS against Q8_K: per super-block, the eight blocks' dots times their 6-bit scales - 32
// summed in int32 (|sum| <= 8 * 32 * 32 * 127 * 127 < 2^31), then once d_w * d_x.
static inline __attribute__((always_inline)) void xs_tile(const char *rows[RM], const struct kiln_block_q8_K *xb,
                                                          int64_t nb, float out[RM]) {
    __m256 acc[RM];
    for (int r = 0; r < RM; r++)
        acc[r] = _mm256_setzero_ps();
    const __m256i table = iq4_table();
    for (int64_t b = 0; b < nb; b++) {
        const float dx = xb[b].d;
        #pragma GCC unroll 4
        for (int r = 0; r < RM; r++) {
            const struct kiln_block_iq4_xs *w = (const struct kiln_block_iq4_xs *)rows[r] + b;
            _mm_prefetch((const char *)(w + 4), _MM_HINT_T0);
            __m256i isum = _mm256_setzero_si256();
            for (int ib = 0; ib < 8; ib++) {
                const __m256i xq = _mm256_loadu_si256((const __m256i *)(xb[b].qs + 32 * ib));
                const int ls = ((w->scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((w->scales_h >> 2 * ib) & 3) << 4);
                const __m256i dot = iq4_block_dot(table, w->qs + 16 * ib, xq);
                isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(dot, _mm256_set1_epi32(ls - 32)));
            }
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(w->d) * dx), _mm256_cvtepi32_ps(isum), acc[r]);
        }
    }
    for (int r = 0; r < RM; r++)
        out[r] = kiln_hsum256(acc[r]);
}

static inline __attribute__((always_inline)) void iq4_gemv(const struct kiln_op *op, const void *ws, bool xs,
                                                           int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1];
    const size_t xq_row = kiln_row_size(xs ? KILN_TYPE_Q8_K : KILN_TYPE_Q8_0, k);
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        const char *rows[RM];
        for (int r = 0; r < RM; r++)
            rows[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            float out[RM];
            const void *xr = (const char *)ws + (size_t)j * xq_row;
            if (xs)
                xs_tile(rows, xr, k / KILN_QK_K, out);
            else
                nl_tile(rows, xr, k / KILN_QK4_NL, out);
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++)
                yr[i0 + r] = out[r];
        }
    }
}

static void iq4_nl_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { iq4_gemv(op, ws, false, ith, nth); }
static void iq4_xs_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { iq4_gemv(op, ws, true, ith, nth); }
