// matmul GEMM (n >= 16), AVX2+FMA+F16C, for W in f32, f16, q8_0, q4_0 (SIMD conversion into the
// panels) and every other dequantizable type (its dequantizer: q4_1, q5_x, K-quants, bf16):
// y[n][m] = x[n][k] . W[m][k]^T, layouts as matmul.h.
//
// GotoBLAS/BLIS structure. For each block of KC along k, each thread takes its W rows in
// panels of 16: the panel is dequantized/converted once into a packed f32 buffer laid out
// [kk][16] (16 consecutive W rows side by side), then a 6 x 16 micro-kernel sweeps all x rows
// six at a time: per kk it loads two vectors of the packed panel, broadcasts x[j][kk] for six j,
// and issues 12 FMAs into 12 ymm accumulators (15 of the 16 registers in use, none spilled).
// The x slice of the block (n x KC floats, 512 KiB at n = 512) stays in L2 across panels;
// y tiles are accumulated block after block. Packing costs one pass over W per call, amortised
// over n columns, which is why this path starts at n = 16 and decode uses the GEMV kernels.
// Quantized weights therefore meet f32 x in f32 FMAs (dequantize-on-load, as the GPU GEMMs
// do): exact weights, no activation quantization error.
// Q4_0/Q8_0 weights may be in the x8 layouts (quant/repack.h); only convert_row knows.
// Edges: a panel past m is zero-padded and its rows not stored; a partial x tile repeats its
// last row and stores only the valid ones; k need not be a multiple of KC.
//
// Versions: v1 dot-product tiles (matmul_avx2.c); v2 packed panels + 6x16 micro-kernel
// (f16 GEMM 56% -> see results/ of FMA peak on the 2-core AVX2 machine); v3 (this) the other
// types through their dequantizers, which before took the fallback (all of W dequantized to a
// scratch in row chunks, then this GEMM). Next: int8 dot products for quantized W.
// Test: `kiln ops --op matmul --kernel gemm`; bench: `kiln bench ops --op matmul`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/dequant/dequant.h"
#include "kernels/matmul/matmul.h"
#include "quant/blocks.h"
#include "quant/repack.h"

enum { KC = 256, MR = 16, NR = 6, NC = 120 };

