// Cross-backend kernel checks (opcheck.h).
#include "bench/check/opcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernel.h"
#include "bench/check/opcheck_dump.h"
#include "bench/check/opcheck_inputs.h"
#include "bench/check/opcheck_rounding.h"
#include "quant/synth/rng.h"
#include "bench/check/tolerance.h"
#include "quant/format/blocks.h"

enum { GUARD = 256, ROW_PAD = 48, MAX_TENSORS = 4 };

// One tensor of a case: its host copy (the reference works on it) and its device copy.
struct slot {
    enum kiln_type type;
    int64_t ne[4];
    bool transposed;              // memory order [ne0, ne2, ne1]: the runner's q/out views
    struct kiln_buffer *host_buf, *dev_buf;
    struct kiln_tensor host, dev;
    size_t span;
    size_t dev_off;               // where the device view starts: GUARD (+ the case's offset)
    float sigma;                  // the random values' spread (0: the op's default)
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
    uint64_t seed;                // the rng's seed: with the case, it decides every input
    struct kiln_ceiling ceiling;
    struct kiln_buffer *round_buf;  // the rounding-aware reference's output (rounding rows)
    struct kiln_tensor round_ref;
    double bound2;                // the most error energy the row's rounding can add
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

// True if [p, p + size) still holds the pattern; `phase` is p's distance from a pattern start.
static bool pattern_intact(enum kiln_type type, const uint8_t *p, size_t size, size_t phase) {
    uint8_t ref[64];
    pattern_fill(type, ref, sizeof ref);
    for (size_t i = 0; i < size; i++) {
        if (p[i] != ref[(i + phase) % 4])  // 4 is a multiple of every pattern period
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

// The memo's key for one random tensor: everything that decides its bytes (opcheck_inputs.h).
struct input_key {
    char tag[8];              // "input"
    enum kiln_type type;
    int32_t pad;              // zero: keys are compared as bytes
    int64_t n, rows;
    double sigma;
    uint64_t rng_before;      // the generator's state when the tensor is asked for
};

// Fills every row of a host tensor (or copies them from the memo, opcheck_inputs.h): N(0, sigma) quantized to the type, with the edges kernels
// get wrong planted in some rows: an all-zero first block (every 4th row from 1: amax = 0, a
// scale of 0), an outlier x30 (every 4th from 2: one block's scale far from the rest), and in
// Q8_0 rows a code of -128 (every 3rd: the reference quantizer never makes it, files may hold
// it). i32 tensors get integers in [0, int_range) with 0 first and int_range - 1 last.
static void fill_random(struct check *k, struct slot *sl, float sigma, int32_t int_range) {
    const int64_t n = sl->ne[0], rows = kiln_tensor_nrows(&sl->host);
    if (sl->type == KILN_TYPE_I32) {
        for (int64_t r = 0; r < rows; r++) {
            int32_t *row = kiln_tensor_row(&sl->host, r);
            for (int64_t i = 0; i < n; i++)
                row[i] = (int32_t)(kiln_rng_next(&k->rng) % (uint64_t)int_range);
            row[0] = 0;
            if (n > 1)
                row[n - 1] = int_range - 1;
        }
        return;
    }
    const float spread = sl->sigma > 0.0f ? sl->sigma : sigma;
    struct input_key key;
    memset(&key, 0, sizeof key);
    memcpy(key.tag, "input", 6);
    key.type = sl->type;
    key.n = n;
    key.rows = rows;
    key.sigma = spread;
    key.rng_before = k->rng.state;
    const size_t row_bytes = kiln_row_size(sl->type, n);
    const uint8_t *kept;
    size_t kept_size;
    if (kiln_memo_find(&key, sizeof key, &kept, &kept_size, &k->rng.state)) {
        for (int64_t r = 0; r < rows; r++)
            memcpy(kiln_tensor_row(&sl->host, r), kept + (size_t)r * row_bytes, row_bytes);
        return;
    }
    float *tmp = malloc((size_t)n * sizeof(float));
    const kiln_from_float_fn from_float = kiln_type_traits(sl->type)->from_float;
    for (int64_t r = 0; r < rows; r++) {
        kiln_rng_fill_normal_pairs(&k->rng, tmp, n, spread);
        if (r % 4 == 1)
            memset(tmp, 0, (size_t)(n < 32 ? n : 32) * sizeof(float));
        else if (r % 4 == 2)
            tmp[(r * 7919) % n] *= 30.0f;
        void *dst = kiln_tensor_row(&sl->host, r);
        from_float(tmp, dst, n);
        if (sl->type == KILN_TYPE_Q8_0 && r % 3 == 0)
            ((struct kiln_block_q8_0 *)dst)[0].qs[0] = -128;
    }
    free(tmp);
    uint8_t *rows_copy = malloc((size_t)rows * row_bytes);
    if (rows_copy) {  // the memo keeps the rows packed; the view may be strided
        for (int64_t r = 0; r < rows; r++)
            memcpy(rows_copy + (size_t)r * row_bytes, kiln_tensor_row(&sl->host, r), row_bytes);
        kiln_memo_keep(&key, sizeof key, rows_copy, (size_t)rows * row_bytes, k->rng.state);
        free(rows_copy);
    }
}

// Extra bytes before a device view in offset cases: past 16-byte alignment, but still a whole
// element (4 for f32/i32, 2 for f16/bf16 and for blocks, which start with an f16 scale).
static size_t odd_offset(enum kiln_type type) {
    return type == KILN_TYPE_F32 || type == KILN_TYPE_I32 ? 4 : 2;
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
        sl->dev_off = GUARD + (k->c.offset ? odd_offset(sl->type) : 0);
        const size_t total = sl->dev_off + sl->span + GUARD;
        KILN_TRY(kiln_buffer_alloc(dev, total, &sl->dev_buf));
        uint8_t *image = malloc(total);
        if (!image)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        pattern_fill(sl->type, image, total);
        memcpy(image + sl->dev_off, kiln_buffer_host_ptr(sl->host_buf), sl->span);
        enum kiln_status st = kiln_buffer_upload(k->s, sl->dev_buf, 0, image, total);
        free(image);
        KILN_TRY(st);
        sl->dev = make_view(sl, sl->dev_buf, sl->dev_off, padded);
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
    case KILN_OP_MATMUL: {
        const int64_t b = c->batch > 1 ? c->batch : 1;
        add_slot(k, KILN_TYPE_F32, c->m, c->n, b, c->permuted);
        add_slot(k, c->src_type, c->k, c->m, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, b, c->permuted);
        break;
    }
    case KILN_OP_ATTENTION:
        add_slot(k, KILN_TYPE_F32, c->d, c->n_q, c->h, c->strided);
        // q of a hot case: scores q.k/sqrt(D) ~ N(0, 40^2), so max |score| ~ 150: exp() of an
        // unshifted score overflows f32 (above 88.7), as long prompts' scores can.
        add_slot(k, KILN_TYPE_F32, c->d, c->n_q, c->h, c->strided)->sigma = c->hot ? 40.0f : 0.0f;
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
        if (c->rope_ff) {  // Llama 3's three regimes: 1 (high frequencies), smooth, the factor (8)
            struct kiln_rope_params *rp = &k->op.params.rope;
            rp->has_freq_factors = true;
            for (int i = 0; i < rp->n_dims / 2; i++)
                rp->freq_factors[i] = i < rp->n_dims / 8 ? 1.0f : i < rp->n_dims / 4 ? 1.0f + 0.37f * (float)i : 8.0f;
        }
        break;
    case KILN_OP_SWIGLU:
    case KILN_OP_ADD:
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->n, 1, false);
        add_slot(k, KILN_TYPE_F32, c->k, c->broadcast ? 1 : c->n, 1, false);
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
    KILN_TRY(materialise(k, sigma, int_range));
    if (c->broadcast) {  // b's one row read for every row, as kiln_add broadcasts a bias (ops.c)
        for (int d = 1; d < 4; d++) {
            k->op.src[1].ne[d] = k->ref_op.src[1].ne[d] = k->op.src[0].ne[d];
            k->op.src[1].nb[d] = k->ref_op.src[1].nb[d] = 0;
        }
    }
    return KILN_OK;
}

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

// ---- batch slices: kernels see 2-D matmuls (ops.h); the entry point splits dims 2 and 3 ----

static int64_t n_slices(const struct kiln_op *op) {
    return op->kind == KILN_OP_MATMUL ? op->src[1].ne[2] * op->src[1].ne[3] : 1;
}

static struct kiln_op slice_of(const struct kiln_op *op, int64_t b) {
    struct kiln_op sub = *op;
    if (op->kind != KILN_OP_MATMUL || n_slices(op) == 1)
        return sub;
    const int64_t i2 = b % op->src[1].ne[2], i3 = b / op->src[1].ne[2];
    sub.src[1].offset += (size_t)i2 * op->src[1].nb[2] + (size_t)i3 * op->src[1].nb[3];
    sub.dst.offset += (size_t)i2 * op->dst.nb[2] + (size_t)i3 * op->dst.nb[3];
    sub.src[1].ne[2] = sub.src[1].ne[3] = sub.dst.ne[2] = sub.dst.ne[3] = 1;
    return sub;
}

// The memo's key for a reference output: the case and the seed decide the inputs (fill_random),
// and with the rounding (KILN_ROUND_NONE: the exact reference) they decide the output.
struct reference_key {
    char tag[8];              // "ref"
    uint64_t seed;
    int64_t dims[12];
    int32_t flags[12];
};

static struct reference_key reference_key_of(const struct check *k, int rounding) {
    const struct kiln_check_case *c = &k->c;
    struct reference_key key;
    memset(&key, 0, sizeof key);
    memcpy(key.tag, "ref", 4);
    key.seed = k->seed;
    const int64_t dims[12] = { c->m, c->n, c->k, c->d, c->n_q, c->n_kv, c->h, c->h_kv, c->pos0,
                               c->batch, (int64_t)k->slots[0].span, 0 };
    const int32_t flags[12] = { c->op, c->src_type, c->dst_type, c->causal, c->strided,
                                c->rope_mode, c->rope_dims, c->permuted, c->hot, c->broadcast,
                                c->rope_ff, rounding };
    memcpy(key.dims, dims, sizeof dims);
    memcpy(key.flags, flags, sizeof flags);
    return key;
}

// The exact reference, and for a row that rounds its inputs the rounding-aware one too; each
// made once per case and seed in a run (opcheck_inputs.h), since every row of a type asks.
static enum kiln_status run_references(struct check *k) {
    const struct slot *d = &k->slots[0];
    uint8_t *out = kiln_buffer_host_ptr(d->host_buf);
    struct reference_key key = reference_key_of(k, KILN_ROUND_NONE);
    const uint8_t *kept;
    size_t kept_size;
    uint64_t extra;
    if (kiln_memo_find(&key, sizeof key, &kept, &kept_size, &extra) && kept_size == d->span) {
        memcpy(out, kept, d->span);
    } else {
        for (int64_t b = 0; b < n_slices(&k->ref_op); b++) {
            const struct kiln_op sub = slice_of(&k->ref_op, b);
            KILN_TRY(kiln_check_reference(&sub));
        }
        kiln_memo_keep(&key, sizeof key, out, d->span, 0);
    }
    if (k->ceiling.rounding == KILN_ROUND_NONE)
        return KILN_OK;
    KILN_TRY(kiln_buffer_alloc(k->cpu, d->span, &k->round_buf));
    uint8_t *rounded = kiln_buffer_host_ptr(k->round_buf);
    k->round_ref = make_view(d, k->round_buf, 0, k->c.strided);
    key = reference_key_of(k, (int)k->ceiling.rounding);
    if (kiln_memo_find(&key, sizeof key, &kept, &kept_size, &extra) && kept_size == d->span) {
        memcpy(rounded, kept, d->span);
        memcpy(&k->bound2, &extra, sizeof extra);
        return KILN_OK;
    }
    pattern_fill(d->type, rounded, d->span);
    struct kiln_op rop = k->ref_op;
    rop.dst = k->round_ref;
    k->bound2 = 0.0;
    for (int64_t b = 0; b < n_slices(&rop); b++) {
        const struct kiln_op sub = slice_of(&rop, b);
        double bound = 0.0;
        if (sub.kind == KILN_OP_ATTENTION)
            KILN_TRY(kiln_check_rounded_attention(k->cpu, &sub, k->ceiling.rounding, &sub.dst, &bound));
        else
            KILN_TRY(kiln_check_rounded_matmul(k->cpu, &sub, k->ceiling.rounding, &sub.dst, &bound));
        k->bound2 += bound;
    }
    memcpy(&extra, &k->bound2, sizeof extra);
    kiln_memo_keep(&key, sizeof key, rounded, d->span, extra);
    return KILN_OK;
}

// ---- the verdict ----

struct diff {
    double err2, ref2, max_abs;
    double worst_row, worst_col;  // error energy over the unit's own (floored) reference energy
    double worst_elem;            // squared error over the mean element energy
    int64_t row_at, col_at, elem_row, elem_col;
    double elem_got, elem_ref;
};

// Compares the device's output (the whole downloaded buffer, `got`) with a host reference laid
// out as the host copy of the output.
static void diff_against(const struct check *k, const uint8_t *got, const struct kiln_tensor *ref,
                         struct diff *out) {
    const struct slot *d = &k->slots[0];
    const int64_t rows = kiln_tensor_nrows(&d->host), n = d->ne[0];
    const kiln_to_float_fn to_float = kiln_type_traits(d->type)->to_float;
    float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
    double *col_err = calloc((size_t)n, sizeof(double)), *row_err = calloc((size_t)rows, sizeof(double));
    double *col_ref = calloc((size_t)n, sizeof(double)), *row_ref = calloc((size_t)rows, sizeof(double));
    memset(out, 0, sizeof *out);
    double max_e2 = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const size_t off = (size_t)((const uint8_t *)kiln_tensor_row(&d->host, r) -
                                    (const uint8_t *)kiln_buffer_host_ptr(d->host_buf));
        to_float(got + d->dev_off + off, a, n);
        to_float(kiln_tensor_row(ref, r), b, n);
        for (int64_t i = 0; i < n; i++) {
            const double e = (double)a[i] - (double)b[i], e2 = e * e;
            out->err2 += e2;
            out->ref2 += (double)b[i] * b[i];
            row_err[r] += e2;
            col_err[i] += e2;
            row_ref[r] += (double)b[i] * b[i];
            col_ref[i] += (double)b[i] * b[i];
            if (!isnan(max_e2) && !(e2 <= max_e2)) {  // the first NaN stays the worst element
                max_e2 = e2;
                out->elem_row = r;
                out->elem_col = i;
                out->elem_got = a[i];
                out->elem_ref = b[i];
            }
        }
    }
    // A row's (column's) error over its own reference energy, floored at 1% of the mean row's
    // (column's) so that a row the inputs made near zero is not held to its own tiny scale; an
    // element's over the mean element energy (its own is often near zero). 1 if the reference
    // is all zero, so that any error still counts.
    const double ref2 = out->ref2 > 0.0 ? out->ref2 : 1.0;
    const double per_row = ref2 / (double)rows, per_col = ref2 / (double)n;
    const double per_elem = ref2 / ((double)rows * (double)n);
    for (int64_t r = 0; r < rows; r++) {
        const double v = row_err[r] / fmax(row_ref[r], 0.01 * per_row);
        if (!(v <= out->worst_row)) {
            out->worst_row = v;
            out->row_at = r;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        const double v = col_err[i] / fmax(col_ref[i], 0.01 * per_col);
        if (!(v <= out->worst_col)) {
            out->worst_col = v;
            out->col_at = i;
        }
    }
    out->worst_elem = max_e2 / per_elem;
    out->max_abs = sqrt(max_e2);
    free(a);
    free(b);
    free(col_err);
    free(row_err);
    free(col_ref);
    free(row_ref);
}

static bool guards_intact(const struct check *k, const uint8_t *got) {
    const struct slot *d = &k->slots[0];
    if (!pattern_intact(d->type, got, d->dev_off, 0) ||
        !pattern_intact(d->type, got + d->dev_off + d->span, GUARD, d->dev_off + d->span))
        return false;
    if (!k->c.strided)
        return true;
    const size_t row_bytes = kiln_row_size(d->type, d->ne[0]);
    for (int64_t r = 0; r < kiln_tensor_nrows(&d->host); r++) {
        const size_t off = (size_t)((const uint8_t *)kiln_tensor_row(&d->host, r) -
                                    (const uint8_t *)kiln_buffer_host_ptr(d->host_buf));
        if (off + row_bytes + ROW_PAD <= d->span &&
            !pattern_intact(d->type, got + d->dev_off + off + row_bytes, ROW_PAD,
                            d->dev_off + off + row_bytes))
            return false;  // wrote into the gap between two rows
    }
    return true;
}

static void verdict(struct check *k, const uint8_t *got, struct kiln_check_result *out) {
    const bool rounding = k->ceiling.rounding != KILN_ROUND_NONE;
    struct diff t, x;
    diff_against(k, got, rounding ? &k->round_ref : &k->slots[0].host, &t);
    out->guards_ok = guards_intact(k, got);
    out->nmse = t.ref2 > 0.0 ? t.err2 / t.ref2 : t.err2;
    out->worst_row = t.worst_row;
    out->worst_col = t.worst_col;
    out->worst_elem = t.worst_elem;
    out->max_abs_err = t.max_abs;
    out->row_limit = out->ceiling * k->ceiling.row_factor;
    out->elem_limit = out->ceiling * k->ceiling.elem_factor;
    out->nmse_exact = out->nmse;
    out->ceiling_exact = out->ceiling;
    if (rounding) {
        diff_against(k, got, &k->slots[0].host, &x);
        out->nmse_exact = x.ref2 > 0.0 ? x.err2 / x.ref2 : x.err2;
        // |y - y_exact| <= |y - y~| + |y~ - y_exact|: the tight ceiling's share plus the worst
        // case of the rounding (opcheck_rounding.c), as energies.
        const double ref2 = x.ref2 > 0.0 ? x.ref2 : 1.0;
        const double a = sqrt(out->ceiling * ref2), b = sqrt(k->bound2);
        out->ceiling_exact = (a + b) * (a + b) / ref2;
    }
    const bool rows_ok = t.worst_row <= out->row_limit && t.worst_col <= out->row_limit;
    const bool elem_ok = t.worst_elem <= out->elem_limit;
    out->pass = out->guards_ok && out->nmse <= out->ceiling && rows_ok && elem_ok &&
                out->nmse_exact <= out->ceiling_exact;
    const char *vs = rounding ? " (vs inputs rounded the row's way)" : "";
    if (!out->guards_ok)
        snprintf(out->note, sizeof out->note, "wrote outside its output view");
    else if (isnan(out->nmse) || isnan(t.worst_elem))
        snprintf(out->note, sizeof out->note,
                 "NaN at element (%lld, row %lld): an element left unwritten, or an overflow",
                 (long long)t.elem_col, (long long)t.elem_row);
    else if (!(out->nmse <= out->ceiling))
        snprintf(out->note, sizeof out->note, "NMSE %.3g above the ceiling %.3g%s", out->nmse,
                 out->ceiling, vs);
    else if (!elem_ok)
        snprintf(out->note, sizeof out->note,
                 "element (%lld, row %lld) is %.7g, reference %.7g: error^2 %.3g of the mean "
                 "square, limit %.3g%s", (long long)t.elem_col, (long long)t.elem_row, t.elem_got,
                 t.elem_ref, t.worst_elem, out->elem_limit, vs);
    else if (!(t.worst_row <= out->row_limit))
        snprintf(out->note, sizeof out->note,
                 "row %lld: its own NMSE %.3g, limit %.3g%s", (long long)t.row_at,
                 t.worst_row, out->row_limit, vs);
    else if (!(t.worst_col <= out->row_limit))
        snprintf(out->note, sizeof out->note,
                 "column %lld: its own NMSE %.3g, limit %.3g%s",
                 (long long)t.col_at, t.worst_col, out->row_limit, vs);
    else if (!out->pass)
        snprintf(out->note, sizeof out->note,
                 "NMSE %.3g vs the exact reference, above %.3g (the worst case of %s)",
                 out->nmse_exact, out->ceiling_exact, kiln_rounding_name(k->ceiling.rounding));
}

static void release(struct check *k) {
    for (int i = 0; i < k->n_slots; i++) {
        kiln_buffer_free(k->slots[i].host_buf);
        kiln_buffer_free(k->slots[i].dev_buf);
    }
    kiln_buffer_free(k->round_buf);
}

// The KILN_OPS_PLANT_FAULT hook: the middle element of the middle row of the output moves by
// 1e-3 of the output's rms (f32), by one unit in the last place (f16, bf16: exact ops), or a
// block's scale changes (quantized destinations).
static void plant_fault(const struct check *k, uint8_t *got) {
    const struct slot *d = &k->slots[0];
    const int64_t rows = kiln_tensor_nrows(&d->host), n = d->ne[0];
    const size_t off = (size_t)((const uint8_t *)kiln_tensor_row(&d->host, rows / 2) -
                                (const uint8_t *)kiln_buffer_host_ptr(d->host_buf));
    uint8_t *row = got + d->dev_off + off;
    if (d->type == KILN_TYPE_F32) {
        double sum2 = 0.0;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t i = 0; i < n; i++)
                sum2 += (double)((const float *)kiln_tensor_row(&d->host, r))[i] *
                        ((const float *)kiln_tensor_row(&d->host, r))[i];
        float v;
        memcpy(&v, row + (size_t)(n / 2) * 4, 4);
        v += (float)(1e-3 * sqrt(sum2 / (double)(rows * n))) + 1e-30f;
        memcpy(row + (size_t)(n / 2) * 4, &v, 4);
    } else if (d->type == KILN_TYPE_F16 || d->type == KILN_TYPE_BF16) {
        row[(size_t)(n / 2) * 2] ^= 1;
    } else {
        row[1] ^= 0x08;  // the scale's exponent: x2 or /2
    }
}

// Launches the row (or the fallback) on every batch slice of the device op.
static enum kiln_status launch(struct check *k, const struct kiln_kernel *kernel) {
    for (int64_t b = 0; b < n_slices(&k->op); b++) {
        const struct kiln_op sub = slice_of(&k->op, b);
        KILN_TRY(kernel ? kiln_op_launch(k->s, kernel, &sub)
                        : kiln_matmul_fallback(k->s, &sub, NULL, NULL, NULL));
    }
    return KILN_OK;
}

static enum kiln_status run(struct check *k, const struct kiln_kernel *kernel,
                            struct kiln_check_result *out) {
    KILN_TRY(build(k));
    k->ceiling = kiln_ceiling_for(&k->op, kiln_check_case_tolerance_type(&k->c), kernel);
    out->ceiling = k->ceiling.nmse;
    out->why = k->ceiling.why;
    // The references are made after the launch (a declined shape needs none), except for
    // --dump, which writes them whatever the kernel does.
    if (k->c.dump_prefix) {
        KILN_TRY(run_references(k));
        KILN_TRY(kiln_check_dump(k->c.dump_prefix, &k->ref_op));
    }
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
    enum kiln_status st = launch(k, kernel);
    if (st == KILN_E_UNSUPPORTED) {
        snprintf(out->note, sizeof out->note, "declined: %s", kiln_last_error());
        return KILN_OK;
    }
    KILN_TRY(st);
    if (!k->c.dump_prefix)
        KILN_TRY(run_references(k));
    const struct slot *d = &k->slots[0];
    const size_t total = d->dev_off + d->span + GUARD;
    uint8_t *got = malloc(total);
    if (!got)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    st = kiln_buffer_download(k->s, d->dev_buf, 0, got, total);
    if (st == KILN_OK && k->c.plant_fault)
        plant_fault(k, got);
    if (st == KILN_OK) {
        out->ran = true;
        verdict(k, got, out);
    }
    free(got);
    return st;
}

enum kiln_status kiln_check_run(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_check_case *c, uint64_t seed,
                                struct kiln_check_result *out) {
    memset(out, 0, sizeof *out);
    struct check *k = calloc(1, sizeof *k);
    if (!k)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    k->c = *c;
    k->s = s;
    k->rng = kiln_rng_seed(seed);
    k->seed = seed;
    k->cpu = kiln_device_find("cpu");
    enum kiln_status st = k->cpu ? run(k, kernel, out)
                                 : kiln_fail(KILN_E_UNSUPPORTED, "check: the CPU backend (the "
                                             "reference) is not running");
    release(k);
    free(k);
    return st;
}
