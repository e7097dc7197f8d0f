// Roofline compute probes, NEON (probe.h).
//   fma:  12 independent chains of fmla v.4s (every Armv8-A; 2-4 per cycle on big cores).
//   (int8: probe_neon_dotprod.c)
#include <arm_neon.h>

#include "kernels/probe/probe.h"

float kiln_probe_fma_neon(uint64_t reps) {
    float32x4_t c[12];
    for (int j = 0; j < 12; j++)
        c[j] = vdupq_n_f32((float)j * 0.001f);
    const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 12; j++)
            c[j] = vfmaq_f32(b, c[j], a);
    for (int j = 1; j < 12; j++)
        c[0] = vaddq_f32(c[0], c[j]);
    return vaddvq_f32(c[0]);
}
