// Software prefetch in the x86 float GEMVs (f32/f16/bf16 W: 8 row streams a tile), switchable at run time (kiln_cpu_prefetch_on, set
// by the CPU backend at init: backends/cpu/cpu_features.c kiln_cpu_default_prefetch).
// Why a switch: the kernels' prefetches (a few hundred bytes to 1 KiB ahead in each W stream)
// were tuned where they help, but on an AMD Zen 4 EPYC (family 0x19 model 0x11, AVX-512) the
// hardware prefetchers stream a GEMV's W faster alone: a bf16 GEMV of m=4096 k=14336 (8 row
// streams, 1 KiB ahead) read 18 GB/s on one thread with them and 27 GB/s without, 25 vs 31 GB/s
// on two (a standalone loop, 2026-12-04); kiln's bf16 GEMV there, 6 interleaved pairs of runs,
// median 4031 us with them, 3366 us without. The other kernels keep plain _mm_prefetch: on the
// same host the Q4_0/Q8_0 x8 tiles decoded faster WITH theirs (TinyLlama 34.4/31.9 vs 27.3/27.6
// t/s), q5_K x16 too (GEMV median 1420 vs 2090 us), q4_K/q6_K moved within the host's noise.
// The branch is on one global that never changes during a run: predicted, free.
#pragma once

extern int kiln_cpu_prefetch_on;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define KILN_PREFETCH(p)                                           \
    do {                                                           \
        if (kiln_cpu_prefetch_on)                                  \
            _mm_prefetch((const char *)(p), _MM_HINT_T0);          \
    } while (0)
#endif
