// matmul GEMM (n >= 16) for q4_0 (GGUF rows or the x8 layout), q4_1, q5_0 and q5_1, AVX2 (no
// VNNI): the integer GEMM of matmul_q32_gemm_avx512.c (W windows unpacked to bytes, x as Q8_0 in
// 16-column groups; layouts, preparation and driver shared through matmul_q32_gemm.h) with a ymm
// micro-kernel of maddubs: per 4-element group, one 32-byte load of 8 columns' codes and, per
// row, maddubs of the row's 4 codes (broadcast) against them, summed in int16 over KH groups
// (q4: all 8 of a block, codes <= 15; q5: 4, codes <= 31: no int16 overflow), one madd to int32
// onto the block's offset start, a conversion and an FMA by d_w d_x. 4 rows x 8 columns per
// pass, two passes per 16-column group. q8_0 stays on the f32-panel GEMM here: its codes
// (q + 128, up to 255) overflow maddubs' int16 pairs, and the sign trick would cost more per
// product than the FMA path.
// Versions: v1 (this). Test: `KILN_CPU_ISA=avx2 kiln ops --op matmul --type q4_0,q4_1,q5_0,q5_1`.
#include "kernels/common/simd_x86.h"

enum { R = 4, NXG = 1 };
#include "kernels/matmul/matmul_q32_gemm.h"

static inline __attribute__((always_inline)) void micro(const struct wq_chunk *u, int r0, const struct xq_chunk *x,
                                                        int nblk, bool mins, int kh, float *acc, int acc_stride) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int h = 0; h < 2; h++) {  // the group's two 8-column halves
        __m256 f[R];
        for (int t = 0; t < R; t++)
            f[t] = _mm256_setzero_ps();
        for (int s = 0; s < nblk; s++) {
            const __m256i init = _mm256_loadu_si256((const __m256i *)(x->init[s] + 8 * h));
            __m256i a32[R];
            for (int t = 0; t < R; t++)
                a32[t] = init;
            for (int g0 = 0; g0 < 8; g0 += kh) {
                __m256i a16[R];
                for (int t = 0; t < R; t++)
                    a16[t] = _mm256_setzero_si256();
                #pragma GCC unroll 8
                for (int g = g0; g < g0 + kh; g++) {
                    const int kg = 8 * s + g;
                    const __m256i xc = _mm256_loadu_si256((const __m256i *)x->q[kg][8 * h]);
                    #pragma GCC unroll 4
                    for (int t = 0; t < R; t++) {
                        int32_t u4;
                        memcpy(&u4, u->q[r0 + t] + 4 * kg, 4);
                        a16[t] = _mm256_add_epi16(a16[t], _mm256_maddubs_epi16(_mm256_set1_epi32(u4), xc));
                    }
                }
                for (int t = 0; t < R; t++)
                    a32[t] = _mm256_add_epi32(a32[t], _mm256_madd_epi16(a16[t], ones));
            }
            const __m256 dx = _mm256_loadu_ps(x->d[s] + 8 * h);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++)
                f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a32[t]), _mm256_mul_ps(_mm256_set1_ps(u->d[r0 + t][s]), dx), f[t]);
            if (mins) {
                const __m256 ds = _mm256_loadu_ps(x->dsum[s] + 8 * h);
                #pragma GCC unroll 4
                for (int t = 0; t < R; t++)
                    f[t] = _mm256_fmadd_ps(_mm256_set1_ps(u->m[r0 + t][s]), ds, f[t]);
            }
        }
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            float *p = acc + (size_t)t * acc_stride + 8 * h;
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), f[t]));
        }
    }
}

#define MICRO(name, mins_, kh_)                                                                    \
    static __attribute__((noinline)) void name(const struct wq_chunk *u, int r0, const struct xq_chunk *x, \
                                               int nblk, float *acc, int acc_stride) {              \
        micro(u, r0, x, nblk, mins_, kh_, acc, acc_stride);                                         \
    }
MICRO(micro_q4_0, false, 8)
MICRO(micro_q4_1, true, 8)
MICRO(micro_q5_0, false, 4)
MICRO(micro_q5_1, true, 4)
#undef MICRO

static void q32_micro(enum kiln_type type, const struct wq_chunk *u, int r0, const struct xq_chunk *const x[NXG],
                      int nx, int nblk, float *acc, int acc_stride) {
    (void)nx;
    switch (type) {
    case KILN_TYPE_Q4_1: micro_q4_1(u, r0, x[0], nblk, acc, acc_stride); break;
    case KILN_TYPE_Q5_0: micro_q5_0(u, r0, x[0], nblk, acc, acc_stride); break;
    case KILN_TYPE_Q5_1: micro_q5_1(u, r0, x[0], nblk, acc, acc_stride); break;
    default: micro_q4_0(u, r0, x[0], nblk, acc, acc_stride); break;  // q4_0 (rows or x8)
    }
}

const struct kiln_cpu_kernel kiln_matmul_q32_int_avx2_gemm = {
    .workspace = q32_workspace, .prepare = q32_prepare, .compute = q32_gemm };
