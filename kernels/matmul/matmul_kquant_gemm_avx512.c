// matmul GEMM (n >= 16) for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K), AVX-512 (F+BW+VL+VNNI):
// y[n][m] = x[n][k] . W[m][k]^T, layouts as matmul.h, x quantized to Q8_K (kiln's reference
// quantize_row_q8_K, the table rows' KILN_ROUND_X_Q8_K, as every K-quant row).
//
// Why a second K-quant GEMM: the tile kernel (matmul_kquant_tile_avx512.c) unpacks each W block
// for 4 x columns and spends most of its instructions on that unpacking and on per-block scale
// arithmetic (prefill of a Q4_K_M TinyLlama at 0.60x llama.cpp's on this project's AVX-512 Xeon,
// Q5_K_M 0.37x). This one follows the scheme of ggml-cpu's `tiled` matmul (what llama.cpp runs for
// K-quant prefill on VNNI CPUs): unpack W once into plain bytes, then run an int8 micro-kernel that
// is nothing but dot products.
//
// Scheme. Threads split W into windows of WR = 64 rows; a window meets x in panels of WC = 256
// columns with its f32 accumulators (WR x WC, 64 KiB) in the thread's scratch. Per super-block b:
//   1. the window's 64 rows of block b are unpacked into 256 unsigned codes per row (q4_K 0..15,
//      q5_K 0..31, q6_K 0..63, q2_K 0..3, q3_K 0..7), one f32 scale and one int16 "min" per
//      sub-block (SUB = 32 elements for q4_K/q5_K, 16 for the others) and d, dmin per row.
//      Offsets become mins: q6_K's code - 32 is (min = 32 sc, dmin = d), q3_K's - 4 likewise.
//   2. per two groups of 16 x columns (x rearranged once by the prepare step: per block, for
//      each 4-element group kg, the 16 columns' 4 codes side by side, 64 bytes; the columns'
//      per-16 and per-32 code sums as int16 pairs), a 4-row x 32-column micro-kernel: for each
//      kg, two 64-byte x loads and, per row, vpdpbusd(acc, broadcast of the row's 4 codes, x) —
//      16 columns x 4 elements per instruction; per sub-block each row's int32 sums are converted and FMA'd by
//      the sub-block scale into f32; the mins term sum(min_s * xsum_s) is vpdpwssd on the int16
//      pairs; per block: acc[row][col] += d_x (d_w s1 - dmin_w s2).
// Per 4 rows x 32 columns x 32 elements that is 64 vpdpbusd against 16 conversions and FMAs.
//
// Rounding: the integer sub-block dots are exact; the scaled sums are f32 (the tile kernel and
// ggml differ in where they round), so results agree with the other K-quant rows to f32
// rounding, not bit for bit; `kiln ops` checks them against the reference on Q8_K-rounded x.
// Versions: v1 8 rows x 16 columns; v2 (this) 4 x 32, 10% faster. Test: `kiln ops --op matmul
// --type q4_K --kernel int.gemm`.
#include <string.h>

#include "kernels/common/kquant_x86.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/quant_ref.h"

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

