// The 32-block integer GEMM's layouts, x preparation, W unpacking and driver, written once for
// the files that add a micro-kernel: matmul_q32_gemm_avx512.c (zmm vpdpbusd; the scheme is
// described there) and matmul_q32_gemm_avx2.c (ymm maddubs). Unpacking uses AVX2 only.
//
// The includer defines, before including this, the enum constants R (rows per micro-kernel call,
// a divisor of WR) and NXG (16-column groups per call), and after it the micro-kernel
//   static void q32_micro(enum kiln_type type, const struct wq_chunk *u, int r0,
//                         const struct xq_chunk *const x[NXG], int nx, int nblk, float *acc, int acc_stride)
// adding rows r0..r0+R-1 x groups x[0..nx) over nblk blocks of one chunk into acc.
#pragma once
#include <string.h>

#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/repack.h"

enum { GC = 16, WR = 64, WC = 256, NGRP = WC / GC, CB = 8 /* blocks per chunk */ };

// One chunk (up to 8 blocks) of 16 x columns.
struct xq_chunk {
    int8_t q[CB * 8][GC][4];  // [4-element group][column][element]
    int32_t init[CB][GC];     // -offset * sum of the block's codes
    float d[CB][GC];          // the block's d
    float dsum[CB][GC];       // d * sum of the block's codes (the mins term)
};
_Static_assert(sizeof(struct xq_chunk) % 64 == 0, "xq_chunk keeps 64-byte alignment");

struct wq_chunk {
    uint8_t q[WR][CB * 32];
    float d[WR][CB], m[WR][CB];
};

struct thread_scratch {
    struct wq_chunk w;
    float acc[WR][WC];
};

static int64_t groups_of(int64_t n) { return (n + GC - 1) / GC; }
static int64_t chunks_of(int64_t k) { return (k / 32 + CB - 1) / CB; }
static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }
static size_t x_bytes(const struct kiln_op *op) {
    return (size_t)groups_of(op->src[1].ne[1]) * (size_t)chunks_of(op->src[1].ne[0]) * sizeof(struct xq_chunk);
}
static size_t scratch_bytes(const struct kiln_op *op) {
    return align64(sizeof(struct thread_scratch) + kiln_row_size(KILN_TYPE_Q8_0, op->src[1].ne[0]));
}
static struct thread_scratch *scratch_of(const struct kiln_op *op, void *ws, int ith) {
    return (struct thread_scratch *)((char *)ws + align64(x_bytes(op)) + (size_t)ith * scratch_bytes(op));
}
static size_t q32_workspace(const struct kiln_op *op, int nth) {
    return align64(x_bytes(op)) + (size_t)nth * scratch_bytes(op);
}

static int code_offset(enum kiln_type t) {
    return t == KILN_TYPE_Q4_0 ? 8 : t == KILN_TYPE_Q5_0 ? 16 : t == KILN_TYPE_Q8_0 ? 128 : 0;
}
static inline bool has_min(enum kiln_type t) { return t == KILN_TYPE_Q4_1 || t == KILN_TYPE_Q5_1; }

// x columns to Q8_0 and into the chunk layout; threads take whole groups.
static void q32_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    const int64_t k = x->ne[0], n = x->ne[1], nb = k / 32, nch = chunks_of(k);
    const int offset = code_offset(op->src[0].type);
    struct kiln_block_q8_0 *row = (void *)(scratch_of(op, ws, ith) + 1);
    struct xq_chunk *xs = ws;
    int64_t lo, hi;
    kiln_split(groups_of(n), ith, nth, &lo, &hi);
    for (int64_t g = lo; g < hi; g++) {
        memset(&xs[g * nch], 0, (size_t)nch * sizeof *xs);  // a tail chunk's unused blocks
        for (int c = 0; c < GC; c++) {
            const int64_t j = g * GC + c;
            if (j < n)
                kiln_matmul_quantize_row_q8_0(KILN_ROW(x, j, 0, 0), row, k);
            else
                memset(row, 0, (size_t)nb * sizeof *row);  // padding columns: zero codes, d = 0
            for (int64_t b = 0; b < nb; b++) {
                struct xq_chunk *xc = &xs[g * nch + b / CB];
                const int s = (int)(b % CB);
                int32_t sum = 0;
                for (int i = 0; i < 32; i++)
                    sum += row[b].qs[i];
                for (int kg = 0; kg < 8; kg++)
                    memcpy(xc->q[8 * s + kg][c], row[b].qs + 4 * kg, 4);
                xc->init[s][c] = -offset * sum;
                xc->d[s][c] = kiln_f16_to_f32(row[b].d);
                xc->dsum[s][c] = xc->d[s][c] * (float)sum;
            }
        }
    }
}

