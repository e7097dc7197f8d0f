// matmul GEMM (n >= 16) for bf16 W, AVX-512 with AVX512_BF16 (vdpbf16ps): y[n][m] = x[n][k] .
// W[m][k]^T, layouts as matmul.h; x rounded to bf16 first (RNE, quant/format/fp16.h's rule, as ggml's
// bf16 vec_dot does), so the table row declares KILN_ROUND_X_BF16 and `kiln ops` holds it to the
// reference run on x rounded that way.
//
// vdpbf16ps adds to each f32 lane the two products of a pair of bf16 lanes: 32 multiply-adds per
// instruction, twice a zmm FMA's 16, on W as stored (no conversion). The pair is two consecutive
// k, so a W row's bf16 elements 2p, 2p+1 are already one 32-bit word: this kernel broadcasts that
// word and lets the vector run across x columns instead, so W needs no repacking at all:
//   x is packed once (the prepare step, shared by the threads) as px[g][p][32]: for column group
//     g (32 columns), pair p, column c, the word (bf16 x[c][2p], bf16 x[c][2p+1]) (zeros past n);
//   the micro-kernel takes RT = 12 W rows x 32 columns: per pair p two px loads, 12 broadcasts of
//     a W word straight from the rows (an embedded-broadcast memory operand), 24 vdpbf16ps into
//     24 zmm accumulators (lanes = columns); at the end the 12 x 32 tile is added into y through
//     a transpose in memory (a few hundred scalar adds per 12 x 32 x KC multiply-adds).
// Threads split the row tiles. An odd k's last element is paired with a zero (x and W alike:
// W's word is built from its one bf16, never read past the row).
// Accuracy: products of bf16 pairs are exact in f32; the hardware flushes denormal inputs and
// results to zero (DAZ/FTZ), which the reference does not, a difference far below the f32 class
// ceiling for inputs of normal magnitude. SIMDe (the emulation build) does not flush.
// Versions: v1 x packed per thread per block of 512 k (m=4096 n=512 k=14336, 2 threads,
// AVX-512 Xeon: 375 ms); v2 (this) x packed once in the prepare step, blocks of 2048 k (fewer
// passes of y's transposed adds): 368 ms = 91% of that CPU's vdpbf16ps peak, which is low there:
// 1.38 G instructions/s per core against 6.49 G for vfmadd231ps zmm (a register-only loop of 12
// chains), so there the f32-panel row (bf16 widened, zmm FMAs) is faster (331 ms). Zen 4/5 run
// vdpbf16ps at full rate; a rule choosing between the two rows needs their measurements. Test: `kiln ops --op matmul --type bf16 --kernel dpbf16`.
#include <string.h>

#include "kernels/common/simd_avx512.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/fp16.h"

enum { KC = 2048, RT = 12, CG = 32, NCOL = 128 };  // KC even; NCOL a multiple of CG

// The pair word of x row xr at pair p (its second half zero past k).
static inline uint32_t x_pair(const float *xr, int64_t p, int64_t k) {
    const uint32_t lo = kiln_f32_to_bf16(xr[2 * p]);
    const uint32_t hi = 2 * p + 1 < k ? kiln_f32_to_bf16(xr[2 * p + 1]) : 0;
    return lo | hi << 16;
}

static int64_t groups_of(int64_t n) { return (n + CG - 1) / CG; }
static int64_t pairs_of(int64_t k) { return (k + 1) / 2; }

// x packed once for every thread, as px[g][p][CG]: for column group g (32 columns), pair p of
// the whole k, column c, the word (bf16 x[c][2p], bf16 x[c][2p+1]) (zero words past n). Threads
// pack whole groups.
static void prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    const int64_t k = x->ne[0], n = x->ne[1], np = pairs_of(k);
    int64_t lo, hi;
    kiln_split(groups_of(n), ith, nth, &lo, &hi);
    for (int64_t g = lo; g < hi; g++) {
        uint32_t *dst = (uint32_t *)ws + (size_t)g * np * CG;
        for (int c = 0; c < CG; c++) {
            const int64_t j = g * CG + c;
            if (j >= n) {
                for (int64_t p = 0; p < np; p++)
                    dst[p * CG + c] = 0;
                continue;
            }
            const float *xr = (const float *)KILN_ROW(x, j, 0, 0);
            for (int64_t p = 0; p < np; p++)
                dst[p * CG + c] = x_pair(xr, p, k);
        }
    }
}

// RT W rows (bf16, each at its block start) x 32 packed columns over np pairs (the last one
// half-filled when odd) into tile[r][c].
static inline void micro_kernel(const uint16_t *const w[RT], const uint32_t *px, int64_t np, bool odd,
                                float tile[RT][CG]) {
    __m512 acc[RT][2];
    #pragma GCC unroll 16
    for (int r = 0; r < RT; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const int64_t full = odd ? np - 1 : np;
    for (int64_t p = 0; p <= full; p++) {
        if (p == full && !odd)
            break;
        const __m512bh x0 = (__m512bh)_mm512_loadu_si512((const void *)(px + p * CG));
        const __m512bh x1 = (__m512bh)_mm512_loadu_si512((const void *)(px + p * CG + 16));
        #pragma GCC unroll 16
        for (int r = 0; r < RT; r++) {
            uint32_t word;
            if (p < full)
                memcpy(&word, w[r] + 2 * p, sizeof word);
            else
                word = w[r][2 * p];  // odd k: the last element alone
            const __m512bh wv = (__m512bh)_mm512_set1_epi32((int)word);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], wv, x0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], wv, x1);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < RT; r++) {
        _mm512_storeu_ps(tile[r], acc[r][0]);
        _mm512_storeu_ps(tile[r] + 16, acc[r][1]);
    }
}

static size_t workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)groups_of(op->src[1].ne[1]) * (size_t)pairs_of(op->src[1].ne[0]) * CG * sizeof(uint32_t);
}

static void gemm(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1], np_all = pairs_of(k);
    int64_t lo, hi;
    kiln_split((m + RT - 1) / RT, ith, nth, &lo, &hi);
    if (lo >= hi)
        return;
    const uint32_t *px_all = ws;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
        const int64_t kc = k - k0 < KC ? k - k0 : KC, np = (kc + 1) / 2;
        for (int64_t j0 = 0; j0 < n; j0 += NCOL) {
            const int64_t ncol = n - j0 < NCOL ? n - j0 : NCOL;
            for (int64_t t = lo; t < hi; t++) {
                const int64_t i0 = t * RT;
                const uint16_t *rows[RT];
                for (int r = 0; r < RT; r++)  // an edge tile repeats its last row, stores only valid ones
                    rows[r] = (const uint16_t *)KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0) + k0;
                for (int64_t g = 0; g * CG < ncol; g++) {
                    float tile[RT][CG];
                    const int64_t ga = j0 / CG + g;
                    micro_kernel(rows, px_all + ((size_t)ga * np_all + (size_t)(k0 / 2)) * CG, np, kc & 1, tile);
                    for (int c = 0; c < CG && g * CG + c < ncol; c++) {
                        float *yr = (float *)KILN_ROW(y, j0 + g * CG + c, 0, 0) + i0;
                        for (int r = 0; r < RT && i0 + r < m; r++)
                            yr[r] = k0 == 0 ? tile[r][c] : yr[r] + tile[r][c];
                    }
                }
            }
        }
    }
}

const struct kiln_cpu_kernel kiln_matmul_bf16_dpbf16_avx512_gemm = {
    .workspace = workspace, .prepare = prepare, .compute = gemm };
