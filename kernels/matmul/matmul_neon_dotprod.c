// matmul, NEON + dotprod (Armv8.2-A SDOT; compiled with -march=armv8.2-a+dotprod and selected
// only when getauxval reports ASIMDDP): q8_0 and q4_0 W against Q8_0 x.
//
// Same driver and activation quantizer as matmul_neon.c; what changes is the block dot: SDOT
// multiplies 4 int8 pairs and adds them into each int32 lane in one instruction, replacing the
// vmull + vpadalq pairs (about 4x fewer instructions per block).
//
// Versions: v1 (this). Test: `kiln ops --op matmul` (CI: qemu-aarch64, whose default CPU has SDOT).
#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul_neon.h"
#include "quant/format/blocks.h"

static float dot_q8_0(const void *w, const void *x, int64_t k) {
    const struct kiln_block_q8_0 *wb = w, *xb = x;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < k / KILN_QK8_0; b++) {
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), vld1q_s8(wb[b].qs), vld1q_s8(xb[b].qs));
        s = vdotq_s32(s, vld1q_s8(wb[b].qs + 16), vld1q_s8(xb[b].qs + 16));
        const float d = kiln_f16_to_f32_neon(wb[b].d) * kiln_f16_to_f32_neon(xb[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

static float dot_q4_0(const void *w, const void *x, int64_t k) {
    const struct kiln_block_q4_0 *wb = w;
    const struct kiln_block_q8_0 *xb = x;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < k / KILN_QK8_0; b++) {
        int8x16_t lo, hi;
        kiln_unpack_q4_0_neon(wb[b].qs, &lo, &hi);
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(xb[b].qs));
        s = vdotq_s32(s, hi, vld1q_s8(xb[b].qs + 16));
        const float d = kiln_f16_to_f32_neon(wb[b].d) * kiln_f16_to_f32_neon(xb[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

static void q8_0_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_neon_drive(op, ws, dot_q8_0, ith, nth);
}
static void q4_0_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_neon_drive(op, ws, dot_q4_0, ith, nth);
}

const struct kiln_cpu_kernel kiln_matmul_q8_0_neon_dotprod = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare,
    .compute = q8_0_compute };
const struct kiln_cpu_kernel kiln_matmul_q4_0_neon_dotprod = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare,
    .compute = q4_0_compute };
