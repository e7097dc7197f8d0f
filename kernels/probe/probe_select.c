// Which probe versions this build and CPU can run (probe.h).
#include "backends/cpu/cpu_features.h"
#include "kernels/probe/probe.h"

bool kiln_probe_has_avx2(void) {
#if defined(__x86_64__)
    return kiln_cpu_hw_has(KILN_CPU_AVX2 | KILN_CPU_FMA);
#else
    return false;
#endif
}

static const struct kiln_probe_compute fma_ref = { "portable C (compiler-vectorised)", KILN_PROBE_FMA_FLOPS_PER_REP_REF,
                                                   kiln_probe_fma_ref };

const struct kiln_probe_compute *kiln_probe_fma_select(void) {
#if defined(__x86_64__)
    static const struct kiln_probe_compute zmm = { "avx512 zmm vfmadd231ps", 12 * 16 * 2, kiln_probe_fma_avx512 };
    static const struct kiln_probe_compute ymm = { "avx2 ymm vfmadd231ps", 12 * 8 * 2, kiln_probe_fma_avx2 };
    if (kiln_cpu_hw_has(KILN_CPU_X86_AVX2_SET | KILN_CPU_AVX512F))
        return &zmm;
    if (kiln_cpu_hw_has(KILN_CPU_AVX2 | KILN_CPU_FMA))
        return &ymm;
#elif defined(__aarch64__)
    static const struct kiln_probe_compute neon = { "neon fmla v.4s", 12 * 4 * 2, kiln_probe_fma_neon };
    if (kiln_cpu_hw_has(KILN_CPU_NEON))
        return &neon;
#endif
    return &fma_ref;
}

const struct kiln_probe_compute *kiln_probe_int8_select(void) {
#if defined(__x86_64__)
    static const struct kiln_probe_compute zmm = { "avx512vnni zmm vpdpbusd", 12 * 64 * 2, kiln_probe_int8_avx512vnni };
    static const struct kiln_probe_compute vnni = { "avxvnni ymm vpdpbusd", 12 * 32 * 2, kiln_probe_int8_avxvnni };
    static const struct kiln_probe_compute ymm = { "avx2 ymm vpmaddubsw+vpaddw", 12 * 32 * 2,
                                                   kiln_probe_int8_avx2 };
    if (kiln_cpu_hw_has(KILN_CPU_X86_AVX512_SET))
        return &zmm;
    if (kiln_cpu_hw_has(KILN_CPU_X86_AVX2_SET | KILN_CPU_AVXVNNI))
        return &vnni;
    if (kiln_cpu_hw_has(KILN_CPU_AVX2))
        return &ymm;
#elif defined(__aarch64__)
    static const struct kiln_probe_compute sdot = { "neon_dotprod sdot v.4s", 12 * 16 * 2, kiln_probe_int8_neon_dotprod };
    if (kiln_cpu_hw_has(KILN_CPU_NEON | KILN_CPU_DOTPROD))
        return &sdot;
#endif
    return NULL;
}
