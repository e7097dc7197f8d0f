// Op benchmarks (bench_ops.h): inputs, the check on the benchmarked shape, timing.
//
// Inputs: random N(0, 1) values quantized with the reference quantizer, made once on the host
// (in CPU-device buffers, which the reference also reads) and uploaded to `sets` copies of the
// large operand (W, K/V, or the dequant source) on the device; iteration i uses copy i % sets,
// so the working set exceeds the last-level cache and each iteration streams from memory as in
// a real forward pass. Small operands (x, q) stay resident, as activations do. cfg.cache_hot
// (`kiln bench ops --cache-hot`) keeps one copy instead, reused by every iteration, as ggml's
// test-backend-ops does: for comparing with such peers like for like; the run names end in /hot.
// Matmul weights are in the layout the device wants for them (kiln_weight_layout; the kernel
// column names it, e.g. matmul.q4_0x8.avx2.gemv); KILN_NO_REPACK=1 benchmarks GGUF's rows.
// Check: the op runs once on copy 0 and a sample of its outputs (up to 32 x 32 matmul outputs
// on an evenly strided grid, 9 attention rows, every dequantized value) is compared with the
// reference run on views of the host copies; NMSE above the op's ceiling => not timed.
#include "bench/ops/bench_ops.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/check/opcheck.h"
#include "quant/synth/rng.h"
#include "bench/check/tolerance.h"
#include "backends/cpu/topology.h"

enum { MAX_SETS = 64, SAMPLE = 32 };

struct bench_state {
    struct kiln_stream *s;
    struct kiln_device *dev, *cpu;
    const struct kiln_bench_case *c;
    int sets;
    struct kiln_buffer *owned[2 * MAX_SETS + 16];
    int n_owned;
    struct kiln_op ops[MAX_SETS];    // one per input copy, on the device
    struct kiln_op host;             // the same op on the host copies (dst unused)
};

void kiln_bench_case_name(const struct kiln_bench_case *c, const char *device, char *buf, size_t size) {
    const char *type = kiln_type_name(c->type);
    switch (c->op) {
    case KILN_OP_MATMUL:
        snprintf(buf, size, "matmul/%s/%s/m:%" PRId64 "/n:%" PRId64 "/k:%" PRId64 "%s%s", type, device, c->m,
                 c->n, c->k, c->kernel ? "/" : "", c->kernel && c->kernel->variant ? c->kernel->variant : "");
        break;
    case KILN_OP_ATTENTION:
        snprintf(buf, size, "attention/%s/%s/d:%" PRId64 "/q:%" PRId64 "/kv:%" PRId64 "/h:%" PRId64
                 "/hkv:%" PRId64, type, device, c->d, c->q, c->kv, c->h, c->h_kv);
        break;
    default:
        snprintf(buf, size, "dequant/%s/%s/out:%s/k:%" PRId64 "/rows:%" PRId64, type, device,
                 kiln_type_name(c->out_type), c->k, c->m);
        break;
    }
}

static enum kiln_status alloc(struct bench_state *b, struct kiln_device *dev, size_t size,
                              struct kiln_buffer **out) {
    KILN_TRY(kiln_buffer_alloc(dev, size, out));
    b->owned[b->n_owned++] = *out;
    return KILN_OK;
}

// A host tensor of random values (N(0, sigma) through the type's reference quantizer).
static enum kiln_status host_random(struct bench_state *b, enum kiln_type type, int64_t ne0,
                                    int64_t ne1, int64_t ne2, struct kiln_rng *rng,
                                    struct kiln_tensor *out) {
    struct kiln_buffer *buf;
    KILN_TRY(alloc(b, b->cpu, kiln_row_size(type, ne0) * (size_t)(ne1 * ne2), &buf));
    *out = kiln_tensor_make(buf, 0, type, ne0, ne1, ne2, 1);
    float *row = malloc(sizeof(float) * (size_t)ne0);
    if (!row)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    for (int64_t r = 0; r < ne1 * ne2; r++) {
        kiln_rng_fill_normal(rng, row, ne0, 1.0f);
        kiln_type_traits(type)->from_float(row, kiln_tensor_row(out, r), ne0);
    }
    free(row);
    return KILN_OK;
}

