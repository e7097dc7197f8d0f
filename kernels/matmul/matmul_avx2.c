// matmul, AVX2+FMA+F16C: y[n][m] = x[n][k] . W[m][k]^T for W in f32, f16, q8_0, q4_0.
//
// Layouts: as matmul.h. Compiled with -mavx2 -mfma -mf16c; selected only when the CPU has all
// three. Every result is checked against matmul_ref.c by `kiln ops --op matmul`.
//
// Structure (llamafile tinyBLAS's shape): every output is a dot product of a W row and an x row
// (both have k contiguous), so the work is tiles of RM W rows x RN x rows that share loads:
// each loaded W vector feeds RN FMAs, each x vector RM. Edge tiles clamp their row pointers to
// the last valid row and drop the extra results, so every tile runs the unrolled code.
//   gemv (n < 16): RM=4 x RN=1 tiles; threads split the W rows; W streams once per x row, which
//                  for decode (n = 1) is the memory-bound case.
//   gemm (n >= 16): RM=4 x RN=3 tiles (12 accumulators); threads split the W rows, and each
//                  thread walks its rows in blocks of M_BLOCK so a W block stays in L2 while all
//                  x tiles pass over it.
// Quantized W (q8_0, q4_0): x is first quantized to Q8_0 rows in the workspace (`prepare`, as
// ggml's vec_dot_type pairing, spec §9.1-9.2: scale amax/127, round half to even), then each
// block's int8 dot product goes through maddubs/madd and is scaled by d_w * d_x in f32.
// f16 W keeps x in f32 (convert W with F16C, FMA in f32): more accurate than ggml's
// x-to-f16 path at the same memory traffic.
//
// Versions: v1 (this). Test: `kiln ops --op matmul`; bench: `kiln bench ops --op matmul`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/blocks.h"

enum { RM = 4, RN_GEMV = 1, RN_GEMM = 3, RN_MAX = 3, M_BLOCK = 64 };

enum wkind { W_F32, W_F16, W_Q8_0, W_Q4_0 };

// Everything a tile needs: W rows, x rows (f32 or the Q8_0 copy), k.
struct tile_args {
    const void *w[RM];
    const void *x[RN_MAX];
    int64_t k;
};

static inline __attribute__((always_inline)) __m256 load_w8(enum wkind kind, const void *w,
                                                            int64_t l) {
    return kind == W_F16 ? kiln_load_f16x8((const uint16_t *)w + l)
                         : _mm256_loadu_ps((const float *)w + l);
}

static inline __attribute__((always_inline)) float load_w1(enum wkind kind, const void *w,
                                                           int64_t l) {
    return kind == W_F16 ? _cvtsh_ss(((const uint16_t *)w)[l]) : ((const float *)w)[l];
}

