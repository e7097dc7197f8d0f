// The x8 GEMVs (q4_0 and q8_0), written once for the two AVX2 files that instantiate them
// (included by matmul_x8_avx2.c and matmul_x8_avxvnni.c only). q4_0 first; q8_0 at the end. y[n][m] = x[n][k] . W[m][k]^T with W
// Q4_0 in the x8 layout (quant/format/repack.h: tile t holds rows 8t..8t+7; per block, the eight rows'
// 16 code bytes as four 32-byte row pairs, then all blocks' f16 scales) and x quantized to Q8_0
// rows in the workspace (kiln_matmul_xq8_prepare). m % 8 == 0 (the layout's own condition).
//
// The includer defines the inline function x8_dot(lo, hi, xa, xc, ones): the integer dot of one
// row pair's block, 8 int32 lanes (4 per row), from the low/high nibbles (unsigned 0..15) and x arranged to match
// ([x0..15 | x0..15], [x16..31 | x16..31]); X8_GEMV, the name of the compute function; and for
// q8_0, x8q8_corr(xq) and x8q8_dot(codes, xq, ones, corr) (inline functions, see there).
// The "- 8" of every code is applied as the lane sums of 8 * x (corr), as in matmul_avx2.c's
// tile_q4_0_pairs; the arithmetic is the same as there, so the results are bit for bit those of
// the row-layout kernel (tests/test_repack.c checks it).
//
// What the layout buys over tile_q4_0_pairs: each row pair is one 32-byte load instead of two
// 16-byte loads and an insert; the eight scales of a block are one 16-byte load and one
// conversion instead of a scalar gather per pair; the tile is one sequential stream the
// hardware prefetcher follows, plus a software prefetch X8_PREFETCH bytes ahead (a prototype
// swept 256-8192: 1024-2048 best, 0 was 10% slower).
// Versions: v1 (the row layout, matmul_avx2.c: 7B decode 74-76% of read bandwidth); v2 (this
// layout, maddubs: 83-88%); v2 + vpdpbusd (AVX-VNNI: one instruction per nibble half instead of
// maddubs + add + madd; 87%, about 10% faster than maddubs in the same interleaved runs).
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/repack.h"

enum { X8_PREFETCH = 1024 };

static __attribute__((noinline)) void x8_tile(const uint8_t *tile, const struct kiln_block_q8_0 *xb, int64_t k,
                                              float out[KILN_X8_ROWS]) {
    const int64_t nb = k / KILN_QK8_0;
    const kiln_half *scales = kiln_x8_scales(tile, k);
    __m256 acc[4];
    for (int p = 0; p < 4; p++)
        acc[p] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0F);
    const __m256i eights = _mm256_set1_epi8(8);
    const __m256i pair_idx[4] = { _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1),
                                  _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                                  _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5),
                                  _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7) };
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *codes = kiln_x8_codes(tile, b, 0);
        _mm_prefetch((const char *)codes + X8_PREFETCH, _MM_HINT_T0);
        _mm_prefetch((const char *)codes + X8_PREFETCH + 64, _MM_HINT_T0);
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const __m256i xa = _mm256_permute2x128_si256(xq, xq, 0x00);
        const __m256i xc = _mm256_permute2x128_si256(xq, xq, 0x11);
        const __m256i corr = _mm256_madd_epi16(
            _mm256_add_epi16(_mm256_maddubs_epi16(eights, xa), _mm256_maddubs_epi16(eights, xc)), ones);
        // d_w of the eight rows times d_x: [d0 dx .. d7 dx]
        const __m256 d8 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(scales + b * KILN_X8_ROWS))),
                                        _mm256_set1_ps(_cvtsh_ss(xb[b].d)));
        #pragma GCC unroll 4
        for (int p = 0; p < 4; p++) {
            const __m256i packed = _mm256_loadu_si256((const __m256i *)(codes + 32 * p));
            const __m256i lo = _mm256_and_si256(packed, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
            const __m256i dot = _mm256_sub_epi32(x8_dot(lo, hi, xa, xc, ones), corr);
            acc[p] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d8, pair_idx[p]), _mm256_cvtepi32_ps(dot), acc[p]);
        }
    }
    #pragma GCC unroll 4
    for (int p = 0; p < 4; p++) {
        __m128 s0 = _mm256_castps256_ps128(acc[p]), s1 = _mm256_extractf128_ps(acc[p], 1);
        s0 = _mm_hadd_ps(s0, s1);  // [r0 pairs, r1 pairs]
        s0 = _mm_hadd_ps(s0, s0);  // [r0, r1, r0, r1]
        out[2 * p] = _mm_cvtss_f32(s0);
        out[2 * p + 1] = _mm_cvtss_f32(_mm_shuffle_ps(s0, s0, 1));
    }
}

