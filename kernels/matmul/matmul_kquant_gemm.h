// The K-quant integer GEMM's layouts, x preparation, W unpacking and driver, written once for the
// files that add a micro-kernel: matmul_kquant_gemm_avx512.c (zmm vpdpbusd; the scheme is
// described there) and matmul_kquant_gemm_avx2.c (ymm maddubs). Unpacking uses AVX2 only.
//
// The includer defines, before including this, the enum constants R (rows per micro-kernel call,
// a divisor of WR) and NXG (16-column groups per call), and after it the micro-kernel
//   static void kq_micro(enum kiln_type type, const struct wk_block *w, int r0,
//                        const struct xk_block *const x[NXG], int nx, float *acc, int acc_stride)
// adding rows r0..r0+R-1 x groups x[0..nx) of one super-block into acc (row stride acc_stride).
#pragma once
#include <string.h>

#include "kernels/common/kquant_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/quant_ref.h"
#include "quant/format/repack.h"

enum { GC = 16, WR = 64, WC = 256, NGRP = WC / GC, MAX_SUBS = 16 };

// One super-block of 16 x columns, as the micro-kernel reads it.
struct xk_block {
    int8_t q[64][GC][4];      // [kg][column][element 4 kg + i]
    int16_t bs16[8][GC][2];   // per-16 code sums, sub-blocks 2p and 2p + 1 side by side
    int16_t bs32[4][GC][2];   // per-32 code sums, likewise
    float d[GC];
};
_Static_assert(sizeof(struct xk_block) % 64 == 0, "xk_block keeps 64-byte alignment");

// One super-block of a window's WR rows, unpacked.
struct wk_block {
    uint8_t q[WR][256];
    float sc[WR][MAX_SUBS];     // sub-block scales (integers, as f32)
    int16_t mn[WR][MAX_SUBS];   // sub-block mins (or offset * scale)
    float d[WR], dmin[WR];
};

struct thread_scratch {
    struct wk_block w;
    float acc[WR][WC];
};

static int64_t groups_of(int64_t n) { return (n + GC - 1) / GC; }
static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }
static size_t x_bytes(const struct kiln_op *op) {
    return (size_t)groups_of(op->src[1].ne[1]) * (size_t)(op->src[1].ne[0] / KILN_QK_K) * sizeof(struct xk_block);
}
// Per thread: the unpacked block and accumulators, then one Q8_K row for the prepare step.
static size_t scratch_bytes(const struct kiln_op *op) {
    return align64(sizeof(struct thread_scratch) + kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]));
}
static struct thread_scratch *scratch_of(const struct kiln_op *op, void *ws, int ith) {
    return (struct thread_scratch *)((char *)ws + align64(x_bytes(op)) + (size_t)ith * scratch_bytes(op));
}

static size_t kq_workspace(const struct kiln_op *op, int nth) {
    return align64(x_bytes(op)) + (size_t)nth * scratch_bytes(op);
}

// x columns to Q8_K and into the group layout; threads take whole groups (no group is shared).
static void kq_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    const int64_t k = x->ne[0], n = x->ne[1], nb = k / KILN_QK_K;
    struct kiln_block_q8_K *row = (void *)(scratch_of(op, ws, ith) + 1);
    struct xk_block *xs = ws;
    int64_t lo, hi;
    kiln_split(groups_of(n), ith, nth, &lo, &hi);
    for (int64_t g = lo; g < hi; g++) {
        for (int c = 0; c < GC; c++) {
            const int64_t j = g * GC + c;
            if (j < n)
                kiln_quantize_q8_K_ref(KILN_ROW(x, j, 0, 0), row, k);
            else
                memset(row, 0, (size_t)nb * sizeof *row);  // padding columns: zero codes, d = 0
            for (int64_t b = 0; b < nb; b++) {
                struct xk_block *xb = &xs[g * nb + b];
                for (int kg = 0; kg < 64; kg++)
                    memcpy(xb->q[kg][c], row[b].qs + 4 * kg, 4);
                for (int s = 0; s < 16; s++)
                    xb->bs16[s / 2][c][s % 2] = row[b].bsums[s];
                for (int s = 0; s < 8; s++)
                    xb->bs32[s / 2][c][s % 2] = (int16_t)(row[b].bsums[2 * s] + row[b].bsums[2 * s + 1]);
                xb->d[c] = row[b].d;
            }
        }
    }
}

// ---- unpacking one row's block into (codes, scales, mins, d, dmin) ----

static void unpack_q45(const uint8_t *blk, bool five, struct wk_block *w, int r) {
    const struct kiln_block_q4_K *w4 = (const void *)blk;
    const struct kiln_block_q5_K *w5 = (const void *)blk;
    const uint8_t *qs = five ? w5->qs : w4->qs;
    const __m256i sm = kiln_q45_k_scales_mins(five ? w5->scales : w4->scales);
    _mm256_storeu_ps(w->sc[r], _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(sm))));
    _mm_storeu_si128((__m128i *)w->mn[r], _mm256_extracti128_si256(sm, 1));
    const __m256i h = five ? _mm256_loadu_si256((const __m256i *)w5->qh) : _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        __m256i lo, hi;
        kiln_q45_k_codes(_mm256_loadu_si256((const __m256i *)(qs + 32 * j)), h, five, j, &lo, &hi);
        _mm256_storeu_si256((__m256i *)(w->q[r] + 64 * j), lo);
        _mm256_storeu_si256((__m256i *)(w->q[r] + 64 * j + 32), hi);
    }
    w->d[r] = kiln_f16_to_f32(five ? w5->d : w4->d);
    w->dmin[r] = kiln_f16_to_f32(five ? w5->dmin : w4->dmin);
}