// ---- unpacking: blocks [b0, b0 + nblk) of W row i into window row r ----

// 16 code bytes (element j low nibble, j + 16 high) to 32 codes in element order.
static inline void nibbles(const uint8_t *qs, uint8_t *out) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), low4 = _mm_set1_epi8(0x0F);
    _mm_storeu_si128((__m128i *)out, _mm_and_si128(q, low4));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_and_si128(_mm_srli_epi16(q, 4), low4));
}
// q5's fifth bits (bit j of the LE uint32 qh = element j) added as 16.
// (AVX2: the 32 bits spread to one byte each by pshufb, then each byte's own bit tested.)
static inline void fifth_bits(const uint8_t *qh, uint8_t *out) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)bits),
        _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL)),
                                          _mm256_set1_epi64x(-1));
    const __m256i add = _mm256_and_si256(set, _mm256_set1_epi8(16));
    _mm256_storeu_si256((__m256i *)out, _mm256_or_si256(_mm256_loadu_si256((const __m256i *)out), add));
}

static void unpack_row(const struct kiln_tensor *w, int64_t i, int64_t b0, int nblk, struct wq_chunk *u, int r) {
    const enum kiln_type t = w->type;
    const int64_t k = w->ne[0];
    if (w->layout == KILN_LAYOUT_Q4_0_X8 || w->layout == KILN_LAYOUT_Q8_0_X8) {
        const bool q8 = w->layout == KILN_LAYOUT_Q8_0_X8;
        const uint8_t *tile = (const uint8_t *)KILN_ROW(w, 0, 0, 0) +
                              (size_t)(i / KILN_X8_ROWS) * (q8 ? kiln_x8q8_tile_bytes(k) : kiln_x8_tile_bytes(k));
        const int ri = (int)(i % KILN_X8_ROWS);
        const kiln_half *sc = q8 ? kiln_x8q8_scales(tile, k) : kiln_x8_scales(tile, k);
        for (int s = 0; s < nblk; s++) {
            const int64_t b = b0 + s;
            if (q8)  // stored as q + 128 already
                memcpy(u->q[r] + 32 * s, kiln_x8q8_codes(tile, b, ri), 32);
            else
                nibbles(kiln_x8_codes(tile, b, ri), u->q[r] + 32 * s);
            u->d[r][s] = kiln_f16_to_f32(sc[b * KILN_X8_ROWS + ri]);
            u->m[r][s] = 0.0f;
        }
        return;
    }
    const uint8_t *row = KILN_ROW(w, i, 0, 0);
    for (int s = 0; s < nblk; s++) {
        const int64_t b = b0 + s;
        uint8_t *out = u->q[r] + 32 * s;
        u->m[r][s] = 0.0f;
        switch (t) {
        case KILN_TYPE_Q4_0: {
            const struct kiln_block_q4_0 *x = (const void *)row;
            nibbles(x[b].qs, out);
            u->d[r][s] = kiln_f16_to_f32(x[b].d);
            break;
        }
        case KILN_TYPE_Q4_1: {
            const struct kiln_block_q4_1 *x = (const void *)row;
            nibbles(x[b].qs, out);
            u->d[r][s] = kiln_f16_to_f32(x[b].d);
            u->m[r][s] = kiln_f16_to_f32(x[b].m);
            break;
        }
        case KILN_TYPE_Q5_0: {
            const struct kiln_block_q5_0 *x = (const void *)row;
            nibbles(x[b].qs, out);
            fifth_bits(x[b].qh, out);
            u->d[r][s] = kiln_f16_to_f32(x[b].d);
            break;
        }
        case KILN_TYPE_Q5_1: {
            const struct kiln_block_q5_1 *x = (const void *)row;
            nibbles(x[b].qs, out);
            fifth_bits(x[b].qh, out);
            u->d[r][s] = kiln_f16_to_f32(x[b].d);
            u->m[r][s] = kiln_f16_to_f32(x[b].m);
            break;
        }
        default: {  // Q8_0 rows: signed codes to q + 128
            const struct kiln_block_q8_0 *x = (const void *)row;
            _mm256_storeu_si256((__m256i *)out, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[b].qs),
                                                                 _mm256_set1_epi8((char)0x80)));
            u->d[r][s] = kiln_f16_to_f32(x[b].d);
            break;
        }
        }
    }
}

