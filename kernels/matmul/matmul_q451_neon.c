// matmul for q4_1, q5_0, q5_1 weights, baseline NEON (every Armv8-A): matmul_q451_neon.h's rows
// (layouts, arithmetic, versions there) with the int8 dot of 16 pairs as vmull_s8 of each half
// and vpadalq into 4 int32 lanes; matmul_q451_neon_dotprod.c uses SDOT where the CPU has it.
// Test: `kiln ops --op matmul --type q4_1,q5_0,q5_1` (CI: qemu-aarch64, KILN_CPU_ISA=neon for this row).
#include <arm_neon.h>

static inline int32x4_t q451_dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vpadalq_s16(vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b))), vmull_high_s8(a, b));
}
#define Q451_NAME(t) kiln_matmul_##t##_neon
#include "kernels/matmul/matmul_q451_neon.h"
