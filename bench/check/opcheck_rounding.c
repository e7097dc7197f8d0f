// The reference for a matmul (or attention) row that rounds its inputs (kernel.h enum kiln_input_rounding):
// the same rounding, written here in scalar C from the formula the enum names, then the exact
// reference matmul (double accumulation) on the rounded values. A kernel's activation quantizer
// that rounds any other way (truncation, amax/63, one scale per row) differs from this by far
// more than f32 accumulation does, so the tight ceiling catches it.
//
// Also the most the rounding itself can move the output from the exact reference on these
// inputs: |y~ - y| <= sum_k |w[i][k]| |x~[j][k] - x[j][k]| (+ |w~ - w| |x~| for rounded W), from
// the actual rounding errors, which are first checked to be those of rounding to nearest
// (|x~ - x| <= d/2 plus what storing d as f16 moves the code's value; half an f16 ulp). A
// statistical estimate (3x the d^2/12 noise) was tried first and failed a correct NEON kernel on
// a 64-output case dominated by one outlier block: too few independent errors for a 3x bound.
#include "bench/check/opcheck_rounding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernel.h"
#include "bench/check/opcheck.h"
#include "bench/check/tolerance.h"
#include "kernels/attention/attention.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/quant_ref.h"

static float round_f16(float v) { return kiln_f16_to_f32(kiln_f32_to_f16(v)); }
static float round_bf16(float v) { return kiln_bf16_to_f32(kiln_f32_to_bf16(v)); }

static float clamp_code(float q) { return q > 127.0f ? 127.0f : q < -128.0f ? -128.0f : q; }

// One row of x as the row sees it. Returns false if an element's rounding error is larger than
// rounding to nearest allows (a wrong formula here, never a kernel's fault): d/2, with 1e-4 of
// slack because the codes come from x * (127/amax) or x * (1/d), each one rounding away from the
// exact x / d, which moves a code at a near-tie (up to 127 ulps of d/2).
static bool round_x_row(enum kiln_input_rounding r, const float *x, float *out, int64_t k) {
    bool nearest = true;
    if (r == KILN_ROUND_X_F16 || r == KILN_ROUND_WX_F16) {
        for (int64_t i = 0; i < k; i++) {
            out[i] = round_f16(x[i]);
            nearest &= fabs((double)out[i] - x[i]) <= fabs((double)x[i]) * 0x1p-11 + 0x1p-25;
        }
        return nearest;
    }
    if (r == KILN_ROUND_X_BF16) {  // 8 significant bits: half an ulp is 2^-8 relative
        for (int64_t i = 0; i < k; i++) {
            out[i] = round_bf16(x[i]);
            nearest &= fabs((double)out[i] - x[i]) <= fabs((double)x[i]) * 0x1p-8;
        }
        return nearest;
    }
    if (r == KILN_ROUND_X_Q8_K) {
        // kiln's reference Q8_K quantizer (checked against ggml's: tests/data/kquant), then
        // code * d: what the integer dot of a Q8_K kernel sees.
        struct kiln_block_q8_K blk;
        for (int64_t b = 0; b < k; b += KILN_QK_K) {
            kiln_quantize_q8_K_ref(x + b, &blk, KILN_QK_K);
            for (int i = 0; i < KILN_QK_K; i++) {
                out[b + i] = (float)blk.qs[i] * blk.d;
                nearest &= fabs((double)out[b + i] - x[b + i]) <= 0.5 * fabs((double)blk.d) * (1 + 1e-4) + 1e-30;
            }
        }
        return nearest;
    }
    for (int64_t b = 0; b < k; b += 32) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(x[b + i]));
        const float d = amax / 127.0f;
        float id, scale;
        switch (r) {
        case KILN_ROUND_X_Q8_0_INV127:  // matmul_avx2.c quantize_row_q8_0_avx2
            id = amax != 0.0f ? 127.0f / amax : 0.0f;
            scale = round_f16(d);
            break;
        case KILN_ROUND_X_Q8_0_INVD:    // matmul_neon.c quantize_row_q8_0_neon
            id = d != 0.0f ? 1.0f / d : 0.0f;
            scale = round_f16(d);
            break;
        default:                        // matmul_dp4a_cuda.cu quantize_x_kernel
            id = d != 0.0f ? 1.0f / d : 0.0f;
            scale = d;
            break;
        }
        for (int i = 0; i < 32; i++) {
            const float q = clamp_code(rintf(x[b + i] * id));  // RNE (the default mode)
            out[b + i] = q * scale;
            const double allowed = 0.5 * d * (1 + 1e-4) + fabs((double)q) * fabs((double)scale - d) + 1e-30;
            nearest &= fabs((double)out[b + i] - x[b + i]) <= allowed;
        }
    }
    return nearest;
}

