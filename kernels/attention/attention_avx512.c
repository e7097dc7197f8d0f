// attention, AVX-512 (F+BW+VL+VNNI; F16C for K/V), flash-style: attention_avx2.c's algorithm
// (online softmax over blocks of KEY_BLOCK keys, the grouped schedule for GQA with lanes = heads,
// the per-head schedule otherwise; see there) with the head dimension in 16-lane chunks: K/V rows
// converted 16 halves per vcvtph2ps zmm, q.k and P.V as zmm FMAs (half the instructions of the
// AVX2 kernel per key). The scores of a head group still form one 8-lane vector (each head's
// 16-lane partial dot folded to 8, then the AVX2 transposed sums), so the softmax bookkeeping is
// the AVX2 kernel's, kiln_exp256 included.
//
// Layouts: attention.h. Needs D % 16 == 0 and D <= 256 (head dims 64, 80, 96, 128, 256); other
// D fall to the AVX2 row (D % 8) or the reference.
// Versions: v1 (this). Not yet measured on an AVX-512 machine; checked under SIMDe on AVX2-only
// machines (simd_avx512.h). Test: `kiln ops --op attention --kernel avx512`.
#include <math.h>

#include "kernels/attention/attention.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/common/simd_x86.h"

enum { KEY_BLOCK = 32, MAX_D = 256, PREFETCH_KEYS = 64 };

static inline __attribute__((always_inline)) __m512 load16(bool f16, const void *row, int64_t l) {
    return f16 ? kiln_load_f16x16((const uint16_t *)row + l) : _mm512_loadu_ps((const float *)row + l);
}

// The per-head schedule (v1): one (head, query) pair at a time.
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
        __m512 acc[MAX_D / 16];
        for (int64_t l = 0; l < d / 16; l++)
            acc[l] = _mm512_setzero_ps();
        float max = -INFINITY, sum = 0.0f;
        const int64_t visible = kiln_attention_visible(op, i);
        for (int64_t j0 = 0; j0 < visible; j0 += KEY_BLOCK) {
            const int64_t nj = visible - j0 < KEY_BLOCK ? visible - j0 : KEY_BLOCK;
            float s[KEY_BLOCK];
            float block_max = -INFINITY;
            for (int64_t j = 0; j < nj; j++) {
                const void *kr = KILN_ROW(k, j0 + j, g, 0);
                __m512 dot0 = _mm512_setzero_ps(), dot1 = _mm512_setzero_ps();
                int64_t l = 0;
                for (; l + 32 <= d; l += 32) {
                    dot0 = _mm512_fmadd_ps(_mm512_loadu_ps(qr + l), load16(f16, kr, l), dot0);
                    dot1 = _mm512_fmadd_ps(_mm512_loadu_ps(qr + l + 16), load16(f16, kr, l + 16), dot1);
                }
                if (l < d)
                    dot0 = _mm512_fmadd_ps(_mm512_loadu_ps(qr + l), load16(f16, kr, l), dot0);
                s[j] = kiln_hsum512(_mm512_add_ps(dot0, dot1)) * scale;
                block_max = s[j] > block_max ? s[j] : block_max;
            }
            if (block_max > max) {
                // exp(-inf) = 0 on the first block: the empty accumulator is simply kept at 0.
                const float correction = expf(max - block_max);
                const __m512 c = _mm512_set1_ps(correction);
                for (int64_t l = 0; l < d / 16; l++)
                    acc[l] = _mm512_mul_ps(acc[l], c);
                sum *= correction;
                max = block_max;
            }
            for (int64_t j = 0; j < nj; j++) {
                const float p = expf(s[j] - max);
                sum += p;
                const __m512 pv = _mm512_set1_ps(p);
                const void *vr = KILN_ROW(v, j0 + j, g, 0);
                for (int64_t l = 0; l < d / 16; l++)
                    acc[l] = _mm512_fmadd_ps(pv, load16(f16, vr, 16 * l), acc[l]);
            }
        }
        const __m512 inv = _mm512_set1_ps(1.0f / sum);
        float *out = KILN_ROW(o, i, h, 0);
        for (int64_t l = 0; l < d / 16; l++)
            _mm512_storeu_ps(out + 16 * l, _mm512_mul_ps(acc[l], inv));
    }
}