// Row r of the panel: W row i0 + r, elements [k0, k0 + kc), converted to f32 in `row`.
static void convert_row(const struct kiln_tensor *w, int64_t i, int64_t k0, int64_t kc, float *row) {
    const char *src = KILN_ROW(w, i, 0, 0);
    switch (w->type) {
    case KILN_TYPE_F32:
        memcpy(row, (const float *)src + k0, (size_t)kc * sizeof(float));
        break;
    case KILN_TYPE_F16: {
        const uint16_t *h = (const uint16_t *)src + k0;
        int64_t kk = 0;
        for (; kk + 8 <= kc; kk += 8)
            _mm256_storeu_ps(row + kk, kiln_load_f16x8(h + kk));
        for (; kk < kc; kk++)
            row[kk] = _cvtsh_ss(h[kk]);
        break;
    }
    case KILN_TYPE_Q8_0:
    case KILN_TYPE_Q4_0: {
        // k0 and kc are multiples of 32 for block types (KC = 256, k % 32 == 0).
        // x8 layouts: row i is row i % 8 of the tile that starts at row i & ~7.
        const uint8_t *tile = (const uint8_t *)KILN_ROW(w, i & ~(int64_t)(KILN_X8_ROWS - 1), 0, 0);
        const int r = (int)(i % KILN_X8_ROWS);
        for (int64_t b = 0; b < kc / 32; b++) {
            const int64_t blk = k0 / 32 + b;
            __m256i q;
            float d;
            if (w->layout == KILN_LAYOUT_Q4_0_X8) {
                q = kiln_unpack_q4_0(kiln_x8_codes(tile, blk, r));
                d = _cvtsh_ss(kiln_x8_scales(tile, w->ne[0])[blk * KILN_X8_ROWS + r]);
            } else if (w->layout == KILN_LAYOUT_Q8_0_X8) {  // codes stored as q + 128
                q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)kiln_x8q8_codes(tile, blk, r)),
                                     _mm256_set1_epi8((char)0x80));
                d = _cvtsh_ss(kiln_x8q8_scales(tile, w->ne[0])[blk * KILN_X8_ROWS + r]);
            } else if (w->type == KILN_TYPE_Q4_0) {
                const struct kiln_block_q4_0 *x = (const struct kiln_block_q4_0 *)src + blk;
                q = kiln_unpack_q4_0(x->qs);
                d = _cvtsh_ss(x->d);
            } else {
                const struct kiln_block_q8_0 *x = (const struct kiln_block_q8_0 *)src + blk;
                q = _mm256_loadu_si256((const __m256i *)x->qs);
                d = _cvtsh_ss(x->d);
            }
            const __m256 dv = _mm256_set1_ps(d);
            const __m128i half[2] = { _mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1) };
            for (int e = 0; e < 4; e++) {
                const __m128i bytes = e & 1 ? _mm_srli_si128(half[e >> 1], 8) : half[e >> 1];
                _mm256_storeu_ps(row + 32 * b + 8 * e,
                                 _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), dv));
            }
        }
        break;
    }
    case KILN_TYPE_Q4_K: kiln_dequantize_q4_K_avx2(src + kiln_row_size(w->type, k0), row, kc); break;
    case KILN_TYPE_Q5_K: kiln_dequantize_q5_K_avx2(src + kiln_row_size(w->type, k0), row, kc); break;
    case KILN_TYPE_Q6_K: kiln_dequantize_q6_K_avx2(src + kiln_row_size(w->type, k0), row, kc); break;
    default:
        // Every other type (q4_1, q5_0, q5_1, q2_K, q3_K, bf16): the type's dequantizer on the
        // slice. k0 and kc are whole blocks (KC = 256 is a multiple of every block size, and k
        // is a multiple of the row's). Exact, as the rest: W enters the FMAs unrounded.
        kiln_type_traits(w->type)->to_float(src + kiln_row_size(w->type, k0), row, kc);
        break;
    }
}

