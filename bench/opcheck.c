// Cross-backend kernel checks (opcheck.h).
#include "bench/opcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernel.h"
#include "bench/rng.h"
#include "bench/tolerance.h"

enum { GUARD = 256, ROW_PAD = 48, MAX_TENSORS = 4 };

// One tensor of a case: its host copy (the reference works on it) and its device copy.
struct slot {
    enum kiln_type type;
    int64_t ne[4];
    bool transposed;              // memory order [ne0, ne2, ne1]: the runner's q/out views
    struct kiln_buffer *host_buf, *dev_buf;
    struct kiln_tensor host, dev;
    size_t span;
};

struct check {
    struct kiln_check_case c;
    struct kiln_op op;            // as run on the device
    struct kiln_op ref_op;        // the same on host tensors
    struct slot slots[MAX_TENSORS];  // [0] = dst, then the sources
    int n_slots;
    struct kiln_device *cpu;
    struct kiln_stream *s;
    struct kiln_rng rng;
};

// Bytes a kernel must never leave behind: NaN for float outputs, 0xFF (an fp16 NaN scale) for
// blocks. Element-sized so that every element boundary sees a whole pattern.
static void pattern_fill(enum kiln_type type, void *dst, size_t size) {
    uint8_t *p = dst;
    if (type == KILN_TYPE_F32) {
        static const uint8_t nan32[4] = { 0xAD, 0xDE, 0xC0, 0x7F };
        for (size_t i = 0; i < size; i++)
            p[i] = nan32[i % 4];
    } else if (type == KILN_TYPE_F16 || type == KILN_TYPE_BF16) {
        static const uint8_t nan16[2][2] = { { 0x01, 0x7E }, { 0xC1, 0x7F } };
        const uint8_t *pat = nan16[type == KILN_TYPE_BF16];
        for (size_t i = 0; i < size; i++)
            p[i] = pat[i % 2];
    } else {
        memset(p, 0xFF, size);
    }
}

static bool pattern_intact(enum kiln_type type, const uint8_t *p, size_t size) {
    uint8_t ref[64];
    pattern_fill(type, ref, sizeof ref);
    for (size_t i = 0; i < size; i++) {
        if (p[i] != ref[i % 4])  // 4 is a multiple of every pattern period
            return false;
    }
    return true;
}

static struct kiln_tensor make_view(const struct slot *sl, struct kiln_buffer *buf, size_t offset,
                                    bool padded) {
    struct kiln_tensor t = kiln_tensor_make(buf, offset, sl->type, sl->ne[0], sl->ne[1], sl->ne[2],
                                            sl->ne[3]);
    const size_t row = kiln_row_size(sl->type, sl->ne[0]) + (padded ? ROW_PAD : 0);
    if (sl->transposed) {  // dim 2 is the inner one in memory
        t.nb[2] = row;
        t.nb[1] = row * (size_t)sl->ne[2];
        t.nb[3] = t.nb[1] * (size_t)sl->ne[1];
    } else {
        t.nb[1] = row;
        t.nb[2] = row * (size_t)sl->ne[1];
        t.nb[3] = t.nb[2] * (size_t)sl->ne[2];
    }
    return t;
}

static struct slot *add_slot(struct check *k, enum kiln_type type, int64_t ne0, int64_t ne1,
                             int64_t ne2, bool transposed) {
    struct slot *sl = &k->slots[k->n_slots++];
    memset(sl, 0, sizeof *sl);
    sl->type = type;
    sl->ne[0] = ne0;
    sl->ne[1] = ne1;
    sl->ne[2] = ne2;
    sl->ne[3] = 1;
    sl->transposed = transposed;
    return sl;
}

// Fills every row of a host tensor: N(0, sigma) quantized to the type, or integers in
// [0, int_range) for i32.
static void fill_random(struct check *k, struct slot *sl, float sigma, int32_t int_range) {
    const int64_t n = sl->ne[0], rows = kiln_tensor_nrows(&sl->host);
    if (sl->type == KILN_TYPE_I32) {
        for (int64_t r = 0; r < rows; r++) {
            int32_t *row = kiln_tensor_row(&sl->host, r);
            for (int64_t i = 0; i < n; i++)
                row[i] = (int32_t)(kiln_rng_next(&k->rng) % (uint64_t)int_range);
        }
        return;
    }
    float *tmp = malloc((size_t)n * sizeof(float));
    const kiln_from_float_fn from_float = kiln_type_traits(sl->type)->from_float;
    for (int64_t r = 0; r < rows; r++) {
        kiln_rng_fill_normal(&k->rng, tmp, n, sigma);
        from_float(tmp, kiln_tensor_row(&sl->host, r), n);
    }
    free(tmp);
}