enum kiln_status kiln_check_rounded_matmul(struct kiln_device *cpu, const struct kiln_op *op,
                                           enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                           double *bound2) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1];
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const kiln_to_float_fn w_to_float = kiln_type_traits(w->type)->to_float;
    const bool round_w = r == KILN_ROUND_WX_F16;
    struct kiln_buffer *wbuf = NULL, *xbuf = NULL;
    float *dx = malloc((size_t)(k * n) * sizeof(float)), *wrow = malloc((size_t)k * sizeof(float));
    enum kiln_status st = dx && wrow ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of host memory");
    if (st == KILN_OK && round_w)
        st = kiln_buffer_alloc(cpu, (size_t)(k * m) * sizeof(float), &wbuf);
    if (st == KILN_OK)
        st = kiln_buffer_alloc(cpu, (size_t)(k * n) * sizeof(float), &xbuf);
    if (st != KILN_OK)
        goto out;
    // x rounded, and |x~ - x| per element
    float *xr = kiln_buffer_host_ptr(xbuf);
    bool nearest = true;
    for (int64_t j = 0; j < n; j++) {
        const float *src = KILN_ROW(x, j, 0, 0);
        nearest &= round_x_row(r, src, xr + j * k, k);
        for (int64_t c = 0; c < k; c++)
            dx[j * k + c] = fabsf(xr[j * k + c] - src[c]);
    }
    // W rounded (tensor cores), and the worst-case error energy sum_ij (sum_k ...)^2
    *bound2 = 0.0;
    for (int64_t i = 0; i < m; i++) {
        w_to_float(KILN_ROW(w, i, 0, 0), wrow, k);
        float *wr = round_w ? (float *)kiln_buffer_host_ptr(wbuf) + i * k : NULL;
        if (wr) {
            for (int64_t c = 0; c < k; c++) {
                wr[c] = round_f16(wrow[c]);
                nearest &= fabs((double)wr[c] - wrow[c]) <= fabs((double)wrow[c]) * 0x1p-11 + 0x1p-25;
            }
        }
        for (int64_t j = 0; j < n; j++) {
            double e = 0.0;
            for (int64_t c = 0; c < k; c++) {
                e += fabs((double)wrow[c]) * dx[j * k + c];
                if (wr)
                    e += fabs((double)wr[c] - wrow[c]) * fabs((double)xr[j * k + c]);
            }
            *bound2 += e * e;
        }
    }
    if (!nearest)  // the formula here does not round to nearest: no bound (the check fails)
        *bound2 = NAN;
    struct kiln_op ref = *op;
    ref.dst = *dst;
    if (round_w)
        ref.src[0] = kiln_tensor_make(wbuf, 0, KILN_TYPE_F32, k, m, 1, 1);
    ref.src[1] = kiln_tensor_make(xbuf, 0, KILN_TYPE_F32, k, n, 1, 1);
    st = kiln_check_reference(&ref);
out:
    kiln_buffer_free(wbuf);
    kiln_buffer_free(xbuf);
    free(dx);
    free(wrow);
    return st;
}