// 8 x 8 transpose of floats: in[r][c] (rows `stride` apart) -> out[c * MR + r].
static inline void transpose8(const float *in, size_t stride, float *out) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(in + (size_t)i * stride);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(out + (size_t)i * MR, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(out + (size_t)(i + 4) * MR, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

// Dequantizes/converts W rows [i0, i0 + MR) x [k0, k0 + kc) into packed[kk * MR + r]
// (rows past m are zeros): each row converted to f32, then 8 x 8 blocks transposed.
static void pack_panel(const struct kiln_tensor *w, int64_t i0, int64_t k0, int64_t kc, float *packed) {
    static _Thread_local float rows[MR][KC];
    const int64_t m = w->ne[1];
    for (int r = 0; r < MR; r++) {
        if (i0 + r < m)
            convert_row(w, i0 + r, k0, kc, rows[r]);
        else
            memset(rows[r], 0, sizeof rows[r]);
    }
    int64_t kk = 0;
    for (; kk + 8 <= kc; kk += 8)
        for (int r0 = 0; r0 < MR; r0 += 8)
            transpose8(&rows[r0][kk], KC, packed + kk * MR + r0);
    for (; kk < kc; kk++)
        for (int r = 0; r < MR; r++)
            packed[kk * MR + r] = rows[r][kk];
}

// Packs x rows [j0, j0 + NR) x [k0, k0 + kc) as px[kk * NR + j] (the last row repeated past n).
static void pack_x(const struct kiln_tensor *x, int64_t j0, int64_t k0, int64_t kc, float *px) {
    const int64_t n = x->ne[1];
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++) {
        const float *xr = (const float *)KILN_ROW(x, j0 + j < n ? j0 + j : n - 1, 0, 0) + k0;
        for (int64_t kk = 0; kk < kc; kk++)
            px[kk * NR + j] = xr[kk];
    }
}

// Rows i0..i0+15 of outputs j0..j0+5: the packed W panel times the packed x tile, added to y
// when `accumulate` (every k block after the first). Only pointers into the two packed buffers
// and the loop counter live in the loop: 12 accumulators + 2 W vectors + 1 broadcast = 15 ymm.
static inline void micro_kernel(const float *pw, const float *px, int64_t kc, bool accumulate,
                                float *const yr[NR], int valid_m) {
    __m256 acc[NR][2];
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++)
        acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < kc; kk++, pw += MR, px += NR) {
        const __m256 w0 = _mm256_loadu_ps(pw), w1 = _mm256_loadu_ps(pw + 8);
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            const __m256 b = _mm256_broadcast_ss(px + j);
            acc[j][0] = _mm256_fmadd_ps(w0, b, acc[j][0]);
            acc[j][1] = _mm256_fmadd_ps(w1, b, acc[j][1]);
        }
    }
    if (valid_m == MR) {
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            if (!yr[j])
                continue;
            if (accumulate) {
                acc[j][0] = _mm256_add_ps(acc[j][0], _mm256_loadu_ps(yr[j]));
                acc[j][1] = _mm256_add_ps(acc[j][1], _mm256_loadu_ps(yr[j] + 8));
            }
            _mm256_storeu_ps(yr[j], acc[j][0]);
            _mm256_storeu_ps(yr[j] + 8, acc[j][1]);
        }
        return;
    }
    float tmp[NR][MR];  // a panel past m: store only its valid rows
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++) {
        _mm256_storeu_ps(tmp[j], acc[j][0]);
        _mm256_storeu_ps(tmp[j] + 8, acc[j][1]);
    }
    for (int j = 0; j < NR; j++) {
        if (!yr[j])
            continue;
        for (int r = 0; r < valid_m; r++)
            yr[j][r] = accumulate ? yr[j][r] + tmp[j][r] : tmp[j][r];
    }
}

// Per thread: its packed copy of the current x block (NC rows, KC wide).
static size_t gemm_workspace(const struct kiln_op *op, int nth) {
    (void)op;
    return (size_t)nth * NC * KC * sizeof(float);
}

static void gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    int64_t lo, hi;
    kiln_split((m + MR - 1) / MR, ith, nth, &lo, &hi);
    if (lo >= hi)
        return;
    float *px = (float *)ws + (size_t)ith * NC * KC;
    float packed[KC * MR];
    // n in blocks of NC rows, so the y tiles a k block accumulates into (NC rows x this
    // thread's W rows) stay in L2 from one k block to the next.
    for (int64_t jc = 0; jc < n; jc += NC) {
        const int64_t nc = n - jc < NC ? n - jc : NC;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            const int64_t kc = k - k0 < KC ? k - k0 : KC;
            for (int64_t j0 = 0; j0 < nc; j0 += NR)
                pack_x(x, jc + j0, k0, kc, px + j0 * KC);
            for (int64_t p = lo; p < hi; p++) {
                const int64_t i0 = p * MR;
                const int valid_m = (int)(m - i0 < MR ? m - i0 : MR);
                pack_panel(w, i0, k0, kc, packed);
                for (int64_t j0 = 0; j0 < nc; j0 += NR) {
                    float *yr[NR];
                    for (int j = 0; j < NR; j++)
                        yr[j] = j0 + j < nc ? (float *)KILN_ROW(y, jc + j0 + j, 0, 0) + i0 : NULL;
                    micro_kernel(packed, px + j0 * KC, kc, k0 > 0, yr, valid_m);
                }
            }
        }
    }
}

const struct kiln_cpu_kernel kiln_matmul_f32_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_f16_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q8_0_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q4_0_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
// Any other dequantizable type, W converted by its dequantizer into the panels.
const struct kiln_cpu_kernel kiln_matmul_dequant_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
// The same GEMM on x8-layout weights (convert_row reads a row out of its tile).
const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q8_0x8_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