// Allocates the host and device copies of every slot; sources get random data.
static enum kiln_status materialise(struct check *k, float sigma, int32_t int_range) {
    const bool padded = k->c.strided;
    for (int i = 0; i < k->n_slots; i++) {
        struct slot *sl = &k->slots[i];
        struct kiln_tensor probe = make_view(sl, NULL, 0, padded);
        sl->span = kiln_tensor_span(&probe);
        KILN_TRY(kiln_buffer_alloc(k->cpu, sl->span, &sl->host_buf));
        pattern_fill(sl->type, kiln_buffer_host_ptr(sl->host_buf), sl->span);
        sl->host = make_view(sl, sl->host_buf, 0, padded);
        if (i > 0)
            fill_random(k, sl, sigma, int_range);

        struct kiln_device *dev = kiln_stream_device(k->s);
        const size_t total = GUARD + sl->span + GUARD;
        KILN_TRY(kiln_buffer_alloc(dev, total, &sl->dev_buf));
        uint8_t *image = malloc(total);
        if (!image)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        pattern_fill(sl->type, image, total);
        memcpy(image + GUARD, kiln_buffer_host_ptr(sl->host_buf), sl->span);
        enum kiln_status st = kiln_buffer_upload(k->s, sl->dev_buf, 0, image, total);
        free(image);
        KILN_TRY(st);
        sl->dev = make_view(sl, sl->dev_buf, GUARD, padded);
    }
    k->op.dst = k->slots[0].dev;
    k->ref_op.dst = k->slots[0].host;
    k->op.n_src = k->ref_op.n_src = k->n_slots - 1;
    for (int i = 1; i < k->n_slots; i++) {
        k->op.src[i - 1] = k->slots[i].dev;
        k->ref_op.src[i - 1] = k->slots[i].host;
    }
    return KILN_OK;
}

// Builds the op and its tensors for case c.
static enum kiln_status build(struct check *k) {
    const struct kiln_check_case *c = &k->c;
    k->op.kind = k->ref_op.kind = c->op;
    float sigma = 1.0f;
    int32_t int_range = 1;
    switch (c->op) {
    case KILN_OP_MATMUL:
        add_slot(k, KILN_TYPE_F32, c->m, c->n, 1, false);
        add_slot(k, c->src_type, c->k, c->m, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        break;
    case KILN_OP_ATTENTION:
        add_slot(k, KILN_TYPE_F32, c->d, c->n_q, c->h, c->strided);
        add_slot(k, KILN_TYPE_F32, c->d, c->n_q, c->h, c->strided);
        add_slot(k, c->src_type, c->d, c->n_kv, c->h_kv, false);
        add_slot(k, c->src_type, c->d, c->n_kv, c->h_kv, false);
        k->op.params.attention = (struct kiln_attention_params){
            .scale = 1.0f / sqrtf((float)c->d), .pos0 = (int32_t)c->pos0, .causal = c->causal };
        break;
    case KILN_OP_DEQUANT:
    case KILN_OP_COPY:
        add_slot(k, c->dst_type, c->k, c->n, 1, false);
        add_slot(k, c->src_type, c->k, c->n, 1, false);
        break;
    case KILN_OP_RMSNORM:
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, 1, 1, false);
        sigma = 3.0f;
        k->op.params.rmsnorm.eps = 1e-5f;
        break;
    case KILN_OP_ROPE:
        add_slot(k, KILN_TYPE_F32, c->k, c->h, c->n, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->h, c->n, false);
        add_slot(k, KILN_TYPE_I32, c->n, 1, 1, false);
        int_range = 32768;
        k->op.params.rope = (struct kiln_rope_params){
            .mode = (enum kiln_rope_mode)c->rope_mode,
            .n_dims = (int32_t)(c->rope_dims ? c->rope_dims : c->k), .theta_base = 10000.0f };
        break;
    case KILN_OP_SWIGLU:
    case KILN_OP_ADD:
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        sigma = 2.0f;
        break;
    case KILN_OP_GET_ROWS:
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, c->src_type, c->k, c->m, 1, false);
        add_slot(k, KILN_TYPE_I32, c->n, 1, 1, false);
        int_range = (int32_t)c->m;
        break;
    case KILN_OP_COUNT:
        return kiln_fail(KILN_E_INVALID, "check: unknown op");
    }
    k->ref_op.params = k->op.params;
    return materialise(k, sigma, int_range);
}

static enum kiln_status run_reference(struct check *k) { return kiln_check_reference(&k->ref_op); }

enum kiln_status kiln_check_reference(const struct kiln_op *op) {
    struct kiln_device *cpu = kiln_device_find("cpu");
    if (!cpu)
        return kiln_fail(KILN_E_UNSUPPORTED, "the CPU backend (the reference) is not running");
    for (int i = 0; i < kiln_kernel_count(cpu); i++) {
        const struct kiln_kernel *row = kiln_kernel_get(cpu, i);
        if (row->tier != KILN_TIER_REF || !kiln_kernel_matches(row, op))
            continue;
        const struct kiln_cpu_kernel *impl = row->impl;
        const size_t ws_size = impl->workspace ? impl->workspace(op, 1) : 0;
        void *ws = ws_size ? malloc(ws_size) : NULL;
        if (ws_size && !ws)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        if (impl->prepare)
            impl->prepare(op, ws, 0, 1);
        impl->compute(op, ws, 0, 1);
        free(ws);
        return KILN_OK;
    }
    return kiln_fail(KILN_E_UNSUPPORTED, "no reference kernel for %s on %s", kiln_op_name(op->kind),
                     kiln_type_name(kiln_op_key_type(op)));
}

