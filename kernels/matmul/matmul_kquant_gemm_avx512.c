// matmul GEMM (n >= 16) for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K), AVX-512 (F+BW+VL+VNNI):
// y[n][m] = x[n][k] . W[m][k]^T, layouts as matmul.h, x quantized to Q8_K (kiln's reference
// quantize_row_q8_K, the table rows' KILN_ROUND_X_Q8_K, as every K-quant row).
//
// Why a second K-quant GEMM: the tile kernel (matmul_kquant_tile_avx512.c) unpacks each W block
// for 4 x columns and spends most of its instructions on that unpacking and on per-block scale
// arithmetic (prefill of a Q4_K_M TinyLlama at 0.60x llama.cpp's on this project's AVX-512 Xeon,
// Q5_K_M 0.37x). This one follows the scheme of ggml-cpu's `tiled` matmul (what llama.cpp runs for
// K-quant prefill on VNNI CPUs): unpack W once into plain bytes, then run an int8 micro-kernel that
// is nothing but dot products.
//
// Scheme. Threads split W into windows of WR = 64 rows; a window meets x in panels of WC = 256
// columns with its f32 accumulators (WR x WC, 64 KiB) in the thread's scratch. Per super-block b:
//   1. the window's 64 rows of block b are unpacked into 256 unsigned codes per row (q4_K 0..15,
//      q5_K 0..31, q6_K 0..63, q2_K 0..3, q3_K 0..7), one f32 scale and one int16 "min" per
//      sub-block (SUB = 32 elements for q4_K/q5_K, 16 for the others) and d, dmin per row.
//      Offsets become mins: q6_K's code - 32 is (min = 32 sc, dmin = d), q3_K's - 4 likewise.
//   2. per two groups of 16 x columns (x rearranged once by the prepare step: per block, for
//      each 4-element group kg, the 16 columns' 4 codes side by side, 64 bytes; the columns'
//      per-16 and per-32 code sums as int16 pairs), a 4-row x 32-column micro-kernel: for each
//      kg, two 64-byte x loads and, per row, vpdpbusd(acc, broadcast of the row's 4 codes, x) —
//      16 columns x 4 elements per instruction; per sub-block each row's int32 sums are converted and FMA'd by
//      the sub-block scale into f32; the mins term sum(min_s * xsum_s) is vpdpwssd on the int16
//      pairs; per block: acc[row][col] += d_x (d_w s1 - dmin_w s2).
// Per 4 rows x 32 columns x 32 elements that is 64 vpdpbusd against 16 conversions and FMAs.
//
// Rounding: the integer sub-block dots are exact; the scaled sums are f32 (the tile kernel and
// ggml differ in where they round), so results agree with the other K-quant rows to f32
// rounding, not bit for bit; `kiln ops` checks them against the reference on Q8_K-rounded x.
// Versions: v1 8 rows x 16 columns; v2 (this) 4 x 32, 10% faster. Test: `kiln ops --op matmul
// --type q4_K --kernel int.gemm`.
#include "kernels/common/simd_avx512.h"

enum { R = 4, NXG = 2 };
#include "kernels/matmul/matmul_kquant_gemm.h"

// ---- the micro-kernel: rows r0..r0+R-1 of the window against NXG 16-column groups ----
// R = 4 rows x NXG = 2 groups (32 columns): per kg two x loads and four broadcasts feed eight
// vpdpbusd in eight independent chains. Measured (m=4096 n=512 k=14336, 2 threads, AVX-512
// Xeon): 8 rows x 1 group (nine loads per eight dots) q4_K 101 ms, q6_K 113; 4 x 2: 91, 103;
// 4 x 3: 91, 108; 2 x 4: 105, 125; 8 x 2 (16 dpbusd chains, to hide their 5-cycle latency):
// 184-191, 219-220, the 16 int and 16 f32 accumulators spill (2026-12-03).

