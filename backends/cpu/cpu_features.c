// CPU feature detection (cpu_features.h).
#include "backends/cpu/cpu_features.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static uint32_t detect(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    const bool fma = c & (1u << 12), f16c = c & (1u << 29);
    if (!osxsave || !avx)
        return 0;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6)  // XMM and YMM state enabled by the OS
        return 0;
    if (fma) f |= KILN_CPU_FMA;
    if (f16c) f |= KILN_CPU_F16C;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (b & (1u << 5)) f |= KILN_CPU_AVX2;
        if ((b & (1u << 16)) && (xcr0 & 0xe0) == 0xe0) {  // opmask, ZMM_Hi256, Hi16_ZMM state
            f |= KILN_CPU_AVX512F;
            if (b & (1u << 30)) f |= KILN_CPU_AVX512BW;
            if (b & (1u << 31)) f |= KILN_CPU_AVX512VL;
            if (c & (1u << 11)) f |= KILN_CPU_AVX512VNNI;
        }
        const bool zmm = f & KILN_CPU_AVX512F;
        __cpuid_count(7, 1, a, b, c, d);
        if (a & (1u << 4))  // AVX-VNNI: VEX vpdpbusd on YMM (state checked above)
            f |= KILN_CPU_AVXVNNI;
        if (zmm && (a & (1u << 5)))
            f |= KILN_CPU_AVX512BF16;
    }
    return f;
}
#elif defined(__aarch64__)
#include <sys/auxv.h>

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1 << 10)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif

static uint32_t detect(void) {
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    uint32_t f = 0;
    if (hw & HWCAP_ASIMD) f |= KILN_CPU_NEON;
    if (hw & HWCAP_ASIMDDP) f |= KILN_CPU_DOTPROD;
    if (hw & HWCAP_ASIMDHP) f |= KILN_CPU_FP16;
    if (hw2 & HWCAP2_I8MM) f |= KILN_CPU_I8MM;
    return f;
}
#else
static uint32_t detect(void) { return 0; }
#endif

static uint32_t features, hw_features;
static pthread_once_t once = PTHREAD_ONCE_INIT;

// A build with -DKILN_AVX512_EMULATE=ON compiles the AVX-512 kernel files against SIMDe (portable
// C and AVX2 implementations of the AVX-512 intrinsics), so that `kiln ops` checks their logic on
// a CPU without AVX-512: KILN_CPU_EMULATE_AVX512=1 then reports the AVX-512 set (and flags it
// emulated). Timing such a build measures SIMDe, not AVX-512; the probes stay on real hardware.
static void add_emulated(void) {
#if defined(KILN_AVX512_EMULATED) && defined(__x86_64__)
    const char *e = getenv("KILN_CPU_EMULATE_AVX512");
    if (e && strcmp(e, "1") == 0 && (features & KILN_CPU_X86_AVX2_SET) == KILN_CPU_X86_AVX2_SET)
        features |= KILN_CPU_X86_AVX512_SET | KILN_CPU_AVX512BF16 | KILN_CPU_EMULATED;
#endif
}

static void mask_features(bool warn) {
    const char *isa = getenv("KILN_CPU_ISA");
    if (!isa || !*isa || strcmp(isa, "native") == 0)
        return;
    if (strcmp(isa, "ref") == 0)
        features = 0;
    else if (strcmp(isa, "avx2") == 0)
        features &= KILN_CPU_X86_AVX2_SET;
    else if (strcmp(isa, "avxvnni") == 0)
        features &= KILN_CPU_X86_AVX2_SET | KILN_CPU_AVXVNNI;
    else if (strcmp(isa, "neon") == 0)
        features &= KILN_CPU_NEON | KILN_CPU_FP16;
    else if (strcmp(isa, "neon_dotprod") == 0)
        features &= KILN_CPU_NEON | KILN_CPU_FP16 | KILN_CPU_DOTPROD;
    else if (warn)
        fprintf(stderr, "kiln: ignoring unknown KILN_CPU_ISA=%s (use ref, avx2, avxvnni, neon, neon_dotprod, native)\n", isa);
}

static void init_features(void) {
    features = detect();
    mask_features(true);
    hw_features = features;
    add_emulated();
    mask_features(false);  // KILN_CPU_ISA=avx2 masks the emulated set off too
}

uint32_t kiln_cpu_features(void) {
    pthread_once(&once, init_features);
    return features;
}

uint32_t kiln_cpu_features_hw(void) {
    pthread_once(&once, init_features);
    return hw_features;
}

void kiln_cpu_features_string(uint32_t mask, char *buf, int size) {
    static const struct { uint32_t bit; const char *name; } names[] = {
        { KILN_CPU_AVX2, "avx2" }, { KILN_CPU_FMA, "fma" }, { KILN_CPU_F16C, "f16c" },
        { KILN_CPU_AVX512F, "avx512f" }, { KILN_CPU_AVX512BW, "avx512bw" }, { KILN_CPU_AVX512VL, "avx512vl" },
        { KILN_CPU_AVX512VNNI, "avx512vnni" }, { KILN_CPU_AVX512BF16, "avx512bf16" }, { KILN_CPU_AVXVNNI, "avxvnni" }, { KILN_CPU_NEON, "neon" }, { KILN_CPU_DOTPROD, "dotprod" },
        { KILN_CPU_FP16, "fp16" }, { KILN_CPU_I8MM, "i8mm" }, { KILN_CPU_EMULATED, "(avx512 emulated by SIMDe)" },
    };
    int len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(mask & names[i].bit) || len >= size)
            continue;
        len += snprintf(buf + len, (size_t)(size - len), "%s%s", len ? " " : "", names[i].name);
    }
    if (len == 0)
        snprintf(buf, (size_t)size, "none");
}

// The float GEMVs' software prefetch (kernels/common/prefetch.h): off on AMD CPUs with AVX-512
// (Zen 4 and later: measured slower than the hardware prefetchers alone on a Zen 4 EPYC, family
// 0x19 model 0x11, prefetch.h has the numbers; Zen 5 assumed alike, not measured), on elsewhere
// (where the kernels were tuned with it). KILN_CPU_PREFETCH=0 or 1 decides instead.
// Writes why into `why` (for kiln info).
int kiln_cpu_default_prefetch(char *why, int size) {
    const char *e = getenv("KILN_CPU_PREFETCH");
    if (e && (strcmp(e, "0") == 0 || strcmp(e, "1") == 0)) {
        snprintf(why, size, "KILN_CPU_PREFETCH=%s", e);
        return e[0] == '1';
    }
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    char vendor[13] = { 0 };
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
    }
    if (strcmp(vendor, "AuthenticAMD") == 0 && __get_cpuid(1, &a, &b, &c, &d)) {
        const unsigned base = (a >> 8) & 0xf, family = base == 0xf ? base + ((a >> 20) & 0xff) : base;
        const bool avx512 = (kiln_cpu_features_hw() & KILN_CPU_AVX512F) != 0;
        if (family >= 0x19 && avx512) {
            snprintf(why, size, "AMD family 0x%x with AVX-512 (Zen 4+): the hardware prefetchers stream faster alone",
                     family);
            return 0;
        }
    }
#endif
    snprintf(why, size, "default");
    return 1;
}