// Compares the device's output (whole buffer in `got`) with the host reference.
static void compare(struct check *k, const uint8_t *got, struct kiln_check_result *out) {
    const struct slot *d = &k->slots[0];
    out->guards_ok = pattern_intact(d->type, got, GUARD) &&
                     pattern_intact(d->type, got + GUARD + d->span, GUARD);
    const size_t row_bytes = kiln_row_size(d->type, d->ne[0]);
    const int64_t rows = kiln_tensor_nrows(&d->host), n = d->ne[0];
    const kiln_to_float_fn to_float = kiln_type_traits(d->type)->to_float;
    float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
    double err2 = 0.0, ref2 = 0.0;
    out->max_abs_err = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const size_t off = (size_t)((const uint8_t *)kiln_tensor_row(&d->host, r) -
                                    (const uint8_t *)kiln_buffer_host_ptr(d->host_buf));
        const uint8_t *dev_row = got + GUARD + off;
        if (k->c.strided && off + row_bytes + ROW_PAD <= d->span &&
            !pattern_intact(d->type, dev_row + row_bytes, ROW_PAD))
            out->guards_ok = false;  // wrote into the gap between two rows
        to_float(dev_row, a, n);
        to_float(kiln_tensor_row(&d->host, r), b, n);
        for (int64_t i = 0; i < n; i++) {
            const double e = (double)a[i] - (double)b[i];
            err2 += e * e;
            ref2 += (double)b[i] * b[i];
            if (!(fabs(e) <= out->max_abs_err))  // NaN-safe: a NaN makes the max NaN
                out->max_abs_err = fabs(e);
        }
    }
    free(a);
    free(b);
    out->nmse = ref2 > 0.0 ? err2 / ref2 : err2;
    out->pass = out->guards_ok && out->nmse <= out->ceiling;
    if (!out->guards_ok)
        snprintf(out->note, sizeof out->note, "wrote outside its output view");
    else if (isnan(out->nmse))
        snprintf(out->note, sizeof out->note, "NaN in the output (an element left unwritten?)");
    else if (!out->pass)
        snprintf(out->note, sizeof out->note, "NMSE %.3g above the ceiling %.3g", out->nmse,
                 out->ceiling);
}

static void release(struct check *k) {
    for (int i = 0; i < k->n_slots; i++) {
        kiln_buffer_free(k->slots[i].host_buf);
        kiln_buffer_free(k->slots[i].dev_buf);
    }
}

static enum kiln_status run(struct check *k, const struct kiln_kernel *kernel,
                            struct kiln_check_result *out) {
    KILN_TRY(build(k));
    KILN_TRY(run_reference(k));
    if (kernel && kernel->w_layout != KILN_LAYOUT_ROWS) {
        // The row reads repacked weights: the device copy of W is rearranged from the host
        // copy (rows), which the reference reads as it is.
        struct kiln_tensor w = k->op.src[0];
        w.layout = kernel->w_layout;
        if (kiln_layout_fits(w.layout, &w) != KILN_OK) {
            snprintf(out->note, sizeof out->note, "declined: %s", kiln_last_error());
            return KILN_OK;
        }
        KILN_TRY(kiln_weight_upload(k->s, &w, kiln_buffer_host_ptr(k->slots[1].host_buf)));
        k->op.src[0] = w;
    }
    enum kiln_status st = kernel ? kiln_op_launch(k->s, kernel, &k->op)
                                 : kiln_matmul_fallback(k->s, &k->op, NULL, NULL, NULL);
    if (st == KILN_E_UNSUPPORTED) {
        snprintf(out->note, sizeof out->note, "declined: %s", kiln_last_error());
        return KILN_OK;
    }
    KILN_TRY(st);
    const struct slot *d = &k->slots[0];
    const size_t total = GUARD + d->span + GUARD;
    uint8_t *got = malloc(total);
    if (!got)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    st = kiln_buffer_download(k->s, d->dev_buf, 0, got, total);
    if (st == KILN_OK) {
        out->ran = true;
        compare(k, got, out);
    }
    free(got);
    return st;
}

enum kiln_status kiln_check_run(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_check_case *c, uint64_t seed,
                                struct kiln_check_result *out) {
    memset(out, 0, sizeof *out);
    out->ceiling = kiln_tolerance_for_kernel(c->op, kiln_check_case_tolerance_type(c), kernel);
    struct check *k = calloc(1, sizeof *k);
    if (!k)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    k->c = *c;
    k->s = s;
    k->rng = kiln_rng_seed(seed);
    k->cpu = kiln_device_find("cpu");
    enum kiln_status st = k->cpu ? run(k, kernel, out)
                                 : kiln_fail(KILN_E_UNSUPPORTED, "check: the CPU backend (the "
                                             "reference) is not running");
    release(k);
    free(k);
    return st;
}