// A device copy of a host tensor (the same view on a new buffer), in `layout` (a weight
// repacked on the way: kiln_weight_upload; rows are uploaded as they are).
static enum kiln_status to_device(struct bench_state *b, const struct kiln_tensor *host,
                                  enum kiln_layout layout, struct kiln_tensor *out) {
    struct kiln_buffer *buf;
    const size_t size = kiln_buffer_size(host->buffer);
    KILN_TRY(alloc(b, b->dev, size, &buf));
    *out = *host;
    out->buffer = buf;
    out->layout = layout;
    if (layout != KILN_LAYOUT_ROWS)
        return kiln_weight_upload(b->s, out, kiln_buffer_host_ptr(host->buffer));
    return kiln_buffer_upload(b->s, buf, 0, kiln_buffer_host_ptr(host->buffer), size);
}

static enum kiln_status device_empty(struct bench_state *b, enum kiln_type type, int64_t ne0,
                                     int64_t ne1, int64_t ne2, struct kiln_tensor *out) {
    struct kiln_buffer *buf;
    KILN_TRY(alloc(b, b->dev, kiln_row_size(type, ne0) * (size_t)(ne1 * ne2), &buf));
    *out = kiln_tensor_make(buf, 0, type, ne0, ne1, ne2, 1);
    return KILN_OK;
}

// Copies of the large operand: enough that they exceed the last-level cache twice over,
// within 2 GiB in all.
static int set_count(size_t big_bytes) {
    const struct kiln_topology_info *t;
    const double llc = kiln_topology_get(&t) == KILN_OK ? (double)t->llc_bytes : 64e6;
    int sets = (int)ceil(2.0 * llc / (double)big_bytes);
    const int cap = (int)((double)((size_t)2 << 30) / (double)big_bytes);
    sets = sets < cap ? sets : cap;
    sets = sets < MAX_SETS ? sets : MAX_SETS;
    return sets < 1 ? 1 : sets;
}

static enum kiln_status build(struct bench_state *b, struct kiln_bench_entry *e, bool cache_hot) {
    const struct kiln_bench_case *c = b->c;
    struct kiln_rng rng = kiln_rng_seed(0x6b696c6eull);
    struct kiln_tensor big, small = { 0 }, small2 = { 0 }, dst;
    struct kiln_op op = { .kind = c->op };
    switch (c->op) {
    case KILN_OP_MATMUL:
        KILN_TRY(host_random(b, c->type, c->k, c->m, 1, &rng, &big));
        KILN_TRY(host_random(b, KILN_TYPE_F32, c->k, c->n, 1, &rng, &small));
        KILN_TRY(device_empty(b, KILN_TYPE_F32, c->m, c->n, 1, &dst));
        e->bytes = (double)kiln_buffer_size(big.buffer) + 4.0 * (double)(c->n * (c->k + c->m));
        e->flops = 2.0 * (double)c->m * (double)c->n * (double)c->k;
        e->peak = kiln_type_traits(c->type)->is_quantized ? KILN_PEAK_INT8 : KILN_PEAK_FMA;
        break;
    case KILN_OP_ATTENTION:
        KILN_TRY(host_random(b, c->type, c->d, c->kv, c->h_kv, &rng, &big));       // K
        KILN_TRY(host_random(b, c->type, c->d, c->kv, c->h_kv, &rng, &small2));    // V
        KILN_TRY(host_random(b, KILN_TYPE_F32, c->d, c->q, c->h, &rng, &small));   // q
        KILN_TRY(device_empty(b, KILN_TYPE_F32, c->d, c->q, c->h, &dst));
        op.params.attention = (struct kiln_attention_params){
            .scale = 1.0f / sqrtf((float)c->d), .pos0 = (int32_t)(c->kv - c->q), .causal = true };
        const double pairs = (double)c->q * (double)(c->kv - c->q) + (double)c->q * (double)(c->q + 1) / 2;
        e->bytes = 2.0 * (double)kiln_buffer_size(big.buffer) + 8.0 * (double)(c->q * c->h * c->d);
        e->flops = 4.0 * (double)c->h * (double)c->d * pairs;
        break;
    default:
        KILN_TRY(host_random(b, c->type, c->k, c->m, 1, &rng, &big));
        KILN_TRY(device_empty(b, c->out_type, c->k, c->m, 1, &dst));
        e->bytes = (double)kiln_buffer_size(big.buffer) + (double)kiln_buffer_size(dst.buffer);
        e->flops = 0.0;
        break;
    }
    b->host = op;
    b->host.src[0] = c->op == KILN_OP_ATTENTION ? small : big;
    b->host.src[1] = c->op == KILN_OP_ATTENTION ? big : small;
    b->host.src[2] = small2;
    b->host.n_src = c->op == KILN_OP_MATMUL ? 2 : c->op == KILN_OP_ATTENTION ? 3 : 1;
    b->host.dst = dst;  // a device tensor: the host op is only ever run on sub-views