enum kiln_status kiln_attention_supports_avx512(const struct kiln_op *op) {
    const int64_t d = op->src[0].ne[0];
    if (d % 16 || d > MAX_D)
        return kiln_fail(KILN_E_UNSUPPORTED, "attention.avx512 takes head dims that are multiples "
                         "of 16 up to %d, got %lld", MAX_D, (long long)d);
    return KILN_OK;
}

// ---- the grouped schedule ----

// Scores of G heads against one key, as a vector (lanes = heads): acc[r] are the G partial dot
// vectors; the transposed horizontal sum adds each one's 8 lanes into lane r.
static inline __m256 hsum8x8(const __m256 *a) {
    const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

static inline __m256 hsum4x8(const __m256 *a) {  // lanes 0..3 valid, 4..7 zero
    const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 u = _mm256_hadd_ps(t0, t1);
    const __m128 sum = _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
    return _mm256_insertf128_ps(_mm256_setzero_ps(), sum, 0);
}

// The 8 lane sums of a 16-lane partial dot (its halves added): the scores then reduce as in the
// AVX2 kernel, lanes = heads.
static inline __m256 halves(__m512 v) { return _mm256_add_ps(kiln_lo256(v), kiln_hi256(v)); }

// One query position i and G query heads h0..h0+G-1 that share kv head g. Lanes = heads.
static inline __attribute__((always_inline)) void attend_group(const struct kiln_op *op, bool f16,
                                                               int G, int64_t h0, int64_t i) {
    const struct kiln_tensor *q = &op->src[0], *k = &op->src[1], *v = &op->src[2], *o = &op->dst;
    const int64_t d = q->ne[0], g = h0 / (q->ne[2] / k->ne[2]), dc = d / 16;
    const float scale = op->params.attention.scale;
    // K and V rows of kv head g: base + j * stride (no call per row in the loops below).
    const char *kbase = KILN_ROW(k, 0, g, 0), *vbase = KILN_ROW(v, 0, g, 0);
    const size_t kstride = k->nb[1], vstride = v->nb[1];
    // The G query rows, pre-scaled, chunk-major: qs[c][r] is chunk c of head r.
    __m512 qs[MAX_D / 16][8];
    for (int r = 0; r < G; r++) {
        const float *qr = KILN_ROW(q, i, h0 + r, 0);
        for (int64_t c = 0; c < dc; c++)
            qs[c][r] = _mm512_mul_ps(_mm512_loadu_ps(qr + 16 * c), _mm512_set1_ps(scale));
    }
    __m512 out[MAX_D / 16][8];
    for (int64_t c = 0; c < dc; c++)
        for (int r = 0; r < G; r++)
            out[c][r] = _mm512_setzero_ps();
    __m256 max = _mm256_set1_ps(-INFINITY), sum = _mm256_setzero_ps();
    const int64_t visible = kiln_attention_visible(op, i);
    float p[KEY_BLOCK][8];  // weights, key-major: p[j][r]
    for (int64_t j0 = 0; j0 < visible; j0 += KEY_BLOCK) {
        const int64_t nj = visible - j0 < KEY_BLOCK ? visible - j0 : KEY_BLOCK;
        __m256 s[KEY_BLOCK];
        __m256 block_max = _mm256_set1_ps(-INFINITY);
        for (int64_t j = 0; j < nj; j++) {
            const void *kr = kbase + (size_t)(j0 + j) * kstride;
            // Memory-level parallelism: while this block's scores are computed, fetch its V rows
            // (read next, column by column) and the next block's K rows.
            const size_t row_bytes = (size_t)d * (f16 ? 2 : 4);
            const char *vpre = vbase + (size_t)(j0 + j) * vstride;
            const char *kpre = (const char *)kr + PREFETCH_KEYS * kstride;
            for (size_t off = 0; off < row_bytes; off += 64) {
                _mm_prefetch(vpre + off, _MM_HINT_T0);
                if (j0 + j + PREFETCH_KEYS < visible)
                    _mm_prefetch(kpre + off, _MM_HINT_T0);
            }
            __m512 acc[8];
            for (int r = 0; r < G; r++)
                acc[r] = _mm512_setzero_ps();
            for (int64_t c = 0; c < dc; c++) {
                const __m512 kv = load16(f16, kr, 16 * c);
                for (int r = 0; r < G; r++)
                    acc[r] = _mm512_fmadd_ps(qs[c][r], kv, acc[r]);
            }
            __m256 acc8[8];
            for (int r = 0; r < G; r++)
                acc8[r] = halves(acc[r]);
            s[j] = G == 8 ? hsum8x8(acc8) : hsum4x8(acc8);
            block_max = _mm256_max_ps(block_max, s[j]);
        }
        const __m256 new_max = _mm256_max_ps(max, block_max);
        const __m256 correction = kiln_exp256(_mm256_sub_ps(max, new_max));  // exp(-inf) = 0
        max = new_max;
        sum = _mm256_mul_ps(sum, correction);
        float corr[8];
        _mm256_storeu_ps(corr, correction);
        for (int64_t c = 0; c < dc; c++)
            for (int r = 0; r < G; r++)
                out[c][r] = _mm512_mul_ps(out[c][r], _mm512_set1_ps(corr[r]));
        for (int64_t j = 0; j < nj; j++) {
            const __m256 w = kiln_exp256(_mm256_sub_ps(s[j], max));
            sum = _mm256_add_ps(sum, w);
            _mm256_storeu_ps(p[j], w);
        }
        for (int64_t c = 0; c < dc; c++) {
            __m512 acc[8];
            for (int r = 0; r < G; r++)
                acc[r] = out[c][r];
            const char *vr = vbase + (size_t)j0 * vstride;
            for (int64_t j = 0; j < nj; j++, vr += vstride) {
                const __m512 vv = load16(f16, vr, 16 * c);
                for (int r = 0; r < G; r++)
                    acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[j][r]), vv, acc[r]);
            }
            for (int r = 0; r < G; r++)
                out[c][r] = acc[r];
        }
    }
    float l[8];
    _mm256_storeu_ps(l, sum);
    for (int r = 0; r < G; r++) {
        float *orow = KILN_ROW(o, i, h0 + r, 0);
        const __m512 inv = _mm512_set1_ps(1.0f / l[r]);
        for (int64_t c = 0; c < dc; c++)
            _mm512_storeu_ps(orow + 16 * c, _mm512_mul_ps(out[c][r], inv));
    }
}

