// attention, AVX2+FMA+F16C, flash-style: for each (query head h, query i) the visible keys are
// taken in blocks of KEY_BLOCK; a block's scores are computed, the running max is updated once
// per block (rescaling the running sum and the output accumulator by exp(old_max - new_max)),
// then the block's exp(score - max) weights accumulate V. No n_q x n_kv score matrix exists;
// memory per thread is one block of scores and one D-vector.
//
// Layouts: attention.h (q [D, n_q, H] f32; k, v [D, n_kv, H_kv] f16 or f32; any row strides).
// K/V rows are converted from f16 in registers (F16C). Needs D % 8 == 0 and D <= 256
// (head dims 64, 80, 96, 128, 256); other D fall back to the reference.
// Threads split the (h, i) pairs: decode (n_q = 1) parallelises over heads, prefill over both.
//
// Versions: v1 (this). Test: `kiln ops --op attention`.
#include <math.h>

#include "kernels/attention/attention.h"
#include "kernels/common/simd_x86.h"

enum { KEY_BLOCK = 32, MAX_D = 256 };

static inline __attribute__((always_inline)) __m256 load8(bool f16, const void *row, int64_t l) {
    return f16 ? kiln_load_f16x8((const uint16_t *)row + l) : _mm256_loadu_ps((const float *)row + l);
}

static inline __attribute__((always_inline)) void attend(const struct kiln_op *op, bool f16,
                                                         int ith, int nth) {
    const struct kiln_tensor *q = &op->src[0], *k = &op->src[1], *v = &op->src[2], *o = &op->dst;
    const int64_t d = q->ne[0], n_q = q->ne[1], h_q = q->ne[2], group = h_q / k->ne[2];
    const float scale = op->params.attention.scale;
    int64_t lo, hi;
    kiln_split(n_q * h_q, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t h = t / n_q, i = t % n_q, g = h / group;
        const float *qr = KILN_ROW(q, i, h, 0);
        __m256 acc[MAX_D / 8];
        for (int64_t l = 0; l < d / 8; l++)
            acc[l] = _mm256_setzero_ps();
        float max = -INFINITY, sum = 0.0f;
        const int64_t visible = kiln_attention_visible(op, i);
        for (int64_t j0 = 0; j0 < visible; j0 += KEY_BLOCK) {
            const int64_t nj = visible - j0 < KEY_BLOCK ? visible - j0 : KEY_BLOCK;
            float s[KEY_BLOCK];
            float block_max = -INFINITY;
            for (int64_t j = 0; j < nj; j++) {
                const void *kr = KILN_ROW(k, j0 + j, g, 0);
                __m256 dot0 = _mm256_setzero_ps(), dot1 = _mm256_setzero_ps();
                int64_t l = 0;
                for (; l + 16 <= d; l += 16) {
                    dot0 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + l), load8(f16, kr, l), dot0);
                    dot1 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + l + 8), load8(f16, kr, l + 8), dot1);
                }
                if (l < d)
                    dot0 = _mm256_fmadd_ps(_mm256_loadu_ps(qr + l), load8(f16, kr, l), dot0);
                s[j] = kiln_hsum256(_mm256_add_ps(dot0, dot1)) * scale;
                block_max = s[j] > block_max ? s[j] : block_max;
            }
            if (block_max > max) {
                // exp(-inf) = 0 on the first block: the empty accumulator is simply kept at 0.
                const float correction = expf(max - block_max);
                const __m256 c = _mm256_set1_ps(correction);
                for (int64_t l = 0; l < d / 8; l++)
                    acc[l] = _mm256_mul_ps(acc[l], c);
                sum *= correction;
                max = block_max;
            }
            for (int64_t j = 0; j < nj; j++) {
                const float p = expf(s[j] - max);
                sum += p;
                const __m256 pv = _mm256_set1_ps(p);
                const void *vr = KILN_ROW(v, j0 + j, g, 0);
                for (int64_t l = 0; l < d / 8; l++)
                    acc[l] = _mm256_fmadd_ps(pv, load8(f16, vr, 8 * l), acc[l]);
            }
        }
        const __m256 inv = _mm256_set1_ps(1.0f / sum);
        float *out = KILN_ROW(o, i, h, 0);
        for (int64_t l = 0; l < d / 8; l++)
            _mm256_storeu_ps(out + 8 * l, _mm256_mul_ps(acc[l], inv));
    }
}

static void attention_f16(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    attend(op, true, ith, nth);
}

static void attention_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    attend(op, false, ith, nth);
}

enum kiln_status kiln_attention_supports_avx2(const struct kiln_op *op) {
    const int64_t d = op->src[0].ne[0];
    if (d % 8 || d > MAX_D)
        return kiln_fail(KILN_E_UNSUPPORTED, "attention.avx2 takes head dims that are multiples "
                         "of 8 up to %d, got %lld", MAX_D, (long long)d);
    return KILN_OK;
}

const struct kiln_cpu_kernel kiln_attention_f16_avx2 = { .compute = attention_f16 };
const struct kiln_cpu_kernel kiln_attention_f32_avx2 = { .compute = attention_f32 };
