// Run-time CPU feature detection, done once.
//
// x86: CPUID for the instruction sets plus XGETBV for the register state the OS saves (a CPU can
// report AVX2 while the OS has not enabled YMM state; ggml's scorer misses this). Arm: getauxval
// (AT_HWCAP). The environment variable KILN_CPU_ISA masks features for testing and comparisons:
// "ref" (none), "avx2" (up to AVX2+FMA+F16C: no AVX-VNNI, no AVX-512), "avxvnni" (the AVX2 set
// and AVX-VNNI: no AVX-512), "neon" (no dotprod), "neon_dotprod" (no i8mm), "native" (default).
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_cpu_feature {
    KILN_CPU_AVX2    = 1u << 0,
    KILN_CPU_FMA     = 1u << 1,
    KILN_CPU_F16C    = 1u << 2,
    KILN_CPU_AVX512F = 1u << 3,   // 512-bit registers, opmasks (and the OS saves ZMM state)
    KILN_CPU_AVXVNNI = 1u << 4,   // VEX-encoded vpdpbusd on 256-bit registers (AVX-VNNI)
    KILN_CPU_AVX512BW = 1u << 5,  // byte/word operations on ZMM (vpmaddubsw, vpshufb zmm)
    KILN_CPU_AVX512VL = 1u << 6,  // EVEX encodings on XMM/YMM
    KILN_CPU_AVX512VNNI = 1u << 7, // vpdpbusd on ZMM
    KILN_CPU_AVX512BF16 = 1u << 12, // vdpbf16ps (bf16 pair dot products into f32)
    KILN_CPU_NEON    = 1u << 8,
    KILN_CPU_DOTPROD = 1u << 9,   // Armv8.2 SDOT/UDOT
    KILN_CPU_FP16    = 1u << 10,  // Armv8.2 half-precision arithmetic
    KILN_CPU_I8MM    = 1u << 11,
    // The AVX-512 bits are emulated (a -DKILN_AVX512_EMULATE=ON test build with
    // KILN_CPU_EMULATE_AVX512=1; cpu_features.c): kernels may use them, probes must not.
    KILN_CPU_EMULATED = 1u << 13,
};

// The features kiln kernels ask for together on x86 ("avx2" rows).
#define KILN_CPU_X86_AVX2_SET (KILN_CPU_AVX2 | KILN_CPU_FMA | KILN_CPU_F16C)
// The "avx512" rows: F+BW+VL+VNNI (Intel Ice Lake, Sapphire Rapids and later; AMD Zen 4/5),
// on top of the AVX2 set. Skylake-X (no VNNI) stays on the AVX2 rows.
#define KILN_CPU_X86_AVX512_SET (KILN_CPU_X86_AVX2_SET | KILN_CPU_AVX512F | KILN_CPU_AVX512BW | \
                                 KILN_CPU_AVX512VL | KILN_CPU_AVX512VNNI)

// Detected features (after KILN_CPU_ISA masking).
uint32_t kiln_cpu_features(void);

static inline bool kiln_cpu_has(uint32_t mask) { return (kiln_cpu_features() & mask) == mask; }

// The features the hardware runs natively (kiln_cpu_features() less any emulated set): what the
// roofline probes, which time instructions, ask for.
uint32_t kiln_cpu_features_hw(void);
static inline bool kiln_cpu_hw_has(uint32_t mask) { return (kiln_cpu_features_hw() & mask) == mask; }

// Whether the float GEMVs should issue their software prefetches on this CPU (1) or not (0), and
// why, for kiln info (kernels/common/prefetch.h; KILN_CPU_PREFETCH=0|1 overrides).
int kiln_cpu_default_prefetch(char *why, int size);

// Space-separated names of the features in `mask` ("avx2 fma f16c").
void kiln_cpu_features_string(uint32_t mask, char *buf, int size);

#ifdef __cplusplus
}
#endif