// Group width used for this op: 8 or 4 heads per task, or 0 for the per-head schedule.
static int group_width(const struct kiln_op *op) {
    const int64_t per_kv = op->src[0].ne[2] / op->src[1].ne[2];
    return per_kv % 8 == 0 ? 8 : per_kv % 4 == 0 ? 4 : 0;
}

static inline __attribute__((always_inline)) void attend_grouped(const struct kiln_op *op, bool f16,
                                                                 int ith, int nth) {
    const int G = group_width(op);
    const int64_t n_q = op->src[0].ne[1], groups = op->src[0].ne[2] / G;
    int64_t lo, hi;
    kiln_split(groups * n_q, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        if (G == 8)
            attend_group(op, f16, 8, (t / n_q) * 8, t % n_q);
        else
            attend_group(op, f16, 4, (t / n_q) * 4, t % n_q);
    }
}

static void attention_f16(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    if (group_width(op))
        attend_grouped(op, true, ith, nth);
    else
        attend(op, true, ith, nth);
}

static void attention_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    if (group_width(op))
        attend_grouped(op, false, ith, nth);
    else
        attend(op, false, ith, nth);
}

const struct kiln_cpu_kernel kiln_attention_f16_avx512 = { .compute = attention_f16 };
const struct kiln_cpu_kernel kiln_attention_f32_avx512 = { .compute = attention_f32 };
