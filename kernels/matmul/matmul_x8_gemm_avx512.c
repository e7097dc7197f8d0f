// matmul GEMM (n >= 16), AVX-512 (F+BW+VL+VNNI), for Q4_0 and Q8_0 weights in the x8 layouts
// (quant/format/repack.h), on integer dot products: y[n][m] = x[n][k] . W[m][k]^T, layouts as
// matmul.h, x quantized to Q8_0 rows first (kiln_matmul_xq8_prepare, the GEMVs' quantizer: the
// table row's rounding is KILN_ROUND_X_Q8_0_INV127, as theirs).
//
// Why: before this, prefill on these types ran the packed f32-FMA GEMM (W dequantized into
// panels), i.e. it was bounded by the FMA peak, while an int8 dot product (vpdpbusd zmm: 64
// multiply-adds per instruction) has about 4x that peak on AVX512-VNNI parts. llama.cpp's
// repacked Q4_0 GEMM uses the same instruction.
//
// Scheme. The threads split W's 8-row tiles statically. x columns are taken in panels of NP
// (whose quantized blocks stay in L2 while the thread's tiles pass over them), a panel in groups
// of NC4 (q4_0) or NC8 (q8_0) columns; per (tile, group) the whole k is run with the group's
// accumulators in registers. Per block, W's codes are loaded and unpacked once for the group:
//   q4_0: one zmm holds four rows' 16 code bytes ([r0 | r1 | r2 | r3], 128-bit lane q = row q);
//         the low nibbles meet x[0..15] and the high nibbles x[16..31], each broadcast to the four
//         128-bit lanes: 4 vpdpbusd per (block, column) for 8 rows x 32 elements, int32 lane
//         4q+i of a row's zmm holding the row's products of elements 4i..4i+3 and 16+4i..16+4i+3.
//   q8_0: one zmm holds two rows' 32 codes (stored as q + 128), x's 32 codes broadcast to both
//         256-bit halves: 4 vpdpbusd per (block, column), lane 8h+i of row 2q+h = elements 4i..4i+3.
// The codes' offsets (q4_0: 8, q8_0: 128) are taken off by starting each dot's accumulator at
// -offset * (the matching sums of x's codes), which the prepare step stores with each x block
// (struct xg_block), so no subtraction is left in the inner loop. Each block's integer dot is then
// converted and scaled by d_w * d_x into per-lane f32 accumulators, and the lanes of a row are
// summed at the end.
//
// The integer dots are exact; the lanes, the product d_w * d_x, the FMA order over blocks and the
// final lane sums are those of the GEMVs (matmul_x8_tile.h: x8_tile and x8q8_tile), so a GEMM
// output equals the GEMV's for the same column bit for bit — prefill and decode agree exactly
// (tests/test_repack.c checks both against each other).
// Versions: v1 (this). Test: `kiln ops --op matmul --type q4_0,q8_0 --kernel x8`;
// bench: `kiln bench ops --op matmul --type q4_0 --shape m=4096,n=512,k=14336`.
#include <string.h>

#include "kernels/common/simd_avx512.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/fp16.h"
#include "quant/format/repack.h"

// NC4/NC8: columns per group (q4_0: 2 zmm accumulators per column, 16 + 12 working registers;
// q8_0: 4 per column). NP: columns per panel (NP x k/32 x 80 bytes of x: 1.1 MiB at k = 14336).
enum { NC4 = 8, NC8 = 4, NP = 32 };

// One x block as the GEMM reads it: the codes, the offset corrections (negated) and d in f32.
struct xg_block {
    int8_t qs[32];
    int32_t ncorr[8];  // q4_0: lanes 0..3 = -8 (s_i + s_{i+4}); q8_0: lanes 0..7 = -128 s_i;
                       // s_i = qs[4i] + .. + qs[4i+3]
    float d;
    uint8_t pad[12];
};
_Static_assert(sizeof(struct xg_block) == 80, "xg_block is 80 bytes");

static size_t xq8_bytes(const struct kiln_op *op) {
    const size_t b = (size_t)op->src[1].ne[1] * kiln_row_size(KILN_TYPE_Q8_0, op->src[1].ne[0]);
    return (b + 63) & ~(size_t)63;
}
static const struct xg_block *xg_col(const struct kiln_op *op, const void *ws, int64_t j) {
    return (const struct xg_block *)((const char *)ws + xq8_bytes(op)) + j * (op->src[1].ne[0] / KILN_QK8_0);
}

static size_t xg_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    const int64_t k = op->src[1].ne[0], n = op->src[1].ne[1];
    return xq8_bytes(op) + (size_t)n * (size_t)(k / KILN_QK8_0) * sizeof(struct xg_block);
}

