// matmul GEMV (n < 16) for q2_K and q3_K weights, AVX2: y[n][m] = x[n][k] . W[m][k]^T with W in
// K-quant rows (quant/blocks.h, spec §3), x f32; and the Q8_K prepare step of every K-quant
// row (q4_K, q5_K, q6_K are in matmul_kquant_tile_avx2.c). Layouts as matmul.h.
//
// x is first quantized to Q8_K rows in the workspace (`prepare`: kiln's reference Q8_K
// quantizer, ggml's quantize_row_q8_K: codes rne(x * -127/max) per 256, d = 1/iscale kept in
// f32, bsums = sums of 16 codes), so each super-block's dot is integer arithmetic, as ggml's
// vec_dot_q*_K_q8_K:
//   q2_K: 2-bit codes with 4-bit scales and mins per 16 elements; q3_K: 2 bits plus a high bit
//         (codes 0..7), 6-bit signed scales, the "- 4" once as 4 * sum(sc bsum).
// The table rows declare KILN_ROUND_X_Q8_K, and `kiln ops` holds them to the reference run on
// x rounded exactly this way (bench/opcheck_rounding.c).
//
// Versions: v1 one block of one row at a time with scalar scale unpacking (this; q2_K/q3_K
// 4.1-4.2 GB/s at m=4096 k=14336 on 2 threads, a third of q4_K's: the scales are the next step).
// Test: `kiln ops --op matmul --type q2_K,q3_K`; bench: `kiln bench ops --op matmul --type q3_K`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

static size_t xq_row_bytes(const struct kiln_op *op) {
    return kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]);
}

static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// The 2-bit code layout of q2_K and q3_K (spec §3.2-3.3): element e's code is bits 2g..2g+1 of
// qs[32 h + l] (h = e / 128, g = e % 128 / 32, l = e % 32); q3_K adds bit e / 32 of
// hmask[e % 32] as 4. Integer sum over the block of sc[e / 16] * code * x.
static inline __attribute__((always_inline)) __m256i q23_k_sum(const uint8_t *qs, const uint8_t *hmask,
                                                                const int16_t sc[16], const int8_t *xq) {
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    const __m256i hm = hmask ? _mm256_loadu_si256((const __m256i *)hmask) : _mm256_setzero_si256();
    __m256i sum = _mm256_setzero_si256();
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        #pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            __m256i c = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three);
            if (hmask) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + g)));
                c = _mm256_or_si256(c, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four));
            }
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 128 * h + 32 * g));
            const __m256i p = _mm256_maddubs_epi16(c, xv);
            const __m256i sv = _mm256_setr_m128i(_mm_set1_epi16(sc[8 * h + 2 * g]), _mm_set1_epi16(sc[8 * h + 2 * g + 1]));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, sv));
        }
    }
    return sum;
}

static inline float q2_k_block(const struct kiln_block_q2_K *w, const struct kiln_block_q8_K *x) {
    int16_t sc[16];
    int32_t msum = 0;
    for (int g = 0; g < 16; g++) {
        sc[g] = w->scales[g] & 15;
        msum += (w->scales[g] >> 4) * x->bsums[g];
    }
    const int32_t isum = hsum_i32(q23_k_sum(w->qs, NULL, sc, x->qs));
    return kiln_f16_scalar(w->d) * x->d * (float)isum - kiln_f16_scalar(w->dmin) * x->d * (float)msum;
}

// q3_K's sixteen 6-bit scale codes, minus 32 (spec §6.11).
static inline int q3_scale(const uint8_t *s, int j) {
    const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | high << 4) - 32;
}

// code - 4 for a clear high bit = (low + 4 hbit) - 4: the "- 4" enters once as 4 sum(sc bsum).
static inline float q3_k_block(const struct kiln_block_q3_K *w, const struct kiln_block_q8_K *x) {
    int16_t sc[16];
    int32_t bias = 0;
    for (int g = 0; g < 16; g++) {
        sc[g] = (int16_t)q3_scale(w->scales, g);
        bias += sc[g] * x->bsums[g];
    }
    const int32_t isum = hsum_i32(q23_k_sum(w->qs, w->hmask, sc, x->qs));
    return kiln_f16_scalar(w->d) * x->d * (float)(isum - 4 * bias);
}

enum kq { KQ_Q2_K, KQ_Q3_K };

// q2_K and q3_K rows: threads split the W rows; one block of one row at a time.
static void gemv_q23_k(const struct kiln_op *op, const void *ws, enum kq kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kind == KQ_Q3_K ? sizeof(struct kiln_block_q3_K) : sizeof(struct kiln_block_q2_K);
    int64_t lo, hi;
    kiln_split(m, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const char *row = KILN_ROW(w, i, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            const struct kiln_block_q8_K *xb = (const void *)((const char *)ws + (size_t)j * xq_row_bytes(op));
            float out = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                const char *blk = row + (size_t)b * bsz;
                _mm_prefetch(blk + 4 * bsz, _MM_HINT_T0);
                _mm_prefetch(blk + 4 * bsz + 64, _MM_HINT_T0);
                _mm_prefetch(blk + 4 * bsz + 128, _MM_HINT_T0);
                out += kind == KQ_Q3_K ? q3_k_block((const void *)blk, xb + b) : q2_k_block((const void *)blk, xb + b);
            }
            ((float *)KILN_ROW(y, j, 0, 0))[i] = out;
        }
    }
}

static void q3_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q23_k(op, ws, KQ_Q3_K, ith, nth); }
static void q2_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q23_k(op, ws, KQ_Q2_K, ith, nth); }

const struct kiln_cpu_kernel kiln_matmul_q2_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q2_k_gemv };
const struct kiln_cpu_kernel kiln_matmul_q3_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q3_k_gemv };