// Both GEMVs: threads split the tiles statically, so each runs one sequential stream. (Claiming
// the last quarter of the tiles dynamically from a shared counter, to even out the end of each
// op, made 7B decode 8% slower: locked instructions in a memory-bound stream.)
typedef void (*x8_tile_fn)(const uint8_t *tile, const struct kiln_block_q8_0 *xb, int64_t k,
                           float out[KILN_X8_ROWS]);
static void x8_gemv(const struct kiln_op *op, const void *ws, int ith, int nth, x8_tile_fn tile,
                    size_t tile_bytes) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], n = op->src[1].ne[1];
    const size_t xq_row = kiln_row_size(KILN_TYPE_Q8_0, k);
    const uint8_t *base = KILN_ROW(w, 0, 0, 0);
    int64_t lo, hi;
    kiln_split(w->ne[1] / KILN_X8_ROWS, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        for (int64_t j = 0; j < n; j++) {
            float out[KILN_X8_ROWS];
            tile(base + (size_t)t * tile_bytes, (const void *)((const char *)ws + (size_t)j * xq_row), k, out);
            memcpy((float *)KILN_ROW(y, j, 0, 0) + t * KILN_X8_ROWS, out, sizeof out);
        }
    }
}

static void X8_GEMV(const struct kiln_op *op, void *ws, int ith, int nth) {
    x8_gemv(op, ws, ith, nth, x8_tile, kiln_x8_tile_bytes(op->src[0].ne[0]));
}

// ---- q8_0 ----
// W Q8_0 in its x8 layout (repack.h: per block, eight rows of 32 codes stored as q + 128, then
// the scales). Per block: one x load, the eight scales times d_x stored once and broadcast per
// row from memory (a load, not a shuffle), one code load and one integer dot per row:
// x8q8_dot gives the 8 s32 lane sums of q * x (elements 4i..4i+3 in lane i) — maddubs with the
// sign trick after undoing the offset (AVX2), or vpdpbusd on the offset codes minus
// 128 * sum(x) from x8q8_corr (AVX-VNNI). The lanes, the scale product and the FMA order are
// those of matmul_avx2.c's tile_q8_0_rows, so results equal the row kernel's bit for bit.
// Versions: v1 (GGUF rows, tile_q8_0_rows: 7B Q8_0 decode 78% of read bandwidth); v2 (this).
enum { X8Q8_PREFETCH = 2048 };

static __attribute__((noinline)) void x8q8_tile(const uint8_t *tile, const struct kiln_block_q8_0 *xb, int64_t k,
                                                float out[KILN_X8_ROWS]) {
    const int64_t nb = k / KILN_QK8_0;
    const kiln_half *scales = kiln_x8q8_scales(tile, k);
    __m256 acc[KILN_X8_ROWS];
    for (int r = 0; r < KILN_X8_ROWS; r++)
        acc[r] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    float d[KILN_X8_ROWS] __attribute__((aligned(32)));
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *codes = kiln_x8q8_codes(tile, b, 0);
        #pragma GCC unroll 4
        for (int l = 0; l < 4; l++)  // the block's 256 code bytes, X8Q8_PREFETCH ahead
            _mm_prefetch((const char *)codes + X8Q8_PREFETCH + 64 * l, _MM_HINT_T0);
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const __m256i corr = x8q8_corr(xq);
        _mm256_store_ps(d, _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(scales + b * KILN_X8_ROWS))),
                                         _mm256_set1_ps(_cvtsh_ss(xb[b].d))));
        #pragma GCC unroll 8
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            const __m256i c = _mm256_loadu_si256((const __m256i *)(codes + 32 * r));
            acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&d[r]), _mm256_cvtepi32_ps(x8q8_dot(c, xq, ones, corr)),
                                     acc[r]);
        }
    }
    for (int r = 0; r < KILN_X8_ROWS; r++)
        out[r] = kiln_hsum256(acc[r]);
}

static void X8Q8_GEMV(const struct kiln_op *op, void *ws, int ith, int nth) {
    x8_gemv(op, ws, ith, nth, x8q8_tile, kiln_x8q8_tile_bytes(op->src[0].ne[0]));
}
