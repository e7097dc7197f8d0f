// Which probe versions this build and CPU can run (probe.h).
#include "backends/cpu/cpu_features.h"
#include "kernels/probe/probe.h"

bool kiln_probe_has_avx2(void) {
#if defined(__x86_64__)
    return kiln_cpu_has(KILN_CPU_AVX2 | KILN_CPU_FMA);
#else
    return false;
#endif
}