// ---- the micro-kernel: rows r0..r0+R-1 of the window against NX 16-column groups ----
// R = 4 rows x NX = 2 groups (32 columns): per kg two x loads and four broadcasts feed eight
// vpdpbusd in eight independent chains. Measured (m=4096 n=512 k=14336, 2 threads, AVX-512
// Xeon): 8 rows x 1 group (nine loads per eight dots) q4_K 101 ms, q6_K 113; 4 x 2: 91, 103;
// 4 x 3: 91, 108; 2 x 4: 105, 125.
enum { R = 4, NX = 2 };
static inline __attribute__((always_inline)) void micro(const struct wk_block *w, int r0,
                                                        const struct xk_block *const x[NX], int nx, int sub,
                                                        float *acc, int acc_stride) {
    const int nsub = 256 / sub, ng = sub / 4;
    __m512 s1[R][NX];
    for (int t = 0; t < R; t++)
        for (int c = 0; c < nx; c++)
            s1[t][c] = _mm512_setzero_ps();
    for (int s = 0; s < nsub; s++) {
        __m512i a[R][NX];
        for (int t = 0; t < R; t++)
            for (int c = 0; c < nx; c++)
                a[t][c] = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int g = 0; g < ng; g++) {
            const int kg = s * ng + g;
            __m512i xc[NX];
            for (int c = 0; c < nx; c++)
                xc[c] = _mm512_loadu_si512(x[c]->q[kg]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t u4;
                memcpy(&u4, w->q[r0 + t] + 4 * kg, 4);
                const __m512i wb = _mm512_set1_epi32(u4);
                for (int c = 0; c < nx; c++)
                    a[t][c] = _mm512_dpbusd_epi32(a[t][c], wb, xc[c]);
            }
        }
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            const __m512 scale = _mm512_set1_ps(w->sc[r0 + t][s]);
            for (int c = 0; c < nx; c++)
                s1[t][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[t][c]), scale, s1[t][c]);
        }
    }
    for (int c = 0; c < nx; c++) {
        // The mins term per row: sum_s mn_s * xsum_s, two sub-blocks per vpdpwssd.
        const int16_t(*bs)[GC][2] = sub == 32 ? x[c]->bs32 : x[c]->bs16;
        __m512i s2[R];
        for (int t = 0; t < R; t++)
            s2[t] = _mm512_setzero_si512();
        for (int p = 0; p < nsub / 2; p++) {
            const __m512i xs = _mm512_loadu_si512(bs[p]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t m2;
                memcpy(&m2, &w->mn[r0 + t][2 * p], 4);
                s2[t] = _mm512_dpwssd_epi32(s2[t], xs, _mm512_set1_epi32(m2));
            }
        }
        const __m512 dx = _mm512_loadu_ps(x[c]->d);
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            const __m512 v = _mm512_fnmadd_ps(_mm512_set1_ps(w->dmin[r0 + t]), _mm512_cvtepi32_ps(s2[t]),
                                              _mm512_mul_ps(_mm512_set1_ps(w->d[r0 + t]), s1[t][c]));
            float *p = acc + (size_t)t * acc_stride + c * GC;
            _mm512_storeu_ps(p, _mm512_fmadd_ps(v, dx, _mm512_loadu_ps(p)));
        }
    }
}

#define MICRO(name, nx_, sub_)                                                                     \
    static __attribute__((noinline)) void name(const struct wk_block *w, int r0,                   \
                                               const struct xk_block *const x[NX], float *acc,      \
                                               int acc_stride) {                                    \
        micro(w, r0, x, nx_, sub_, acc, acc_stride);                                                \
    }
MICRO(micro_32x2, 2, 32)
MICRO(micro_32x1, 1, 32)
MICRO(micro_16x2, 2, 16)
MICRO(micro_16x1, 1, 16)
#undef MICRO

static void kq_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *wt = &op->src[0], *y = &op->dst;
    const int64_t k = wt->ne[0], m = wt->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kiln_row_size(wt->type, KILN_QK_K);
    const bool sub32 = wt->type == KILN_TYPE_Q4_K || wt->type == KILN_TYPE_Q5_K;
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
                    if (r < rows)
                        unpack_row(wt->type, (const uint8_t *)KILN_ROW(wt, i0 + r, 0, 0) + (size_t)b * bsz, &sc->w, r);
                    else
                        zero_row(&sc->w, r);
                }
                for (int64_t g = g0; g < g1; g += NX) {
                    const bool two = g + 1 < g1;
                    const struct xk_block *xb[NX] = { &xs[g * nb + b], &xs[(two ? g + 1 : g) * nb + b] };
                    for (int r0 = 0; r0 < rows; r0 += R) {
                        float *acc = &sc->acc[r0][(g - g0) * GC];
                        if (sub32)
                            (two ? micro_32x2 : micro_32x1)(&sc->w, r0, xb, acc, WC);
                        else
                            (two ? micro_16x2 : micro_16x1)(&sc->w, r0, xb, acc, WC);
                    }
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

const struct kiln_cpu_kernel kiln_matmul_kquant_int_avx512_gemm = {
    .workspace = kq_workspace, .prepare = kq_prepare, .compute = kq_gemm };
