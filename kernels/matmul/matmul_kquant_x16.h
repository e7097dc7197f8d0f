// The x16 K-quant GEMV's driver (threads over tiles, each tile against each x row, super-block by
// super-block, with the record prefetch) and its kernel structs, written once for the two files
// that instantiate it: matmul_kquant_x16_avx512.c (one zmm of 16 rows) and
// matmul_kquant_x16_avx2.c (two ymm of 8). The scheme and why: matmul_kquant_x16_avx512.c.
//
// The includer defines, before including this: the accumulator type x16_acc (16 rows' f32 sums)
// with x16_acc_zero() and x16_store(y, acc) (16 floats to y); x16_record(type, rec, x, acc),
// which returns acc plus the dots of one record with one Q8_K block; and X16_NAME(t), the names
// of the kernel structs (kiln_matmul_q4_Kx16_avx512_gemv ...); X16_HAS_Q23 if x16_record takes
// q2_K and q3_K too, X16_HAS_Q6 if it takes q6_K.
#include <stdint.h>

#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"
#include "quant/format/repack.h"

// Software prefetch of every line of the record, this many bytes ahead of it, before its dot
// products: the tile is one sequential stream, but the requests issued at once keep more lines
// in flight than the hardware prefetcher alone. q4_K, AVX-512, m=4096 k=14336, one / two
// threads: none 2620-2820 / 1370-1390 us; 0 bytes ahead 2350-2420 / 1190-1280; 512: 2330-2390 /
// 1230-1240; 1024: 2390-2440 / 1250-1260; 1536: 2560-2590 / 1330-1350; 2 and 4 whole records
// ahead 3000 / 1550.
enum { X16_PREFETCH_BYTES = 512 };

static inline __attribute__((always_inline)) void x16_gemv(const struct kiln_op *op, void *ws, int ith, int nth,
                                                            enum kiln_type type) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t rec_bytes = kiln_x16_record_bytes(type), tile_bytes = kiln_x16_tile_bytes(type, k);
    const size_t xrow = kiln_row_size(KILN_TYPE_Q8_K, k);
    int64_t lo, hi;
    kiln_split(m / KILN_X16_ROWS, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const uint8_t *tile = (const uint8_t *)KILN_ROW(w, 0, 0, 0) + (size_t)t * tile_bytes;
        for (int64_t j = 0; j < n; j++) {
            const struct kiln_block_q8_K *x = (const void *)((const char *)ws + (size_t)j * xrow);
            x16_acc acc = x16_acc_zero();
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *rec = tile + (size_t)b * rec_bytes;
                for (size_t l = 0; l < rec_bytes / 64; l++)
                    _mm_prefetch((const char *)rec + X16_PREFETCH_BYTES + 64 * l, _MM_HINT_T0);
                acc = x16_record(type, rec, &x[b], acc);
            }
            x16_store((float *)KILN_ROW(y, j, 0, 0) + t * KILN_X16_ROWS, acc);
        }
    }
}

static void q4_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { x16_gemv(op, ws, ith, nth, KILN_TYPE_Q4_K); }
static void q5_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { x16_gemv(op, ws, ith, nth, KILN_TYPE_Q5_K); }

#ifdef X16_HAS_Q23  // q2_K and q3_K records
static void q2_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { x16_gemv(op, ws, ith, nth, KILN_TYPE_Q2_K); }
static void q3_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { x16_gemv(op, ws, ith, nth, KILN_TYPE_Q3_K); }
const struct kiln_cpu_kernel X16_NAME(q2_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                                .prepare = kiln_matmul_xq8k_prepare, .compute = q2_k_gemv };
const struct kiln_cpu_kernel X16_NAME(q3_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                                .prepare = kiln_matmul_xq8k_prepare, .compute = q3_k_gemv };
#endif
const struct kiln_cpu_kernel X16_NAME(q4_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                                .prepare = kiln_matmul_xq8k_prepare, .compute = q4_k_gemv };
const struct kiln_cpu_kernel X16_NAME(q5_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                                .prepare = kiln_matmul_xq8k_prepare, .compute = q5_k_gemv };
#ifdef X16_HAS_Q6  // q6_K records (AVX-512 only: matmul_kquant_x16_avx2.c says why)
static void q6_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { x16_gemv(op, ws, ith, nth, KILN_TYPE_Q6_K); }
const struct kiln_cpu_kernel X16_NAME(q6_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                                .prepare = kiln_matmul_xq8k_prepare, .compute = q6_k_gemv };
#endif
