// matmul GEMV (n < 16), AVX2+FMA+F16C: y[n][m] = x[n][k] . W[m][k]^T for W in f32, f16, q8_0,
// q4_0. Layouts: as matmul.h. Compiled with -mavx2 -mfma -mf16c; selected only when the CPU has
// all three. Every result is checked against matmul_ref.c by `kiln ops --op matmul`.
// (n >= 16 goes to the packed GEMM in matmul_gemm_avx2.c.)
//
// Decode reads every weight once per token, so this kernel must keep up with memory: each
// output is a dot product of a W row and an x row (both k-contiguous); a tile of RM = 8 W rows
// shares every x load, threads split the W rows, and W streams once per x row.
// Quantized W: x is first quantized to Q8_0 rows in the workspace (`prepare`, ggml's pairing,
// spec §9.1-9.2: scale amax/127, round half to even); each block's integer dot goes through
// maddubs/madd and is scaled by d_w * d_x in f32.
//   q4_0: the nibbles stay unsigned (0..15) as maddubs's unsigned operand, the "- 8" is
//         applied once per x block as the lane sums of 8 * x, and two W rows share each
//         register (tile_q4_0_pairs): about 8 vector ops per row-block instead of 13.
//   q8_0: signed x signed needs the sign trick (|w| * sign(w) x).
// f16 W keeps x in f32 (F16C converts W, FMA in f32): more accurate than ggml's x-to-f16 path
// at the same memory traffic. bf16 W likewise (widened by a shift: exact).
// Edge tiles clamp their row pointers to the last valid row and drop the extra results.
//
// Versions: v1 4x1 / 4x3 tiles with accumulators in arrays that gcc spilled to the stack
// (q4_0 GEMV at 48% of read bandwidth); v2 one W row at a time inside a noinline tile (no
// spills), GEMM moved to its own packed kernel; v3 q4_0 rows in pairs, unsigned nibbles; v4
// RM 4 -> 8: more rows share each x load and its q4_0 "- 8" correction (m=k=4096, 2 threads:
// q8_0 14.8 -> 17.8 GB/s, q4_0 12.0 -> 14.4, f16 17.4 -> 20.5; noisy host, cv ~17%); v5 (this)
// q4_0 prefetches the next tile instead of ahead in each row (prefetch_next): q4_0 at
// m=11008 k=4096 from 56% to 86% of the read bandwidth measured in the same run. Next: q4_0
// weights repacked at load into 8-row tiles (quant/format/repack.h) have their own GEMV
// (matmul_x8_tile.h), which the model runner uses where it can; this one serves q4_0
// tensors left in GGUF rows (m not a multiple of 8, KILN_NO_REPACK=1).
// Test: `kiln ops --op matmul`; bench: `kiln bench ops --op matmul`.
#include <string.h>

#include "kernels/common/prefetch.h"
#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"

enum { RM = 8, PREFETCH_BLOCKS = 32 };

enum wkind { W_F32, W_F16, W_BF16 };

// One tile: RM W rows and one x row (f32, or its Q8_0 copy), k elements.
struct tile_args {
    const void *w[RM];
    const void *x;
    int64_t k;
    const char *next;     // the next tile's W bytes, prefetched while this one runs
    size_t next_bytes;    // 0: no next tile
    size_t next_step;     // bytes of it to prefetch per block (a multiple of 64)
};

// Software prefetch of q4_0 (v5): eight short W rows (k = 4096: 36 lines of q4_0 each) are more
// streams than the hardware prefetcher follows, and prefetching ahead inside each row (v1-v4)
// misses every row's start. Instead the next tile's bytes are fetched while this tile computes,
// spread evenly over its loop iterations, so memory stays one tile (RM rows) ahead. Step `it` of
// the tile's loop fetches its share. (One tile function with a branch on next_step measured
// 84-88% at m=11008 k=4096; two specialised copies without the branch 77%: code layout, kept
// as found.) Long rows are the opposite case: at k=14336 (8 KiB of q4_0
// per row) prefetching inside each row keeps ahead better (79% vs 70% of read bandwidth), and
// so do f16 and q8_0 rows at every k tried (88-92% vs 71-79% at m=4096, k=14336). So only
// q4_0 rows under NEXT_TILE_MAX_ROW bytes take this path.
enum { NEXT_TILE_MAX_ROW = 4096 };
static inline __attribute__((always_inline)) void prefetch_next(const struct tile_args *a, int64_t it) {
    const size_t lo = (size_t)it * a->next_step, hi = lo + a->next_step;
    for (size_t at = lo; at < hi && at < a->next_bytes; at += 64)
        _mm_prefetch(a->next + at, _MM_HINT_T0);
}

