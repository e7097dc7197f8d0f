// matmul GEMV (n < 16), AVX-512 (F+BW+VL+VNNI), for float W: f32, f16, bf16 against f32 x:
// y[n][m] = x[n][k] . W[m][k]^T, layouts as matmul.h.
//
// matmul_avx2.c's tile_float in 16-lane vectors: a tile of RM = 8 W rows shares every x load
// (16 floats), each row converted in registers (f16: vcvtph2ps zmm; bf16: widened and shifted,
// exact) into one FMA per 16 elements, 8 zmm accumulators; the tail (k % 16) in scalar f32.
// Decode is memory-bound, so what the wider vectors buy here is fewer instructions per byte
// (one conversion and one FMA per 32 bytes of f16 instead of per 16), which matters once two
// threads share a memory controller with spare bandwidth, and a software prefetch about 1 KiB
// ahead in each row as in the AVX2 kernel.
// Versions: v1 (this). Not yet measured on an AVX-512 machine; checked under SIMDe
// (simd_avx512.h). Test: `kiln ops --op matmul --kernel avx512.gemv`.
#include <string.h>

#include "kernels/common/prefetch.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/fp16.h"

enum { RM = 8 };

enum wkind { W_F32, W_F16, W_BF16 };

static inline __attribute__((always_inline)) __m512 load_w16(enum wkind kind, const void *w, int64_t l) {
    if (kind == W_BF16)
        return kiln_load_bf16x16((const uint16_t *)w + l);
    return kind == W_F16 ? kiln_load_f16x16((const uint16_t *)w + l) : _mm512_loadu_ps((const float *)w + l);
}

static inline __attribute__((always_inline)) float load_w1(enum wkind kind, const void *w, int64_t l) {
    if (kind == W_BF16)
        return kiln_bf16_to_f32(((const uint16_t *)w)[l]);
    return kind == W_F16 ? _cvtsh_ss(((const uint16_t *)w)[l]) : ((const float *)w)[l];
}

static inline __attribute__((always_inline)) void tile_float(enum wkind kind, const void *const w[RM],
                                                             const float *x, int64_t k, float out[RM]) {
    __m512 acc[RM];
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++)
        acc[r] = _mm512_setzero_ps();
    const size_t esize = kind == W_F32 ? 4 : 2;
    const int64_t ahead = kind == W_F32 ? 256 : 512;  // elements: ~1 KiB ahead in each row
    int64_t l = 0;
    for (; l + 16 <= k; l += 16) {
        const __m512 xv = _mm512_loadu_ps(x + l);
        #pragma GCC unroll 16
        for (int r = 0; r < RM; r++) {
            if (kind == W_F32 || (l & 31) == 0)  // one prefetch per 64-byte line
                KILN_PREFETCH((const char *)w[r] + (size_t)(l + ahead) * esize);
            acc[r] = _mm512_fmadd_ps(load_w16(kind, w[r], l), xv, acc[r]);
        }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < RM; r++) {
        float s = kiln_hsum512(acc[r]);
        for (int64_t t = l; t < k; t++)
            s += load_w1(kind, w[r], t) * x[t];
        out[r] = s;
    }
}

// noinline: as in matmul_avx2.c, the tile's loop keeps its accumulators in registers only in a
// function of its own.
#define TILE static __attribute__((noinline)) void
TILE tile_f32(const void *const w[RM], const float *x, int64_t k, float out[RM]) { tile_float(W_F32, w, x, k, out); }
TILE tile_f16(const void *const w[RM], const float *x, int64_t k, float out[RM]) { tile_float(W_F16, w, x, k, out); }
TILE tile_bf16(const void *const w[RM], const float *x, int64_t k, float out[RM]) { tile_float(W_BF16, w, x, k, out); }
#undef TILE

typedef void (*tile_fn)(const void *const w[RM], const float *x, int64_t k, float out[RM]);

// Threads split the W rows in tiles of RM; each tile meets every x row (n < 16) while in cache.
static void gemv(const struct kiln_op *op, tile_fn tile, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t m = w->ne[1], n = op->src[1].ne[1], k = w->ne[0];
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        const void *rows[RM];
        for (int r = 0; r < RM; r++)  // an edge tile repeats its last row and drops the results
            rows[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            float out[RM];
            tile(rows, KILN_ROW(&op->src[1], j, 0, 0), k, out);
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++)
                yr[i0 + r] = out[r];
        }
    }
}

static void f32_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; gemv(op, tile_f32, ith, nth); }
static void f16_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; gemv(op, tile_f16, ith, nth); }
static void bf16_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; gemv(op, tile_bf16, ith, nth); }

const struct kiln_cpu_kernel kiln_matmul_f32_avx512_gemv = { .compute = f32_gemv };
const struct kiln_cpu_kernel kiln_matmul_f16_avx512_gemv = { .compute = f16_gemv };
const struct kiln_cpu_kernel kiln_matmul_bf16_avx512_gemv = { .compute = bf16_gemv };