static void zero_row(struct wq_chunk *u, int r) {
    memset(u->q[r], 0, sizeof u->q[r]);
    memset(u->d[r], 0, sizeof u->d[r]);
    memset(u->m[r], 0, sizeof u->m[r]);
}

static void q32_micro(enum kiln_type type, const struct wq_chunk *u, int r0, const struct xq_chunk *const x[NXG],
                      int nx, int nblk, float *acc, int acc_stride);

static void q32_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *wt = &op->src[0], *y = &op->dst;
    const int64_t k = wt->ne[0], m = wt->ne[1], n = op->src[1].ne[1], nb = k / 32, nch = chunks_of(k);
    const int64_t ngroups = groups_of(n);
    const struct xq_chunk *xs = ws;
    struct thread_scratch *sc = scratch_of(op, ws, ith);
    int64_t lo, hi;
    kiln_split((m + WR - 1) / WR, ith, nth, &lo, &hi);
    for (int64_t win = lo; win < hi; win++) {
        const int64_t i0 = win * WR;
        const int rows = (int)(m - i0 < WR ? m - i0 : WR);
        for (int64_t g0 = 0; g0 < ngroups; g0 += NGRP) {
            const int64_t g1 = g0 + NGRP < ngroups ? g0 + NGRP : ngroups;
            for (int r = 0; r < WR; r++)
                memset(sc->acc[r], 0, (size_t)(g1 - g0) * GC * sizeof(float));
            for (int64_t c = 0; c < nch; c++) {
                const int nblk = (int)(nb - c * CB < CB ? nb - c * CB : CB);
                for (int r = 0; r < WR; r++) {
                    if (r < rows)
                        unpack_row(wt, i0 + r, c * CB, nblk, &sc->w, r);
                    else
                        zero_row(&sc->w, r);
                }
                for (int64_t g = g0; g < g1; g += NXG) {
                    const int nx = (int)(g1 - g < NXG ? g1 - g : NXG);
                    const struct xq_chunk *xc[NXG];
                    for (int i = 0; i < NXG; i++)
                        xc[i] = &xs[(i < nx ? g + i : g) * nch + c];
                    for (int r0 = 0; r0 < rows; r0 += R)
                        q32_micro(wt->type, &sc->w, r0, xc, nx, nblk, &sc->acc[r0][(g - g0) * GC], WC);
                }
            }
            for (int64_t j = g0 * GC; j < g1 * GC && j < n; j++) {
                float *yj = (float *)KILN_ROW(y, j, 0, 0) + i0;
                for (int r = 0; r < rows; r++)
                    yj[r] = sc->acc[r][j - g0 * GC];
            }
        }
    }
}

