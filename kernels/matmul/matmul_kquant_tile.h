// The K-quant tile kernel's driver (row and k blocking, column groups, the table's kernel
// structs), written once for the two files that instantiate it: matmul_kquant_tile_avx2.c (ymm)
// and matmul_kquant_tile_avx512.c (zmm). The scheme and why: matmul_kquant_tile_avx2.c.
//
// The includer defines, before including this: the enum constants NC (x columns per group), RB
// (rows per GEMM block), KB (super-blocks per k chunk); the accumulator type kq_acc with
// kq_acc_zero() and kq_acc_sum(v) (its lanes' float sum); the block functions
//   q23_k_block(blk, q3, x, b, nc, acc), q45_k_block(blk, five, x, b, nc, acc),
//   q6_k_block(blk, x, b, nc, acc)
// (acc[c] += the block's dot with column c, for c < nc); and KQ_NAME(type, variant), the names of
// the kernel structs (kiln_matmul_q4_K_avx2_gemv ...).
#include <stdint.h>

#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

// Software prefetch distance in super-blocks (the hardware streamer alone left one-thread GEMV
// DRAM-latency bound): 4 -> 16 took GEMV m=4096 k=14336, one thread, AVX-512 Xeon, q4_K 3350 ->
// 2820 us, q6_K 4470 -> 4030 us; 32 was slower again (3190 us for q4_K).
enum { KQ_PREFETCH_BLOCKS = 16 };

enum kq { KQ_Q2_K, KQ_Q3_K, KQ_Q4_K, KQ_Q5_K, KQ_Q6_K };

// Blocks [b0, b1) of one W row against nc columns (a constant after inlining into span_nc).
static inline __attribute__((always_inline)) void span(enum kq kind, const uint8_t *row, size_t bsz,
                                                        const struct kiln_block_q8_K *const *x, int64_t b0,
                                                        int64_t b1, int nc, float *out) {
    // Local accumulators (the caller's array stayed in memory across the loop: a store per block).
    kq_acc acc[NC];
    for (int c = 0; c < nc; c++)
        acc[c] = kq_acc_zero();
    for (int64_t b = b0; b < b1; b++) {
        const uint8_t *blk = row + (size_t)b * bsz;
        _mm_prefetch((const char *)blk + KQ_PREFETCH_BLOCKS * bsz, _MM_HINT_T0);
        _mm_prefetch((const char *)blk + KQ_PREFETCH_BLOCKS * bsz + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)blk + KQ_PREFETCH_BLOCKS * bsz + 128, _MM_HINT_T0);
        if (kind == KQ_Q6_K)
            q6_k_block(blk, x, b, nc, acc);
        else if (kind == KQ_Q2_K || kind == KQ_Q3_K)
            q23_k_block(blk, kind == KQ_Q3_K, x, b, nc, acc);
        else
            q45_k_block(blk, kind == KQ_Q5_K, x, b, nc, acc);
    }
    for (int c = 0; c < nc; c++)
        out[c] = kq_acc_sum(acc[c]);
}

// The row's dots for columns x[0..nc) over blocks [b0, b1), in out[c].
static void span_nc(enum kq kind, const uint8_t *row, size_t bsz, const struct kiln_block_q8_K *const *x,
                    int64_t b0, int64_t b1, int nc, float out[NC]) {
#define SPAN(K, N)                                                                                 \
    case N:                                                                                        \
        span(K, row, bsz, x, b0, b1, (N) < NC ? (N) : NC, out); /* N > NC: never taken */         \
        break
#define SPANS(K)                                                                                   \
    switch (nc) {                                                                                  \
        SPAN(K, 1);                                                                                \
        SPAN(K, 2);                                                                                \
        SPAN(K, 3);                                                                                \
        SPAN(K, 4);                                                                                \
    }
    if (kind == KQ_Q2_K)
        SPANS(KQ_Q2_K)
    else if (kind == KQ_Q3_K)
        SPANS(KQ_Q3_K)
    else if (kind == KQ_Q4_K)
        SPANS(KQ_Q4_K)
    else if (kind == KQ_Q5_K)
        SPANS(KQ_Q5_K)
    else
        SPANS(KQ_Q6_K)
#undef SPANS
#undef SPAN
}

static size_t xq_row_bytes(const struct kiln_op *op) { return kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]); }

static void kquant_matmul(const struct kiln_op *op, const void *ws, enum kq kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kiln_row_size(w->type, KILN_QK_K);
    const bool gemm = n >= KILN_MATMUL_GEMM_MIN_N;
    const int64_t rb = gemm ? RB : 1, kb = gemm ? KB : nb;  // GEMV: one row, whole, at a time
    int64_t lo, hi;
    kiln_split((m + rb - 1) / rb, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * rb, i1 = i0 + rb < m ? i0 + rb : m;
        for (int64_t b0 = 0; b0 < nb; b0 += kb) {
            const int64_t b1 = b0 + kb < nb ? b0 + kb : nb;
            for (int64_t j0 = 0; j0 < n; j0 += NC) {
                const int nc = (int)(n - j0 < NC ? n - j0 : NC);
                const struct kiln_block_q8_K *x[NC];
                for (int c = 0; c < nc; c++)
                    x[c] = (const void *)((const char *)ws + (size_t)(j0 + c) * xq_row_bytes(op));
                for (int64_t i = i0; i < i1; i++) {
                    float out[NC];
                    span_nc(kind, (const uint8_t *)KILN_ROW(w, i, 0, 0), bsz, x, b0, b1, nc, out);
                    for (int c = 0; c < nc; c++) {
                        float *yi = (float *)KILN_ROW(y, j0 + c, 0, 0) + i;
                        *yi = b0 == 0 ? out[c] : *yi + out[c];
                    }
                }
            }
        }
    }
}

static void q2_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q2_K, ith, nth); }
static void q3_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q3_K, ith, nth); }
static void q4_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q4_K, ith, nth); }
static void q5_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q5_K, ith, nth); }
static void q6_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q6_K, ith, nth); }

// The same kernel serves both table rows of a type (the rows differ in `supports` only, so that
// `kiln ops` and the benchmarks name the GEMV and the GEMM apart).
#define KQ_KERNEL(name, fn)                                                                        \
    const struct kiln_cpu_kernel name = { .workspace = kiln_matmul_xq8k_workspace,                 \
                                          .prepare = kiln_matmul_xq8k_prepare, .compute = fn }
KQ_KERNEL(KQ_NAME(q2_K, gemv), q2_k);
KQ_KERNEL(KQ_NAME(q3_K, gemv), q3_k);
KQ_KERNEL(KQ_NAME(q4_K, gemv), q4_k);
KQ_KERNEL(KQ_NAME(q5_K, gemv), q5_k);
KQ_KERNEL(KQ_NAME(q6_K, gemv), q6_k);
KQ_KERNEL(KQ_NAME(q2_K, gemm), q2_k);
KQ_KERNEL(KQ_NAME(q3_K, gemm), q3_k);
KQ_KERNEL(KQ_NAME(q4_K, gemm), q4_k);
KQ_KERNEL(KQ_NAME(q5_K, gemm), q5_k);
KQ_KERNEL(KQ_NAME(q6_K, gemm), q6_k);