// Float W (f32, f16) against f32 x.
static inline __attribute__((always_inline)) void tile_float(enum wkind kind, int rn,
                                                             const struct tile_args *a,
                                                             float out[RM][RN_MAX]) {
    __m256 acc[RM][RN_MAX];
    for (int r = 0; r < RM; r++)
        for (int c = 0; c < rn; c++)
            acc[r][c] = _mm256_setzero_ps();
    int64_t l = 0;
    for (; l + 8 <= a->k; l += 8) {
        __m256 wv[RM];
        for (int r = 0; r < RM; r++)
            wv[r] = load_w8(kind, a->w[r], l);
        for (int c = 0; c < rn; c++) {
            const __m256 xv = _mm256_loadu_ps((const float *)a->x[c] + l);
            for (int r = 0; r < RM; r++)
                acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }
    for (int r = 0; r < RM; r++) {
        for (int c = 0; c < rn; c++) {
            float s = kiln_hsum256(acc[r][c]);
            for (int64_t t = l; t < a->k; t++)
                s += load_w1(kind, a->w[r], t) * ((const float *)a->x[c])[t];
            out[r][c] = s;
        }
    }
}

// Quantized W (q8_0, q4_0) against Q8_0 x, block by block.
static inline __attribute__((always_inline)) void tile_quant(enum wkind kind, int rn,
                                                             const struct tile_args *a,
                                                             float out[RM][RN_MAX]) {
    __m256 acc[RM][RN_MAX];
    for (int r = 0; r < RM; r++)
        for (int c = 0; c < rn; c++)
            acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = a->k / KILN_QK8_0;
    for (int64_t b = 0; b < nb; b++) {
        __m256i wq[RM];
        float dw[RM];
        for (int r = 0; r < RM; r++) {
            if (kind == W_Q4_0) {
                const struct kiln_block_q4_0 *blk = (const struct kiln_block_q4_0 *)a->w[r] + b;
                wq[r] = kiln_unpack_q4_0(blk->qs);
                dw[r] = _cvtsh_ss(blk->d);
            } else {
                const struct kiln_block_q8_0 *blk = (const struct kiln_block_q8_0 *)a->w[r] + b;
                wq[r] = _mm256_loadu_si256((const __m256i *)blk->qs);
                dw[r] = _cvtsh_ss(blk->d);
            }
        }
        for (int c = 0; c < rn; c++) {
            const struct kiln_block_q8_0 *xb = (const struct kiln_block_q8_0 *)a->x[c] + b;
            const __m256i xq = _mm256_loadu_si256((const __m256i *)xb->qs);
            const float dx = _cvtsh_ss(xb->d);
            for (int r = 0; r < RM; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw[r] * dx), kiln_dot_i8x32(wq[r], xq),
                                            acc[r][c]);
        }
    }
    for (int r = 0; r < RM; r++)
        for (int c = 0; c < rn; c++)
            out[r][c] = kiln_hsum256(acc[r][c]);
}

typedef void (*tile_fn)(const struct tile_args *a, float out[RM][RN_MAX]);

#define KILN_TILE(name, body) \
    static void name(const struct tile_args *a, float out[RM][RN_MAX]) { body; }
KILN_TILE(tile_f32_gemv, tile_float(W_F32, RN_GEMV, a, out))
KILN_TILE(tile_f32_gemm, tile_float(W_F32, RN_GEMM, a, out))
KILN_TILE(tile_f16_gemv, tile_float(W_F16, RN_GEMV, a, out))
KILN_TILE(tile_f16_gemm, tile_float(W_F16, RN_GEMM, a, out))
KILN_TILE(tile_q8_0_gemv, tile_quant(W_Q8_0, RN_GEMV, a, out))
KILN_TILE(tile_q8_0_gemm, tile_quant(W_Q8_0, RN_GEMM, a, out))
KILN_TILE(tile_q4_0_gemv, tile_quant(W_Q4_0, RN_GEMV, a, out))
KILN_TILE(tile_q4_0_gemm, tile_quant(W_Q4_0, RN_GEMM, a, out))
#undef KILN_TILE

// ---- activations to Q8_0 (the `prepare` step of quantized kernels) ----

static size_t xq_row_bytes(const struct kiln_op *op) {
    return kiln_row_size(KILN_TYPE_Q8_0, op->src[1].ne[0]);
}

static size_t quant_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)op->src[1].ne[1] * xq_row_bytes(op);
}

// One row of f32 to Q8_0: d = amax/127, codes round(x * 127/amax) half to even (ggml's AVX2
// activation quantizer; not the byte-exact reference, which only weights need).
static void quantize_row_q8_0_avx2(const float *x, struct kiln_block_q8_0 *y, int64_t k) {
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

static void quant_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    int64_t lo, hi;
    kiln_split(x->ne[1], ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++)
        quantize_row_q8_0_avx2(KILN_ROW(x, j, 0, 0), (void *)((char *)ws + (size_t)j * xq_row_bytes(op)),
                               x->ne[0]);
}

