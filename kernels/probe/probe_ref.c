// Roofline probes, portable C (probe.h): for CPUs without a SIMD version. Several independent
// accumulators so the compiler can vectorise and pipeline them at the baseline ISA.
#include "kernels/probe/probe.h"

#include <string.h>

float kiln_probe_read_ref(const float *a, size_t n) {
    float acc[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + j];
    float s = 0.0f;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    for (; i < n; i++)
        s += a[i];
    return s;
}

void kiln_probe_copy_ref(float *dst, const float *src, size_t n) { memcpy(dst, src, n * sizeof(float)); }

float kiln_probe_fma_ref(uint64_t reps) {
    float c[8];
    for (int j = 0; j < 8; j++)
        c[j] = (float)j * 0.001f;
    for (uint64_t r = 0; r < reps; r++)
        for (int j = 0; j < 8; j++)
            c[j] = c[j] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int j = 0; j < 8; j++)
        s += c[j];
    return s;
}
