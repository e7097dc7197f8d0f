// matmul GEMM (n >= 16) for the 32-element block types — q4_0 and q8_0 (GGUF rows or the x8
// layouts, quant/format/repack.h), q4_1, q5_0, q5_1 — AVX-512 (F+BW+VL+VNNI): y[n][m] =
// x[n][k] . W[m][k]^T, layouts as matmul.h, x quantized to Q8_0 by the GEMVs' quantizer
// (kiln_matmul_quantize_row_q8_0; the table rows' KILN_ROUND_X_Q8_0_INV127).
//
// The scheme of the K-quant GEMM (matmul_kquant_gemm_avx512.c, where it is described): W
// windows of WR rows unpacked into plain unsigned codes, x rearranged once so that 16 columns'
// 4-element groups lie side by side, and an 8-row x 16-column micro-kernel of vpdpbusd with each
// row's 4 codes broadcast. What differs for 32-blocks: every block has its own f32 scale in W and
// in x, so each block's int32 dots are converted and scaled by d_w * d_x (a mul and an FMA per
// row and block); k is taken in chunks of up to 8 blocks (k need not be a multiple of 256).
// Offsets: q4_0's codes are 0..15 for q - 8, q5_0's 0..31 for q - 16, q8_0's are stored as
// q + 128 (unsigned): each block's dot starts from -offset * sum(x codes) (per column, made by the
// prepare step), so no subtraction is left in the loop. q4_1/q5_1's mins: + m_w * (d_x sum(x)).
//
// Versions (m=4096 n=512 k=14336, 2 threads, AVX-512 Xeon): v0 the f32-panel GEMM (q4_0x8 243
// ms, q8_0x8 264); v1 an x8-only integer GEMM, one x column per W unpack, 4 vpdpbusd per 10
// instructions (129, 217 ms; removed, in git history as matmul_x8_gemm_avx512.c); v2 (this: 64
// vpdpbusd per ~90 instructions; 87 ms q4_0x8, 101 q8_0x8, 103-115 q4_1/q5_0/q5_1).
// Rounding: integer dots exact, f32 scaling and sums in block order per output; agrees with the
// GEMVs to f32 rounding; W rows and W in the x8 layout unpack to the same values, so those two
// give the same bits (tests/test_repack.c). Test: `kiln ops --op matmul --type q4_0,q8_0,q4_1,q5_0,q5_1`.
#include "kernels/common/simd_avx512.h"

enum { R = 4, NXG = 2 };
#include "kernels/matmul/matmul_q32_gemm.h"

// ---- the micro-kernel: window rows r0..r0+R-1 against NXG 16-column groups, nblk blocks ----
// 4 rows x 32 columns, as the K-quant GEMM's (eight independent vpdpbusd chains, two x loads per
// four broadcasts; 8 rows x 16 columns measured slower there).
static inline __attribute__((always_inline)) void micro(const struct wq_chunk *u, int r0,
                                                        const struct xq_chunk *const x[NXG], int nx, int nblk,
                                                        bool mins, float *acc, int acc_stride) {
    __m512 f[R][NXG];
    for (int t = 0; t < R; t++)
        for (int c = 0; c < nx; c++)
            f[t][c] = _mm512_setzero_ps();
    for (int s = 0; s < nblk; s++) {
        __m512i a[R][NXG];
        for (int c = 0; c < nx; c++) {
            const __m512i init = _mm512_loadu_si512(x[c]->init[s]);
            for (int t = 0; t < R; t++)
                a[t][c] = init;
        }
        #pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const int kg = 8 * s + g;
            __m512i xc[NXG];
            for (int c = 0; c < nx; c++)
                xc[c] = _mm512_loadu_si512(x[c]->q[kg]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t u4;
                memcpy(&u4, u->q[r0 + t] + 4 * kg, 4);
                const __m512i wb = _mm512_set1_epi32(u4);
                for (int c = 0; c < nx; c++)
                    a[t][c] = _mm512_dpbusd_epi32(a[t][c], wb, xc[c]);
            }
        }
        for (int c = 0; c < nx; c++) {
            const __m512 dx = _mm512_loadu_ps(x[c]->d[s]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++)
                f[t][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[t][c]), _mm512_mul_ps(_mm512_set1_ps(u->d[r0 + t][s]), dx),
                                          f[t][c]);
            if (mins) {
                const __m512 ds = _mm512_loadu_ps(x[c]->dsum[s]);
                #pragma GCC unroll 4
                for (int t = 0; t < R; t++)
                    f[t][c] = _mm512_fmadd_ps(_mm512_set1_ps(u->m[r0 + t][s]), ds, f[t][c]);
            }
        }
    }
    #pragma GCC unroll 4
    for (int t = 0; t < R; t++)
        for (int c = 0; c < nx; c++) {
            float *p = acc + (size_t)t * acc_stride + c * GC;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), f[t][c]));
        }
}

#define MICRO(name, nx_, mins_)                                                                    \
    static __attribute__((noinline)) void name(const struct wq_chunk *u, int r0,                   \
                                               const struct xq_chunk *const x[NXG], int nblk,        \
                                               float *acc, int acc_stride) {                        \
        micro(u, r0, x, nx_, nblk, mins_, acc, acc_stride);                                         \
    }
MICRO(micro_plain2, 2, false)
MICRO(micro_plain1, 1, false)
MICRO(micro_mins2, 2, true)
MICRO(micro_mins1, 1, true)
#undef MICRO

static void q32_micro(enum kiln_type type, const struct wq_chunk *u, int r0, const struct xq_chunk *const x[NXG],
                      int nx, int nblk, float *acc, int acc_stride) {
    if (has_min(type))
        (nx == 2 ? micro_mins2 : micro_mins1)(u, r0, x, nblk, acc, acc_stride);
    else
        (nx == 2 ? micro_plain2 : micro_plain1)(u, r0, x, nblk, acc, acc_stride);
}

const struct kiln_cpu_kernel kiln_matmul_q32_int_avx512_gemm = {
    .workspace = q32_workspace, .prepare = q32_prepare, .compute = q32_gemm };
