// Non-x86 builds: the AVX2 read/copy entry points exist but are never called
// (kiln_probe_has_avx2() is false); they forward to the portable versions. (The compute probes
// are chosen in probe_select.c, which names only those of the build's architecture.)
#include "kernels/probe/probe.h"

float kiln_probe_read_avx2(const float *a, size_t n) { return kiln_probe_read_ref(a, n); }
void kiln_probe_copy_avx2(float *dst, const float *src, size_t n) { kiln_probe_copy_ref(dst, src, n); }