static inline __attribute__((always_inline)) void micro(const struct wk_block *w, int r0,
                                                        const struct xk_block *const x[NXG], int nx, int sub,
                                                        float *acc, int acc_stride) {
    const int nsub = 256 / sub, ng = sub / 4;
    __m512 s1[R][NXG];
    for (int t = 0; t < R; t++)
        for (int c = 0; c < nx; c++)
            s1[t][c] = _mm512_setzero_ps();
    for (int s = 0; s < nsub; s++) {
        __m512i a[R][NXG];
        for (int t = 0; t < R; t++)
            for (int c = 0; c < nx; c++)
                a[t][c] = _mm512_setzero_si512();
        #pragma GCC unroll 8
        for (int g = 0; g < ng; g++) {
            const int kg = s * ng + g;
            __m512i xc[NXG];
            for (int c = 0; c < nx; c++)
                xc[c] = _mm512_loadu_si512(x[c]->q[kg]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t u4;
                memcpy(&u4, w->q[r0 + t] + 4 * kg, 4);
                const __m512i wb = _mm512_set1_epi32(u4);
                for (int c = 0; c < nx; c++)
                    a[t][c] = _mm512_dpbusd_epi32(a[t][c], wb, xc[c]);
            }
        }
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            const __m512 scale = _mm512_set1_ps(w->sc[r0 + t][s]);
            for (int c = 0; c < nx; c++)
                s1[t][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[t][c]), scale, s1[t][c]);
        }
    }
    for (int c = 0; c < nx; c++) {
        // The mins term per row: sum_s mn_s * xsum_s, two sub-blocks per vpdpwssd.
        const int16_t(*bs)[GC][2] = sub == 32 ? x[c]->bs32 : x[c]->bs16;
        __m512i s2[R];
        for (int t = 0; t < R; t++)
            s2[t] = _mm512_setzero_si512();
        for (int p = 0; p < nsub / 2; p++) {
            const __m512i xs = _mm512_loadu_si512(bs[p]);
            #pragma GCC unroll 4
            for (int t = 0; t < R; t++) {
                int32_t m2;
                memcpy(&m2, &w->mn[r0 + t][2 * p], 4);
                s2[t] = _mm512_dpwssd_epi32(s2[t], xs, _mm512_set1_epi32(m2));
            }
        }
        const __m512 dx = _mm512_loadu_ps(x[c]->d);
        #pragma GCC unroll 4
        for (int t = 0; t < R; t++) {
            const __m512 v = _mm512_fnmadd_ps(_mm512_set1_ps(w->dmin[r0 + t]), _mm512_cvtepi32_ps(s2[t]),
                                              _mm512_mul_ps(_mm512_set1_ps(w->d[r0 + t]), s1[t][c]));
            float *p = acc + (size_t)t * acc_stride + c * GC;
            _mm512_storeu_ps(p, _mm512_fmadd_ps(v, dx, _mm512_loadu_ps(p)));
        }
    }
}

#define MICRO(name, nx_, sub_)                                                                     \
    static __attribute__((noinline)) void name(const struct wk_block *w, int r0,                   \
                                               const struct xk_block *const x[NXG], float *acc,      \
                                               int acc_stride) {                                    \
        micro(w, r0, x, nx_, sub_, acc, acc_stride);                                                \
    }
MICRO(micro_32x2, 2, 32)
MICRO(micro_32x1, 1, 32)
MICRO(micro_16x2, 2, 16)
MICRO(micro_16x1, 1, 16)
#undef MICRO

static void kq_micro(enum kiln_type type, const struct wk_block *w, int r0, const struct xk_block *const x[NXG], int nx,
                     float *acc, int acc_stride) {
    if (type == KILN_TYPE_Q4_K || type == KILN_TYPE_Q5_K)
        (nx == 2 ? micro_32x2 : micro_32x1)(w, r0, x, acc, acc_stride);
    else
        (nx == 2 ? micro_16x2 : micro_16x1)(w, r0, x, acc, acc_stride);
}

const struct kiln_cpu_kernel kiln_matmul_kquant_int_avx512_gemm = {
    .workspace = kq_workspace, .prepare = kq_prepare, .compute = kq_gemm };