    const size_t per_set = kiln_buffer_size(big.buffer) * (c->op == KILN_OP_ATTENTION ? 2 : 1);
    b->sets = cache_hot ? 1 : set_count(per_set);
    struct kiln_tensor dev_small = { 0 };
    if (c->op != KILN_OP_DEQUANT)
        KILN_TRY(to_device(b, &small, KILN_LAYOUT_ROWS, &dev_small));
    // Weights go in the layout the model runner would load them in on this device (a
    // comparator row reads rows, as its library does).
    const enum kiln_layout layout = c->op == KILN_OP_MATMUL && !(c->kernel && c->kernel->comparator)
                                        ? kiln_weight_layout(b->dev, c->type, c->k, c->m)
                                        : KILN_LAYOUT_ROWS;
    for (int i = 0; i < b->sets; i++) {
        struct kiln_op *o = &b->ops[i];
        *o = b->host;
        o->dst = dst;
        struct kiln_tensor dev_big, dev_v;
        KILN_TRY(to_device(b, &big, layout, &dev_big));
        if (c->op == KILN_OP_MATMUL) {
            o->src[0] = dev_big;
            o->src[1] = dev_small;
        } else if (c->op == KILN_OP_ATTENTION) {
            KILN_TRY(to_device(b, &small2, KILN_LAYOUT_ROWS, &dev_v));
            o->src[0] = dev_small;
            o->src[1] = dev_big;
            o->src[2] = dev_v;
        } else {
            o->src[0] = dev_big;
        }
    }
    return KILN_OK;
}

// ---- the check on the benchmarked shape ----

struct sample_stats {
    double err2, ref2;
};

static void accumulate(struct sample_stats *st, const float *got, const float *ref, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double e = (double)got[i] - (double)ref[i];
        st->err2 += e * e;
        st->ref2 += (double)ref[i] * ref[i];
    }
}

// Reference outputs on a strided grid of W rows x x rows, from views of the host copies.
static enum kiln_status check_matmul(struct bench_state *b, const float *y, struct sample_stats *st) {
    const struct kiln_bench_case *c = b->c;
    const int64_t step_m = c->m > SAMPLE ? c->m / SAMPLE : 1, step_n = c->n > SAMPLE ? c->n / SAMPLE : 1;
    const int64_t sm = (c->m - 1) / step_m + 1, sn = (c->n - 1) / step_n + 1;
    struct kiln_op op = b->host;
    op.src[0].ne[1] = sm;
    op.src[0].nb[1] *= (size_t)step_m;
    op.src[1].ne[1] = sn;
    op.src[1].nb[1] *= (size_t)step_n;
    struct kiln_buffer *out;
    KILN_TRY(alloc(b, b->cpu, sizeof(float) * (size_t)(sm * sn), &out));
    op.dst = kiln_tensor_make(out, 0, KILN_TYPE_F32, sm, sn, 1, 1);
    KILN_TRY(kiln_check_reference(&op));
    const float *ref = kiln_buffer_host_ptr(out);
    for (int64_t j = 0; j < sn; j++) {
        for (int64_t i = 0; i < sm; i++) {
            const float got = y[(j * step_n) * c->m + i * step_m];
            accumulate(st, &got, &ref[j * sm + i], 1);
        }
    }
    return KILN_OK;
}

