// Non-x86 builds: the AVX2 probe entry points exist but are never called
// (kiln_probe_has_avx2() is false); they forward to the portable versions.
#include "kernels/probe/probe.h"

float kiln_probe_read_avx2(const float *a, size_t n) { return kiln_probe_read_ref(a, n); }
void kiln_probe_copy_avx2(float *dst, const float *src, size_t n) { kiln_probe_copy_ref(dst, src, n); }
float kiln_probe_fma_avx2(uint64_t reps) { return kiln_probe_fma_ref(reps); }