static inline __attribute__((always_inline)) __m256 load_w8(enum wkind kind, const void *w,
                                                            int64_t l) {
    if (kind == W_BF16)  // bf16 is the top half of an f32: widen and shift, exact
        return _mm256_castsi256_ps(_mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + l))), 16));
    return kind == W_F16 ? kiln_load_f16x8((const uint16_t *)w + l)
                         : _mm256_loadu_ps((const float *)w + l);
}

static inline __attribute__((always_inline)) float load_w1(enum wkind kind, const void *w,
                                                           int64_t l) {
    if (kind == W_BF16)
        return kiln_bf16_to_f32(((const uint16_t *)w)[l]);
    return kind == W_F16 ? _cvtsh_ss(((const uint16_t *)w)[l]) : ((const float *)w)[l];
}

// Float W (f32, f16) against f32 x.
static inline __attribute__((always_inline)) void tile_float(enum wkind kind,
                                                             const struct tile_args *a,
                                                             float out[RM]) {
    __m256 acc[RM];
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++)
        acc[r] = _mm256_setzero_ps();
    const float *x = a->x;
    int64_t l = 0;
    const int64_t ahead = kind == W_F32 ? 256 : 512;  // elements: ~1 KiB ahead in each row
    for (; l + 8 <= a->k; l += 8) {
        const __m256 xv = _mm256_loadu_ps(x + l);
        #pragma GCC unroll 16
        for (int r = 0; r < RM; r++) {
            if ((l & 31) == 0)  // one prefetch per 64-byte line of f16 (two of f32)
                KILN_PREFETCH((const char *)a->w[r] + (l + ahead) * (kind == W_F32 ? 4 : 2));
            acc[r] = _mm256_fmadd_ps(load_w8(kind, a->w[r], l), xv, acc[r]);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++) {
        float s = kiln_hsum256(acc[r]);
        for (int64_t t = l; t < a->k; t++)
            s += load_w1(kind, a->w[r], t) * x[t];
        out[r] = s;
    }
}

// q8_0 W against Q8_0 x, block by block: signed x signed needs the sign trick
// (|w| * sign(w) x) for maddubs's unsigned operand.
static inline __attribute__((always_inline)) void tile_q8_0_rows(const struct tile_args *a,
                                                                 float out[RM]) {
    __m256 acc[RM];
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++)
        acc[r] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    const struct kiln_block_q8_0 *xb = a->x;
    for (int64_t b = 0; b < a->k / KILN_QK8_0; b++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const float dx = _cvtsh_ss(xb[b].d);
        #pragma GCC unroll 16
        for (int r = 0; r < RM; r++) {
            const struct kiln_block_q8_0 *wb = (const struct kiln_block_q8_0 *)a->w[r] + b;
            _mm_prefetch((const char *)(wb + PREFETCH_BLOCKS), _MM_HINT_T0);
            const __m256i q = _mm256_loadu_si256((const __m256i *)wb->qs);
            const __m256i dot = _mm256_madd_epi16(
                _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q)), ones);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(wb->d) * dx), _mm256_cvtepi32_ps(dot), acc[r]);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++)
        out[r] = kiln_hsum256(acc[r]);
}

