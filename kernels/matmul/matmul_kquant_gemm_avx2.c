// matmul GEMM (n >= 16) for the K-quants (q2_K..q6_K), AVX2 (no VNNI): the integer GEMM of
// matmul_kquant_gemm_avx512.c (W windows unpacked to bytes, x rearranged in 16-column groups;
// layouts, preparation and driver shared through matmul_kquant_gemm.h), with a ymm micro-kernel
// of maddubs: per 4-element group kg, one 32-byte load of 8 columns' codes and, per row, maddubs
// of the row's 4 codes (broadcast) against them — 8 columns x 4 elements as int16 pair sums,
// added in int16 over KH groups (the most that cannot overflow for the type's largest code:
// q4_K 8 groups, q5_K 4, q6_K 2, q2_K/q3_K 4), then one madd to int32, a conversion and an FMA
// by the sub-block scale. 4 rows x 8 columns per pass, two passes per 16-column group.
// Same rounding class (KILN_ROUND_X_Q8_K) and the same f32 sums per sub-block as the zmm file.
// Versions: v1 (this). Test: `KILN_CPU_ISA=avx2 kiln ops --op matmul --type q4_K --kernel int.gemm`.
#include "kernels/common/simd_x86.h"

enum { R = 4, NXG = 1 };
#include "kernels/matmul/matmul_kquant_gemm.h"

static inline __attribute__((always_inline)) void micro(const struct wk_block *w, int r0, const struct xk_block *x,
                                                        int sub, int kh, float *acc, int acc_stride) {
    const int nsub = 256 / sub, ng = sub / 4;
    const __m256i ones = _mm256_set1_epi16(1);
    const int16_t(*bs)[GC][2] = sub == 32 ? x->bs32 : x->bs16;
    for (int h = 0; h < 2; h++) {  // the group's two 8-column halves
        __m256 s1[R];
        for (int t = 0; t < R; t++)
            s1[t] = _mm256_setzero_ps();
        for (int s = 0; s < nsub; s++) {
            for (int g0 = 0; g0 < ng; g0 += kh) {
                __m256i a[R];
                for (int t = 0; t < R; t++)
                    a[t] = _mm256_setzero_si256();
                #pragma GCC unroll 8
                for (int g = g0; g < g0 + kh; g++) {
                    const int kg = s * ng + g;
                    const __m256i xc = _mm256_loadu_si256((const __m256i *)x->q[kg][8 * h]);
                    #pragma GCC unroll 4
                    for (int t = 0; t < R; t++) {
                        int32_t u4;
                        memcpy(&u4, w->q[r0 + t] + 4 * kg, 4);
                        a[t] = _mm256_add_epi16(a[t], _mm256_maddubs_epi16(_mm256_set1_epi32(u4), xc));
                    }
                }
                #pragma GCC unroll 4
                for (int t = 0; t < R; t++)
                    s1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(a[t], ones)),
                                            _mm256_set1_ps(w->sc[r0 + t][s]), s1[t]);
            }
        }
        __m256i s2[R];
        for (int t = 0; t < R; t++)
            s2[t] = _mm256_setzero_si256();
        for (int p = 0; p < nsub / 2; p++) {
            const __m256i xs = _mm256_loadu_si256((const __m256i *)bs[p][8 * h]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t m2;
                memcpy(&m2, &w->mn[r0 + t][2 * p], 4);
                s2[t] = _mm256_add_epi32(s2[t], _mm256_madd_epi16(xs, _mm256_set1_epi32(m2)));
            }
        }
        const __m256 dx = _mm256_loadu_ps(x->d + 8 * h);
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            const __m256 v = _mm256_fnmadd_ps(_mm256_set1_ps(w->dmin[r0 + t]), _mm256_cvtepi32_ps(s2[t]),
                                              _mm256_mul_ps(_mm256_set1_ps(w->d[r0 + t]), s1[t]));
            float *p = acc + (size_t)t * acc_stride + 8 * h;
            _mm256_storeu_ps(p, _mm256_fmadd_ps(v, dx, _mm256_loadu_ps(p)));
        }
    }
}

#define MICRO(name, sub_, kh_)                                                                     \
    static __attribute__((noinline)) void name(const struct wk_block *w, int r0, const struct xk_block *x, \
                                               float *acc, int acc_stride) {                        \
        micro(w, r0, x, sub_, kh_, acc, acc_stride);                                                \
    }
MICRO(micro_q4, 32, 8)
MICRO(micro_q5, 32, 4)
MICRO(micro_q6, 16, 2)
MICRO(micro_q23, 16, 4)
#undef MICRO

static void kq_micro(enum kiln_type type, const struct wk_block *w, int r0, const struct xk_block *const x[NXG], int nx,
                     float *acc, int acc_stride) {
    (void)nx;
    switch (type) {
    case KILN_TYPE_Q4_K: micro_q4(w, r0, x[0], acc, acc_stride); break;
    case KILN_TYPE_Q5_K: micro_q5(w, r0, x[0], acc, acc_stride); break;
    case KILN_TYPE_Q6_K: micro_q6(w, r0, x[0], acc, acc_stride); break;
    default: micro_q23(w, r0, x[0], acc, acc_stride); break;
    }
}

const struct kiln_cpu_kernel kiln_matmul_kquant_int_avx2_gemm = {
    .workspace = kq_workspace, .prepare = kq_prepare, .compute = kq_gemm };
