// matmul for q4_K, q5_K, q6_K weights, baseline NEON (every Armv8-A): the blocks of
// matmul_kquant_neon.h (layouts, arithmetic and versions there) with the int8 dot of 16 pairs as
// vmull_s8 of each half and vpadalq into 4 int32 lanes. matmul_kquant_neon_dotprod.c replaces it
// with SDOT where the CPU has it.
// Versions: v1 (this; before it, K-quant weights ran the reference matmul on Arm).
// Test: `kiln ops --op matmul --type q4_K,q5_K,q6_K` (CI: qemu-aarch64, KILN_CPU_ISA=neon for this row).
#include <arm_neon.h>

static inline int32x4_t kq_dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}
#define KQ_NAME(t) kiln_matmul_##t##_neon
#include "kernels/matmul/matmul_kquant_neon.h"
