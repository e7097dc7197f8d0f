// dequant, AVX2+F16C: f16 -> f32, and q8_0 / q4_0 -> f32 or f16.
//
// Layouts: dequant.h; blocks in quant/format/blocks.h. Each block's 32 codes become int8 in one
// register (q4_0 nibbles unpacked as kiln_unpack_q4_0), then 4 x 8 floats scaled by the block's
// d. The products are exact in f32 (spec §1.4), so the output has the reference's bits; f16
// output rounds with F16C (RNE, as the reference).
//
// Versions: v1 (this). Test: `kiln ops --op dequant`.
#include "kernels/common/simd_x86.h"
#include "kernels/dequant/dequant.h"
#include "quant/format/blocks.h"

// Stores 32 int8 codes times d as floats or halves.
static inline void store_block(__m256i codes, float d, void *dst, bool to_f16) {
    const __m256 scale = _mm256_set1_ps(d);
    const __m128i halves[2] = { _mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1) };
    for (int i = 0; i < 4; i++) {
        const __m128i bytes = i & 1 ? _mm_srli_si128(halves[i >> 1], 8) : halves[i >> 1];
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), scale);
        if (to_f16)
            _mm_storeu_si128((__m128i *)((uint16_t *)dst + 8 * i),
                             _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        else
            _mm256_storeu_ps((float *)dst + 8 * i, v);
    }
}

static inline __attribute__((always_inline)) void dequant_rows(const struct kiln_op *op, int ith,
                                                               int nth, bool q4, bool to_f16) {
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const int64_t nb = x->ne[0] / KILN_QK8_0;
    const size_t out_block = to_f16 ? 32 * sizeof(uint16_t) : 32 * sizeof(float);
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(x), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        char *out = kiln_tensor_row(y, r);
        if (q4) {
            const struct kiln_block_q4_0 *b = kiln_tensor_row(x, r);
            for (int64_t i = 0; i < nb; i++)
                store_block(kiln_unpack_q4_0(b[i].qs), _cvtsh_ss(b[i].d), out + i * out_block, to_f16);
        } else {
            const struct kiln_block_q8_0 *b = kiln_tensor_row(x, r);
            for (int64_t i = 0; i < nb; i++)
                store_block(_mm256_loadu_si256((const __m256i *)b[i].qs), _cvtsh_ss(b[i].d),
                            out + i * out_block, to_f16);
        }
    }
}

static void q8_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    dequant_rows(op, ith, nth, false, false);
}
static void q4_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    dequant_rows(op, ith, nth, true, false);
}
static void q8_0_f16(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    dequant_rows(op, ith, nth, false, true);
}
static void q4_0_f16(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    dequant_rows(op, ith, nth, true, true);
}

static void f16_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++)
        kiln_f16_to_f32_row_f16c(kiln_tensor_row(&op->src[0], r), kiln_tensor_row(&op->dst, r),
                                 op->src[0].ne[0]);
}

const struct kiln_cpu_kernel kiln_dequant_f16_f32_avx2 = { .compute = f16_f32 };
const struct kiln_cpu_kernel kiln_dequant_q8_0_f32_avx2 = { .compute = q8_0_f32 };
const struct kiln_cpu_kernel kiln_dequant_q4_0_f32_avx2 = { .compute = q4_0_f32 };
const struct kiln_cpu_kernel kiln_dequant_q8_0_f16_avx2 = { .compute = q8_0_f16 };
const struct kiln_cpu_kernel kiln_dequant_q4_0_f16_avx2 = { .compute = q4_0_f16 };