// q4_0 W against Q8_0 x, two W rows per register: one 256-bit register holds the low nibbles
// (elements 0..15) of row r in its low half and of row r + 1 in its high half, another the high
// nibbles (16..31); x is arranged to match ([x0..15 | x0..15], [x16..31 | x16..31], once per
// block). Both rows then go through one maddubs pair, one madd, one convert and one FMA with a
// scale vector [d_r dx x4 | d_r+1 dx x4]: about 8 vector ops per row-block instead of 13.
static inline __attribute__((always_inline)) void tile_q4_0_pairs(const struct tile_args *a,
                                                                  float out[RM]) {
    __m256 acc[RM / 2];
    for (int p = 0; p < RM / 2; p++)
        acc[p] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0F);
    const __m256i eights = _mm256_set1_epi8(8);
    const __m256i halves = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const struct kiln_block_q8_0 *xb = a->x;
    for (int64_t b = 0; b < a->k / KILN_QK8_0; b++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)xb[b].qs);
        const __m256i xa = _mm256_permute2x128_si256(xq, xq, 0x00);
        const __m256i xc = _mm256_permute2x128_si256(xq, xq, 0x11);
        // The "- 8" of every code: lane sums of 8 * x in the same lane layout as the dot.
        const __m256i corr = _mm256_madd_epi16(
            _mm256_add_epi16(_mm256_maddubs_epi16(eights, xa), _mm256_maddubs_epi16(eights, xc)), ones);
        const __m256 dx = _mm256_set1_ps(_cvtsh_ss(xb[b].d));
        if (a->next_step) {  // gemv gives short rows a next tile to prefetch
            prefetch_next(a, b);
        } else {
            #pragma GCC unroll 4
            for (int r = 0; r < RM; r++)
                _mm_prefetch((const char *)((const struct kiln_block_q4_0 *)a->w[r] + b + PREFETCH_BLOCKS), _MM_HINT_T0);
        }
        #pragma GCC unroll 4
        for (int p = 0; p < RM / 2; p++) {
            const struct kiln_block_q4_0 *w0 = (const struct kiln_block_q4_0 *)a->w[2 * p] + b;
            const struct kiln_block_q4_0 *w1 = (const struct kiln_block_q4_0 *)a->w[2 * p + 1] + b;
            const __m256i packed = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)w1->qs),
                                                    _mm_loadu_si128((const __m128i *)w0->qs));
            const __m256i lo = _mm256_and_si256(packed, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
            const __m256i dot16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xa),
                                                   _mm256_maddubs_epi16(hi, xc));
            const __m256i dot = _mm256_sub_epi32(_mm256_madd_epi16(dot16, ones), corr);
            const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)w0->d | (uint32_t)w1->d << 16)));
            const __m256 scale = _mm256_mul_ps(
                _mm256_permutevar8x32_ps(_mm256_castps128_ps256(dw), halves), dx);
            acc[p] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc[p]);
        }
    }
    #pragma GCC unroll 4
    for (int p = 0; p < RM / 2; p++) {
        __m128 s0 = _mm256_castps256_ps128(acc[p]), s1 = _mm256_extractf128_ps(acc[p], 1);
        s0 = _mm_hadd_ps(s0, s1);   // [r0 pairs, r1 pairs]
        s0 = _mm_hadd_ps(s0, s0);   // [r0, r1, r0, r1]
        out[2 * p] = _mm_cvtss_f32(s0);
        out[2 * p + 1] = _mm_cvtss_f32(_mm_shuffle_ps(s0, s0, 1));
    }
}

typedef void (*tile_fn)(const struct tile_args *a, float out[RM]);

// noinline: inlined into the driver, the tile's loop shares a function with calls (row
// addressing), across which gcc keeps the accumulators in memory instead of registers.
#define TILE static __attribute__((noinline)) void
TILE tile_f32(const struct tile_args *a, float out[RM]) { tile_float(W_F32, a, out); }
TILE tile_f16(const struct tile_args *a, float out[RM]) { tile_float(W_F16, a, out); }
TILE tile_bf16(const struct tile_args *a, float out[RM]) { tile_float(W_BF16, a, out); }
TILE tile_q8_0(const struct tile_args *a, float out[RM]) { tile_q8_0_rows(a, out); }
TILE tile_q4_0(const struct tile_args *a, float out[RM]) { tile_q4_0_pairs(a, out); }
#undef TILE

// ---- activations to Q8_0 (the `prepare` step of quantized kernels) ----

static size_t xq_row_bytes(const struct kiln_op *op) {
    return kiln_row_size(KILN_TYPE_Q8_0, op->src[1].ne[0]);
}

size_t kiln_matmul_xq8_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)op->src[1].ne[1] * xq_row_bytes(op);
}

