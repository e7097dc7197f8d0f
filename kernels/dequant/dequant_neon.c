// dequant, NEON: f16, q8_0, q4_0 -> f32.
//
// Layouts: dequant.h. Codes widen int8 -> int16 -> int32 (vmovl), convert, multiply by the
// block's d: exact products (spec §1.4), so the bits equal the reference's.
//
// Versions: v1 (this). Test: `kiln ops --op dequant` (CI: under qemu-aarch64).
#include "kernels/common/simd_neon.h"
#include "kernels/dequant/dequant.h"
#include "quant/format/blocks.h"

static inline void store16(int8x16_t codes, float d, float *out) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(codes)), hi = vmovl_s8(vget_high_s8(codes));
    vst1q_f32(out + 0, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(out + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d));
    vst1q_f32(out + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(out + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d));
}

static void q8_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t nb = op->src[0].ne[0] / KILN_QK8_0;
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const struct kiln_block_q8_0 *b = kiln_tensor_row(&op->src[0], r);
        float *out = kiln_tensor_row(&op->dst, r);
        for (int64_t i = 0; i < nb; i++) {
            const float d = kiln_f16_to_f32_neon(b[i].d);
            store16(vld1q_s8(b[i].qs), d, out + 32 * i);
            store16(vld1q_s8(b[i].qs + 16), d, out + 32 * i + 16);
        }
    }
}

static void q4_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t nb = op->src[0].ne[0] / KILN_QK4_0;
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const struct kiln_block_q4_0 *b = kiln_tensor_row(&op->src[0], r);
        float *out = kiln_tensor_row(&op->dst, r);
        for (int64_t i = 0; i < nb; i++) {
            int8x16_t low, high;
            kiln_unpack_q4_0_neon(b[i].qs, &low, &high);
            const float d = kiln_f16_to_f32_neon(b[i].d);
            store16(low, d, out + 32 * i);
            store16(high, d, out + 32 * i + 16);
        }
    }
}

static void f16_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t k = op->src[0].ne[0];
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const uint16_t *in = kiln_tensor_row(&op->src[0], r);
        float *out = kiln_tensor_row(&op->dst, r);
        int64_t l = 0;
        for (; l + 4 <= k; l += 4)
            vst1q_f32(out + l, kiln_load_f16x4(in + l));
        for (; l < k; l++)
            out[l] = kiln_f16_to_f32_neon(in[l]);
    }
}

const struct kiln_cpu_kernel kiln_dequant_f16_f32_neon = { .compute = f16_f32 };
const struct kiln_cpu_kernel kiln_dequant_q8_0_f32_neon = { .compute = q8_0_f32 };
const struct kiln_cpu_kernel kiln_dequant_q4_0_f32_neon = { .compute = q4_0_f32 };