// ---- drivers ----

// x row j as the tile reads it: the f32 row, or its Q8_0 copy in the workspace.
static const void *x_row(const struct kiln_op *op, const void *ws, int64_t j) {
    return ws ? (const char *)ws + (size_t)j * xq_row_bytes(op) : KILN_ROW(&op->src[1], j, 0, 0);
}

// Runs one tile at (i0, j0) with clamped row pointers and stores its valid outputs.
static void run_tile(const struct kiln_op *op, const void *ws, tile_fn tile, int rn, int64_t i0,
                     int64_t j0) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t m = w->ne[1], n = op->src[1].ne[1];
    struct tile_args a = { .k = w->ne[0] };
    for (int r = 0; r < RM; r++)
        a.w[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
    for (int c = 0; c < rn; c++)
        a.x[c] = x_row(op, ws, j0 + c < n ? j0 + c : n - 1);
    float out[RM][RN_MAX];
    tile(&a, out);
    for (int c = 0; c < rn && j0 + c < n; c++) {
        float *yr = KILN_ROW(y, j0 + c, 0, 0);
        for (int r = 0; r < RM && i0 + r < m; r++)
            yr[i0 + r] = out[r][c];
    }
}

static void gemv(const struct kiln_op *op, const void *ws, tile_fn tile, int ith, int nth) {
    const int64_t m = op->src[0].ne[1], n = op->src[1].ne[1];
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++)
        for (int64_t j = 0; j < n; j++)
            run_tile(op, ws, tile, RN_GEMV, t * RM, j);
}

static void gemm(const struct kiln_op *op, const void *ws, tile_fn tile, int ith, int nth) {
    const int64_t m = op->src[0].ne[1], n = op->src[1].ne[1];
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    const int64_t block = M_BLOCK / RM;
    for (int64_t t0 = lo; t0 < hi; t0 += block) {
        const int64_t t1 = t0 + block < hi ? t0 + block : hi;
        for (int64_t j0 = 0; j0 < n; j0 += RN_GEMM)
            for (int64_t t = t0; t < t1; t++)
                run_tile(op, ws, tile, RN_GEMM, t * RM, j0);
    }
}

#define KILN_FLOAT_KERNEL(type)                                                                  \
    static void type##_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {              \
        gemv(op, ws, tile_##type##_gemv, ith, nth);                                              \
    }                                                                                            \
    static void type##_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {              \
        gemm(op, ws, tile_##type##_gemm, ith, nth);                                              \
    }                                                                                            \
    const struct kiln_cpu_kernel kiln_matmul_##type##_avx2_gemv = { .compute = type##_gemv };    \
    const struct kiln_cpu_kernel kiln_matmul_##type##_avx2_gemm = { .compute = type##_gemm };
KILN_FLOAT_KERNEL(f32)
KILN_FLOAT_KERNEL(f16)
#undef KILN_FLOAT_KERNEL

#define KILN_QUANT_KERNEL(type)                                                                  \
    static void type##_gemv(const struct kiln_op *op, void *ws, int ith, int nth) {              \
        gemv(op, ws, tile_##type##_gemv, ith, nth);                                              \
    }                                                                                            \
    static void type##_gemm(const struct kiln_op *op, void *ws, int ith, int nth) {              \
        gemm(op, ws, tile_##type##_gemm, ith, nth);                                              \
    }                                                                                            \
    const struct kiln_cpu_kernel kiln_matmul_##type##_avx2_gemv = {                              \
        .workspace = quant_workspace, .prepare = quant_prepare, .compute = type##_gemv };        \
    const struct kiln_cpu_kernel kiln_matmul_##type##_avx2_gemm = {                              \
        .workspace = quant_workspace, .prepare = quant_prepare, .compute = type##_gemm };
KILN_QUANT_KERNEL(q8_0)
KILN_QUANT_KERNEL(q4_0)
#undef KILN_QUANT_KERNEL
