// matmul for IQ4_NL and IQ4_XS weights, baseline NEON (every Armv8-A): matmul_iq4_neon.h's rows
// (layouts, arithmetic, versions there) with the int8 dot of 16 pairs as vmull_s8 of each half
// and vpadalq into 4 int32 lanes; matmul_iq4_neon_dotprod.c uses SDOT where the CPU has it.
// Test: `kiln ops --op matmul --type iq4_nl,iq4_xs` (CI: qemu-aarch64, KILN_CPU_ISA=neon for this row).
#include <arm_neon.h>

static inline int32x4_t iq4_dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vpadalq_s16(vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b))), vmull_high_s8(a, b));
}
#define IQ4_NAME(t) kiln_matmul_##t##_neon
#include "kernels/matmul/matmul_iq4_neon.h"
