// matmul for IQ4_NL and IQ4_XS weights, NEON + dotprod (Armv8.2-A SDOT; compiled with
// -march=armv8.2-a+dotprod, selected only where getauxval reports ASIMDDP): matmul_iq4_neon.h's
// rows with one vdotq_s32 per 16 int8 pairs.
// Test: `kiln ops --op matmul --type iq4_nl,iq4_xs` (CI: qemu-aarch64, whose default CPU has SDOT).
#include <arm_neon.h>

static inline int32x4_t iq4_dot16(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
#define IQ4_NAME(t) kiln_matmul_##t##_neon_dotprod
#include "kernels/matmul/matmul_iq4_neon.h"