// Reference rows for 3 heads x 3 queries: each a one-query attention on the head's K/V views.
static enum kiln_status check_attention(struct bench_state *b, const float *o, struct sample_stats *st) {
    const struct kiln_bench_case *c = b->c;
    const int64_t heads[3] = { 0, c->h / 2, c->h - 1 }, queries[3] = { 0, c->q / 2, c->q - 1 };
    struct kiln_buffer *out;
    KILN_TRY(alloc(b, b->cpu, sizeof(float) * (size_t)c->d, &out));
    for (int a = 0; a < 3; a++) {
        for (int q = 0; q < 3; q++) {
            if ((a > 0 && heads[a] == heads[a - 1]) || (q > 0 && queries[q] == queries[q - 1]))
                continue;
            const int64_t h = heads[a], i = queries[q], g = h / (c->h / c->h_kv);
            struct kiln_op op = b->host;
            op.src[0].ne[1] = op.src[0].ne[2] = 1;
            op.src[0].offset = (size_t)i * op.src[0].nb[1] + (size_t)h * op.src[0].nb[2];
            for (int t = 1; t < 3; t++) {
                op.src[t].ne[2] = 1;
                op.src[t].offset = (size_t)g * op.src[t].nb[2];
            }
            op.params.attention.pos0 = (int32_t)(c->kv - c->q + i);
            op.dst = kiln_tensor_make(out, 0, KILN_TYPE_F32, c->d, 1, 1, 1);
            KILN_TRY(kiln_check_reference(&op));
            accumulate(st, o + (h * c->q + i) * c->d, kiln_buffer_host_ptr(out), c->d);
        }
    }
    return KILN_OK;
}

static enum kiln_status check_dequant(struct bench_state *b, const void *got, struct sample_stats *st) {
    const struct kiln_bench_case *c = b->c;
    float *ref = malloc(sizeof(float) * (size_t)c->k), *g = malloc(sizeof(float) * (size_t)c->k);
    if (!ref || !g) {
        free(ref);
        free(g);
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    }
    const kiln_to_float_fn out_to_float = kiln_type_traits(c->out_type)->to_float;
    const size_t out_row = kiln_row_size(c->out_type, c->k);
    for (int64_t r = 0; r < c->m; r++) {
        kiln_type_traits(c->type)->to_float(kiln_tensor_row(&b->host.src[0], r), ref, c->k);
        out_to_float((const char *)got + (size_t)r * out_row, g, c->k);
        accumulate(st, g, ref, c->k);
    }
    free(ref);
    free(g);
    return KILN_OK;
}

// One run of op: through dispatch, or the case's own row (a comparator).
static enum kiln_status run_op(struct bench_state *b, const struct kiln_op *op, struct kiln_path *path) {
    if (!b->c->kernel)
        return kiln_op_run(b->s, op, path);
    if (path) {
        kiln_kernel_name(b->c->kernel, kiln_op_key_type(op), op->dst.type, path->name, sizeof path->name);
        path->kernel = b->c->kernel;
    }
    return kiln_op_launch(b->s, b->c->kernel, op);
}