static void unpack_q6(const uint8_t *blk, struct wk_block *w, int r) {
    const struct kiln_block_q6_K *b6 = (const void *)blk;
    for (int h = 0; h < 2; h++) {
        __m256i q[4];
        kiln_q6_k_codes(b6->ql + 64 * h, b6->qh + 32 * h, q);
        for (int i = 0; i < 4; i++)
            _mm256_storeu_si256((__m256i *)(w->q[r] + 128 * h + 32 * i), q[i]);
    }
    for (int s = 0; s < 16; s++) {  // d sc (c - 32) = d sc c - d (32 sc)
        w->sc[r][s] = (float)b6->scales[s];
        w->mn[r][s] = (int16_t)(32 * b6->scales[s]);
    }
    w->d[r] = w->dmin[r] = kiln_f16_to_f32(b6->d);
}

static void unpack_q23(const uint8_t *blk, bool q3, struct wk_block *w, int r) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    __m256i sc16, mins16, hm;
    kiln_q23_k_unpack_block(blk, q3, &sc16, &mins16, &hm);
    _mm256_storeu_ps(w->sc[r], _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(sc16))));
    _mm256_storeu_ps(w->sc[r] + 8, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(sc16, 1))));
    // q2_K: its mins; q3_K: d sc (c - 4) = d sc c - d (4 sc)
    _mm256_storeu_si256((__m256i *)w->mn[r], q3 ? _mm256_slli_epi16(sc16, 2) : mins16);
    const uint8_t *qs = q3 ? w3->qs : w2->qs;
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        for (int g = 0; g < 4; g++)
            _mm256_storeu_si256((__m256i *)(w->q[r] + 128 * h + 32 * g), kiln_q23_k_codes(q, hm, q3, h, g));
    }
    w->d[r] = kiln_f16_to_f32(q3 ? w3->d : w2->d);
    w->dmin[r] = q3 ? w->d[r] : kiln_f16_to_f32(w2->dmin);
}

static void unpack_row(enum kiln_type type, const uint8_t *blk, struct wk_block *w, int r) {
    switch (type) {
    case KILN_TYPE_Q4_K: unpack_q45(blk, false, w, r); break;
    case KILN_TYPE_Q5_K: unpack_q45(blk, true, w, r); break;
    case KILN_TYPE_Q6_K: unpack_q6(blk, w, r); break;
    case KILN_TYPE_Q3_K: unpack_q23(blk, true, w, r); break;
    default: unpack_q23(blk, false, w, r); break;
    }
}

// A row past m: zero codes, scales and d (contributes nothing; never stored).
static void zero_row(struct wk_block *w, int r) {
    memset(w->q[r], 0, sizeof w->q[r]);
    memset(w->sc[r], 0, sizeof w->sc[r]);
    memset(w->mn[r], 0, sizeof w->mn[r]);
    w->d[r] = w->dmin[r] = 0.0f;
}

static void kq_micro(enum kiln_type type, const struct wk_block *w, int r0, const struct xk_block *const x[NXG], int nx,
                     float *acc, int acc_stride);

static void kq_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *wt = &op->src[0], *y = &op->dst;
    const int64_t k = wt->ne[0], m = wt->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kiln_row_size(wt->type, KILN_QK_K);
    const int64_t ngroups = groups_of(n);
    const struct xk_block *xs = ws;
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
            for (int64_t b = 0; b < nb; b++) {
                for (int r = 0; r < WR; r++) {
                    if (r >= rows) {
                        zero_row(&sc->w, r);
                    } else if (wt->layout != KILN_LAYOUT_ROWS) {  // x16 (the table's rows say which)
                        // the row's block back to GGUF's bytes
                        uint8_t blk[sizeof(struct kiln_block_q6_K)];
                        const int64_t i = i0 + r;
                        kiln_x16_block(wt->type, (const uint8_t *)KILN_ROW(wt, 0, 0, 0) +
                                                     (size_t)(i / KILN_X16_ROWS) * kiln_x16_tile_bytes(wt->type, k),
                                       b, (int)(i % KILN_X16_ROWS), blk);
                        unpack_row(wt->type, blk, &sc->w, r);
                    } else {
                        unpack_row(wt->type, (const uint8_t *)KILN_ROW(wt, i0 + r, 0, 0) + (size_t)b * bsz, &sc->w, r);
                    }
                }
                for (int64_t g = g0; g < g1; g += NXG) {
                    const int nx = (int)(g1 - g < NXG ? g1 - g : NXG);
                    const struct xk_block *xb[NXG];
                    for (int c = 0; c < NXG; c++)
                        xb[c] = &xs[(c < nx ? g + c : g) * nb + b];
                    for (int r0 = 0; r0 < rows; r0 += R)
                        kq_micro(wt->type, &sc->w, r0, xb, nx, &sc->acc[r0][(g - g0) * GC], WC);
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