// The GEMVs' Q8_0 rows, then this thread's columns (the same split) rewritten as xg_blocks.
static void xg_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_xq8_prepare(op, ws, ith, nth);
    const int64_t k = op->src[1].ne[0], n = op->src[1].ne[1], nb = k / KILN_QK8_0;
    const bool q8 = op->src[0].type == KILN_TYPE_Q8_0;
    const size_t row = kiln_row_size(KILN_TYPE_Q8_0, k);
    int64_t lo, hi;
    kiln_split(n, ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++) {
        const struct kiln_block_q8_0 *xb = (const void *)((const char *)ws + (size_t)j * row);
        struct xg_block *g = (struct xg_block *)xg_col(op, ws, j);
        for (int64_t b = 0; b < nb; b++) {
            int32_t s[8];
            for (int i = 0; i < 8; i++)
                s[i] = xb[b].qs[4 * i] + xb[b].qs[4 * i + 1] + xb[b].qs[4 * i + 2] + xb[b].qs[4 * i + 3];
            memcpy(g[b].qs, xb[b].qs, sizeof g[b].qs);
            memset(g[b].ncorr, 0, sizeof g[b].ncorr);
            for (int i = 0; i < (q8 ? 8 : 4); i++)
                g[b].ncorr[i] = q8 ? -128 * s[i] : -8 * (s[i] + s[i + 4]);
            g[b].d = kiln_f16_to_f32(xb[b].d);
            memset(g[b].pad, 0, sizeof g[b].pad);
        }
    }
}

// The sum of a row's four lanes as x8_tile sums them: (l0 + l1) + (l2 + l3).
static inline float sum4(const float *l) { return (l[0] + l[1]) + (l[2] + l[3]); }
// The sum of a row's eight lanes as kiln_hsum256 sums them.
static inline float sum8(const float *l) {
    const float a0 = l[0] + l[4], a1 = l[1] + l[5], a2 = l[2] + l[6], a3 = l[3] + l[7];
    return (a0 + a2) + (a1 + a3);
}

// ---- q4_0 ----
// One tile (8 rows) against nc columns over all k: out[c * 8 + r].
static inline __attribute__((always_inline)) void q4_group(const uint8_t *tile, int64_t k,
                                                           const struct xg_block *const *x, int nc,
                                                           float *out) {
    const int64_t nb = k / KILN_QK8_0;
    const kiln_half *scales = kiln_x8_scales(tile, k);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i rows03 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i rows47 = _mm512_add_epi32(rows03, _mm512_set1_epi32(4));
    __m512 acc[NC4][2];
    for (int c = 0; c < nc; c++)
        acc[c][0] = acc[c][1] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *codes = kiln_x8_codes(tile, b, 0);
        _mm_prefetch((const char *)codes + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)codes + 1024 + 64, _MM_HINT_T0);
        const __m512i p0 = _mm512_loadu_si512(codes), p1 = _mm512_loadu_si512(codes + 64);
        const __m512i lo0 = _mm512_and_si512(p0, low4), hi0 = _mm512_and_si512(_mm512_srli_epi16(p0, 4), low4);
        const __m512i lo1 = _mm512_and_si512(p1, low4), hi1 = _mm512_and_si512(_mm512_srli_epi16(p1, 4), low4);
        const __m512 dw8 = _mm512_castps256_ps512(
            _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(scales + b * KILN_X8_ROWS))));
        const __m512 dw0 = _mm512_permutexvar_ps(rows03, dw8), dw1 = _mm512_permutexvar_ps(rows47, dw8);
        #pragma GCC unroll 8
        for (int c = 0; c < nc; c++) {
            const struct xg_block *xb = x[c] + b;
            const __m512i xa = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)xb->qs));
            const __m512i xc = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(xb->qs + 16)));
            const __m512i corr = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)xb->ncorr));
            const __m512i s0 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, lo0, xa), hi0, xc);
            const __m512i s1 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, lo1, xa), hi1, xc);
            const __m512 dx = _mm512_set1_ps(xb->d);
            acc[c][0] = _mm512_fmadd_ps(_mm512_mul_ps(dw0, dx), _mm512_cvtepi32_ps(s0), acc[c][0]);
            acc[c][1] = _mm512_fmadd_ps(_mm512_mul_ps(dw1, dx), _mm512_cvtepi32_ps(s1), acc[c][1]);
        }
    }
    for (int c = 0; c < nc; c++) {
        float l[32];
        _mm512_storeu_ps(l, acc[c][0]);
        _mm512_storeu_ps(l + 16, acc[c][1]);
        for (int r = 0; r < KILN_X8_ROWS; r++)
            out[c * KILN_X8_ROWS + r] = sum4(l + 4 * r);
    }
}

