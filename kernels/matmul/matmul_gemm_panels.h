// The packed f32 GEMM's panels and driver, written once for the files that instantiate it with
// their own micro-kernel (matmul_gemm_avx2.c: ymm, matmul_gemm_avx512.c: zmm). The structure,
// the layouts and the versions are described in matmul_gemm_avx2.c.
//
// The includer defines, before including this: the enum constants KC (k block), MR (W rows per
// panel, a multiple of 8), NR (x rows per micro-kernel call), NC (x rows per packed x block, a
// multiple of NR), and
//   static inline void micro_kernel(const float *pw, const float *px, int64_t kc, bool accumulate,
//                                   float *const yr[NR], int valid_m);
// which adds (or stores) packed panel pw [kk][MR] times packed x px [kk][NR] into the NR y rows
// yr (NULL: past n), valid_m of its MR rows. It gets gemm_workspace() and gemm().
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/dequant/dequant.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/repack.h"

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