// One row of f32 to Q8_0: d = amax/127, codes round(x * 127/amax) half to even (ggml's AVX2
// activation quantizer; not the byte-exact reference, which only weights need).
void kiln_matmul_quantize_row_q8_0(const float *x, struct kiln_block_q8_0 *y, int64_t k) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / KILN_QK8_0; b++, x += KILN_QK8_0) {
        __m256 v[4];
        __m256 amax = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(x + 8 * i);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[i]));
        }
        const float max = kiln_hmax256(amax);
        y[b].d = _cvtss_sh(max / 127.0f, _MM_FROUND_TO_NEAREST_INT);
        const __m256 id = _mm256_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[i], id), _MM_FROUND_TO_NEAREST_INT));
        // packs work within 128-bit lanes; the permute restores element order.
        const __m256i q16a = _mm256_packs_epi32(q[0], q[1]);
        const __m256i q16b = _mm256_packs_epi32(q[2], q[3]);
        const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b),
                                                       _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[b].qs, q8);
    }
}

void kiln_matmul_xq8_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    int64_t lo, hi;
    kiln_split(x->ne[1], ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++)
        kiln_matmul_quantize_row_q8_0(KILN_ROW(x, j, 0, 0), (void *)((char *)ws + (size_t)j * xq_row_bytes(op)),
                               x->ne[0]);
}

// ---- driver ----

// x row j as the tile reads it: the f32 row, or its Q8_0 copy in the workspace.
static const void *x_row(const struct kiln_op *op, const void *ws, int64_t j) {
    return ws ? (const char *)ws + (size_t)j * xq_row_bytes(op) : KILN_ROW(&op->src[1], j, 0, 0);
}

// `per_iter`: elements the tile's loop consumes per iteration (8 float, 32 quantized);
// `next_tile`: the tile prefetches the next one (prefetch_next), which gemv describes to it.
static void gemv(const struct kiln_op *op, const void *ws, tile_fn tile, int64_t per_iter, bool next_tile,
                 int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t m = w->ne[1], n = op->src[1].ne[1];
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        struct tile_args a = { .k = w->ne[0] };
        #pragma GCC unroll 16
        for (int r = 0; r < RM; r++)
            a.w[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        if (t + 1 < hi && next_tile) {
            // the next tile: rows [i0 + RM, i0 + 2 RM) as one span of memory
            const int64_t last = i0 + 2 * RM - 1 < m ? i0 + 2 * RM - 1 : m - 1;
            a.next = (const char *)KILN_ROW(w, i0 + RM, 0, 0);
            a.next_bytes = (size_t)((const char *)KILN_ROW(w, last, 0, 0) - a.next) + w->nb[1];
            const int64_t blocks = w->ne[0] / per_iter > 0 ? w->ne[0] / per_iter : 1;
            a.next_step = ((a.next_bytes + (size_t)blocks - 1) / (size_t)blocks + 63) & ~(size_t)63;
        }
        for (int64_t j = 0; j < n; j++) {
            a.x = x_row(op, ws, j);
            float out[RM];
            tile(&a, out);
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++)
                yr[i0 + r] = out[r];
        }
    }
}

static void f32_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {
    gemv(op, ws, tile_f32, 8, false, ith, nth);
}
static void f16_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {
    gemv(op, ws, tile_f16, 8, false, ith, nth);
}
static void bf16_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {
    gemv(op, ws, tile_bf16, 8, false, ith, nth);
}
static void q8_0_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {
    gemv(op, ws, tile_q8_0, KILN_QK8_0, false, ith, nth);
}
static void q4_0_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {
    const bool short_rows = op->src[0].nb[1] < NEXT_TILE_MAX_ROW;
    gemv(op, ws, tile_q4_0, KILN_QK8_0, short_rows, ith, nth);
}

const struct kiln_cpu_kernel kiln_matmul_f32_avx2_gemv = { .compute = f32_gemv };
const struct kiln_cpu_kernel kiln_matmul_f16_avx2_gemv = { .compute = f16_gemv };
const struct kiln_cpu_kernel kiln_matmul_bf16_avx2_gemv = { .compute = bf16_gemv };
const struct kiln_cpu_kernel kiln_matmul_q8_0_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q8_0_gemv };
const struct kiln_cpu_kernel kiln_matmul_q4_0_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0_gemv };