// Attention with q rounded to f16 (KILN_ROUND_Q_F16): the exact reference on q~, and the bound.
// With s_j the exact scores and s~_j those of q~, |s~_j - s_j| <= delta_j = |scale| sum_d
// |q~_d - q_d| |k_jd|; with delta the largest over the visible keys, every probability moves by
// a factor within [e^-2delta, e^2delta] (numerator and normaliser each by e^+-delta), so
// |o~_d - o_d| = |sum_j (p~_j - p_j) v_jd| <= (e^2delta - 1) sum_j p~_j |v_jd|, with p~ the
// softmax of s~ (computed here in double).
enum kiln_status kiln_check_rounded_attention(struct kiln_device *cpu, const struct kiln_op *op,
                                              enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                              double *bound2) {
    const struct kiln_tensor *q = &op->src[0], *kt = &op->src[1], *vt = &op->src[2];
    const int64_t D = q->ne[0], n_q = q->ne[1], H = q->ne[2], n_kv = kt->ne[1], H_kv = kt->ne[2];
    if (r != KILN_ROUND_Q_F16 || H % H_kv)
        return kiln_fail(KILN_E_INVALID, "opcheck: attention has no rounding '%s'", kiln_rounding_name(r));
    const double scale = op->params.attention.scale;
    const kiln_to_float_fn k_to_float = kiln_type_traits(kt->type)->to_float;
    const kiln_to_float_fn v_to_float = kiln_type_traits(vt->type)->to_float;
    struct kiln_buffer *qbuf = NULL;
    float *kv = malloc((size_t)(2 * n_kv * D) * sizeof(float));
    double *p = malloc((size_t)n_kv * sizeof(double)), *acc = malloc((size_t)D * sizeof(double));
    enum kiln_status st = kv && p && acc ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of host memory");
    if (st == KILN_OK)
        st = kiln_buffer_alloc(cpu, (size_t)(D * n_q * H) * sizeof(float), &qbuf);
    if (st != KILN_OK)
        goto out;
    float *qr = kiln_buffer_host_ptr(qbuf);
    bool nearest = true;
    *bound2 = 0.0;
    for (int64_t hk = 0; hk < H_kv; hk++) {
        float *kf = kv, *vf = kv + n_kv * D;
        for (int64_t j = 0; j < n_kv; j++) {
            k_to_float(KILN_ROW(kt, j, hk, 0), kf + j * D, D);
            v_to_float(KILN_ROW(vt, j, hk, 0), vf + j * D, D);
        }
        for (int64_t h = hk * (H / H_kv); h < (hk + 1) * (H / H_kv); h++) {
            for (int64_t i = 0; i < n_q; i++) {
                const float *src = KILN_ROW(q, i, h, 0);
                float *row = qr + (h * n_q + i) * D;
                nearest &= round_x_row(KILN_ROUND_X_F16, src, row, D);
                const int64_t n_vis = kiln_attention_visible(op, i);
                double smax = -INFINITY, delta = 0.0, l = 0.0;
                for (int64_t j = 0; j < n_vis; j++) {
                    double s = 0.0, e = 0.0;
                    for (int64_t d = 0; d < D; d++) {
                        s += (double)row[d] * kf[j * D + d];
                        e += fabs((double)row[d] - src[d]) * fabs((double)kf[j * D + d]);
                    }
                    p[j] = s * scale;
                    smax = p[j] > smax ? p[j] : smax;
                    delta = e * fabs(scale) > delta ? e * fabs(scale) : delta;
                }
                memset(acc, 0, (size_t)D * sizeof(double));
                for (int64_t j = 0; j < n_vis; j++) {
                    p[j] = exp(p[j] - smax);
                    l += p[j];
                    for (int64_t d = 0; d < D; d++)
                        acc[d] += p[j] * fabs((double)vf[j * D + d]);
                }
                const double grow = expm1(2.0 * delta);
                for (int64_t d = 0; d < D && l > 0.0; d++)
                    *bound2 += (grow * acc[d] / l) * (grow * acc[d] / l);
            }
        }
    }
    if (!nearest)
        *bound2 = NAN;
    struct kiln_op ref = *op;
    ref.dst = *dst;
    ref.src[0] = kiln_tensor_make(qbuf, 0, KILN_TYPE_F32, D, n_q, H, 1);
    st = kiln_check_reference(&ref);
out:
    kiln_buffer_free(qbuf);
    free(kv);
    free(p);
    free(acc);
    return st;
}
