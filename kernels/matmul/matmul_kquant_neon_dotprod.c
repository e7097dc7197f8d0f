// matmul for q4_K, q5_K, q6_K weights, NEON + dotprod (Armv8.2-A SDOT; compiled with
// -march=armv8.2-a+dotprod, selected only where getauxval reports ASIMDDP): the blocks of
// matmul_kquant_neon.h with one vdotq_s32 per 16 int8 pairs.
// Versions: v1 (this). Test: `kiln ops --op matmul --type q4_K,q5_K,q6_K` (CI: qemu-aarch64, whose
// default CPU has SDOT). Speed cannot be measured under qemu.
#include <arm_neon.h>

static inline int32x4_t kq_dot16(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
#define KQ_NAME(t) kiln_matmul_##t##_neon_dotprod
#include "kernels/matmul/matmul_kquant_neon.h"
