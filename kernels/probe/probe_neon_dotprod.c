// Roofline int8 probe, Armv8.2 dotprod (probe.h): 12 independent chains of sdot v.4s (16 s8 x s8
// products into 4 int32 lanes). Compiled with -march=armv8.2-a+dotprod; called only where HWCAP
// reports dotprod.
#include <arm_neon.h>

#include "kernels/probe/probe.h"

float kiln_probe_int8_neon_dotprod(uint64_t reps) {
    int32x4_t c[12];
    for (int j = 0; j < 12; j++)
        c[j] = vdupq_n_s32(j + 1);
    const int8x16_t a = vdupq_n_s8(5), b = vdupq_n_s8(3);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = vdotq_s32(c[j], a, b);
    for (int j = 1; j < 12; j++)
        c[0] = vaddq_s32(c[0], c[j]);
    return (float)vaddvq_s32(c[0]);
}