static enum kiln_status check(struct bench_state *b, struct kiln_bench_entry *e) {
    struct kiln_path path = { 0 };
    KILN_TRY(run_op(b, &b->ops[0], &path));
    snprintf(e->label, sizeof e->label, "%s", path.name);
    const struct kiln_tensor *dst = &b->ops[0].dst;
    const size_t size = kiln_buffer_size(dst->buffer);
    void *got = malloc(size);
    if (!got)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    enum kiln_status st = kiln_buffer_download(b->s, dst->buffer, 0, got, size);
    struct sample_stats ss = { 0 };
    if (st == KILN_OK)
        st = b->c->op == KILN_OP_MATMUL      ? check_matmul(b, got, &ss)
             : b->c->op == KILN_OP_ATTENTION ? check_attention(b, got, &ss)
                                             : check_dequant(b, got, &ss);
    free(got);
    KILN_TRY(st);
    e->nmse = ss.ref2 > 0 ? ss.err2 / ss.ref2 : ss.err2;
    // The pre-timing gate compares with the exact reference only, so a row that rounds its inputs
    // gets its class's Gaussian-input bound (tolerance.h); `kiln ops` is the tight judge.
    const struct kiln_ceiling cl = kiln_ceiling_for(&b->ops[0], b->c->type, path.kernel);
    const double ceiling = cl.exact_nmse;
    // Rows that round their inputs to f16 run on tensor cores (gemm_tc, mma, fa2, cuBLAS): their
    // peak is the matrix unit's where the device measured one (kiln_roofline_peak falls back).
    if (cl.rounding == KILN_ROUND_X_F16 || cl.rounding == KILN_ROUND_WX_F16 || cl.rounding == KILN_ROUND_Q_F16 ||
        cl.rounding == KILN_ROUND_X_BF16)  // (the CPU's vdpbf16ps GEMM too: no tensor peak there, so FMA)
        e->peak = KILN_PEAK_TENSOR;
    if (!(e->nmse <= ceiling)) {
        e->error = true;
        snprintf(e->message, sizeof e->message, "check failed: NMSE %.3g above %.3g; not timed",
                 e->nmse, ceiling);
    }
    return KILN_OK;
}

// ---- timing ----

static enum kiln_status body(void *arg, int64_t i) {
    struct bench_state *b = arg;
    return run_op(b, &b->ops[i % b->sets], NULL);
}

// Whether kiln can make inputs of this case's type at all (before allocating anything).
static enum kiln_status feasible(const struct kiln_bench_case *c) {
    if (!kiln_type_can_quantize(c->type) || !kiln_type_can_dequantize(c->type))
        return kiln_fail(KILN_E_UNSUPPORTED, "kiln cannot write and read %s tensors yet",
                         kiln_type_name(c->type));
    const int64_t row = c->op == KILN_OP_ATTENTION ? c->d : c->k;
    if (row % kiln_type_block_size(c->type))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s rows hold blocks of %d, the shape has %" PRId64,
                         kiln_type_name(c->type), kiln_type_block_size(c->type), row);
    return KILN_OK;
}

static enum kiln_status run(struct bench_state *b, const struct kiln_bench_config *cfg,
                            struct kiln_bench_entry *e) {
    enum kiln_status st = feasible(b->c);
    if (st == KILN_OK)
        st = build(b, e, cfg->cache_hot);
    if (st == KILN_OK)
        st = check(b, e);
    if (st == KILN_E_UNSUPPORTED || st == KILN_E_INVALID) {
        e->skipped = true;  // e.g. a type this device has no kernel for: say so, time nothing
        snprintf(e->message, sizeof e->message, "skipped: %s", kiln_last_error());
        return KILN_OK;
    }
    if (st != KILN_OK || e->error)
        return st;
    return kiln_bench_measure(b->s, cfg, body, b, &e->r);
}

enum kiln_status kiln_bench_run(struct kiln_stream *s, const struct kiln_bench_case *c,
                                const struct kiln_bench_config *cfg, struct kiln_bench_entry *e) {
    memset(e, 0, sizeof *e);
    e->c = *c;
    e->device = kiln_device_info(kiln_stream_device(s))->name;
    kiln_bench_case_name(c, e->device, e->run_name, sizeof e->run_name);
    if (cfg->cache_hot) {  // a different measurement: never compared with the streaming one
        const size_t len = strlen(e->run_name);
        snprintf(e->run_name + len, sizeof e->run_name - len, "/hot");
    }
    struct bench_state *b = calloc(1, sizeof *b);
    if (!b)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    b->s = s;
    b->c = &e->c;
    b->dev = kiln_stream_device(s);
    b->cpu = kiln_device_find("cpu");
    const enum kiln_status st = b->cpu ? run(b, cfg, e)
                                       : kiln_fail(KILN_E_UNSUPPORTED, "bench: the CPU backend "
                                                   "(the reference) is not running");
    kiln_stream_sync(s);
    for (int i = 0; i < b->n_owned; i++)
        kiln_buffer_free(b->owned[i]);
    free(b);
    return st;
}