// ---- q8_0 ----
static inline __attribute__((always_inline)) void q8_group(const uint8_t *tile, int64_t k,
                                                           const struct xg_block *const *x, int nc,
                                                           float *out) {
    const int64_t nb = k / KILN_QK8_0;
    const kiln_half *scales = kiln_x8q8_scales(tile, k);
    __m512i pair[4];
    for (int q = 0; q < 4; q++)
        pair[q] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * q)),
                                     _mm256_set1_epi32(2 * q + 1), 1);
    __m512 acc[NC8][4];
    for (int c = 0; c < nc; c++)
        for (int q = 0; q < 4; q++)
            acc[c][q] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *codes = kiln_x8q8_codes(tile, b, 0);
        #pragma GCC unroll 4
        for (int l = 0; l < 4; l++)
            _mm_prefetch((const char *)codes + 2048 + 64 * l, _MM_HINT_T0);
        const __m512 dw8 = _mm512_castps256_ps512(
            _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(scales + b * KILN_X8_ROWS))));
        __m512i w[4];
        __m512 dw[4];
        #pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            w[q] = _mm512_loadu_si512(codes + 64 * q);
            dw[q] = _mm512_permutexvar_ps(pair[q], dw8);
        }
        #pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            const struct xg_block *xb = x[c] + b;
            const __m512i xq = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)xb->qs));
            const __m512i corr = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)xb->ncorr));
            const __m512 dx = _mm512_set1_ps(xb->d);
            #pragma GCC unroll 4
            for (int q = 0; q < 4; q++)
                acc[c][q] = _mm512_fmadd_ps(_mm512_mul_ps(dw[q], dx),
                                            _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, w[q], xq)), acc[c][q]);
        }
    }
    for (int c = 0; c < nc; c++)
        for (int q = 0; q < 4; q++) {
            float l[16];
            _mm512_storeu_ps(l, acc[c][q]);
            out[c * KILN_X8_ROWS + 2 * q] = sum8(l);
            out[c * KILN_X8_ROWS + 2 * q + 1] = sum8(l + 8);
        }
}

// A group of nc columns with nc a constant in each instantiation.
static void group(bool q8, const uint8_t *tile, int64_t k, const struct xg_block *const *x, int nc, float *out) {
#define G(N)                                                                                       \
    case N:                                                                                        \
        if (q8)                                                                                    \
            q8_group(tile, k, x, (N) < NC8 ? (N) : NC8, out); /* N > NC8: never taken */           \
        else                                                                                       \
            q4_group(tile, k, x, N, out);                                                          \
        break
    switch (nc) {
        G(1); G(2); G(3); G(4); G(5); G(6); G(7); G(8);
    }
#undef G
}

static void x8_int_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const bool q8 = w->type == KILN_TYPE_Q8_0;
    const int64_t k = w->ne[0], n = op->src[1].ne[1];
    const size_t tile_bytes = q8 ? kiln_x8q8_tile_bytes(k) : kiln_x8_tile_bytes(k);
    const int gc = q8 ? NC8 : NC4;
    const uint8_t *base = KILN_ROW(w, 0, 0, 0);
    int64_t lo, hi;
    kiln_split(w->ne[1] / KILN_X8_ROWS, ith, nth, &lo, &hi);
    for (int64_t p0 = 0; p0 < n; p0 += NP) {
        const int64_t p1 = p0 + NP < n ? p0 + NP : n;
        for (int64_t t = lo; t < hi; t++) {
            for (int64_t j0 = p0; j0 < p1; j0 += gc) {
                const int nc = (int)(p1 - j0 < gc ? p1 - j0 : gc);
                const struct xg_block *x[NC4];
                for (int c = 0; c < nc; c++)
                    x[c] = xg_col(op, ws, j0 + c);
                float out[NC4 * KILN_X8_ROWS];
                group(q8, base + (size_t)t * tile_bytes, k, x, nc, out);
                for (int c = 0; c < nc; c++)
                    memcpy((float *)KILN_ROW(y, j0 + c, 0, 0) + t * KILN_X8_ROWS, out + c * KILN_X8_ROWS,
                           KILN_X8_ROWS * sizeof(float));
            }
        }
    }
}

const struct kiln_cpu_kernel kiln_matmul_x8_int_avx512_gemm = {
    .workspace = xg_workspace, .prepare = xg_prepare, .compute = x8_int_gemm };
