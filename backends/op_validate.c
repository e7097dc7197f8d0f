// The contract of each op (ops.h), checked before any kernel sees it. Every failure names the op,
// the tensor and the numbers that disagree.
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend_impl.h"

#define FAIL(...) return kiln_fail(KILN_E_INVALID, __VA_ARGS__)

static bool same_shape(const struct kiln_tensor *a, const struct kiln_tensor *b) {
    return memcmp(a->ne, b->ne, sizeof a->ne) == 0;
}

static enum kiln_status need_type(const char *op, const char *what, const struct kiln_tensor *t,
                                  enum kiln_type type) {
    if (t->type != type)
        FAIL("%s: %s must be %s, got %s", op, what, kiln_type_name(type), kiln_type_name(t->type));
    return KILN_OK;
}

static enum kiln_status need_same_shape(const char *op, const char *a_name,
                                        const struct kiln_tensor *a, const char *b_name,
                                        const struct kiln_tensor *b) {
    if (!same_shape(a, b))
        FAIL("%s: %s is [%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "] but %s is [%" PRId64
             ",%" PRId64 ",%" PRId64 ",%" PRId64 "]", op, a_name, a->ne[0], a->ne[1], a->ne[2],
             a->ne[3], b_name, b->ne[0], b->ne[1], b->ne[2], b->ne[3]);
    return KILN_OK;
}

static enum kiln_status need_dequantizable(const char *op, const char *what, enum kiln_type type) {
    if (!kiln_type_can_dequantize(type))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s type %s cannot be read by kiln yet", op, what,
                         kiln_type_name(type));
    return KILN_OK;
}

static enum kiln_status validate_matmul(const struct kiln_op *op) {
    const struct kiln_tensor *y = &op->dst, *w = &op->src[0], *x = &op->src[1];
    KILN_TRY(need_dequantizable("matmul", "weight", w->type));
    KILN_TRY(need_type("matmul", "x", x, KILN_TYPE_F32));
    KILN_TRY(need_type("matmul", "y", y, KILN_TYPE_F32));
    if (w->ne[2] != 1 || w->ne[3] != 1)
        FAIL("matmul: W must be 2-D, got ne[2]=%" PRId64 " ne[3]=%" PRId64, w->ne[2], w->ne[3]);
    if (x->ne[0] != w->ne[0])
        FAIL("matmul: x has k=%" PRId64 " but W has k=%" PRId64, x->ne[0], w->ne[0]);
    if (y->ne[0] != w->ne[1])
        FAIL("matmul: y has %" PRId64 " columns but W has m=%" PRId64 " rows", y->ne[0], w->ne[1]);
    if (y->ne[1] != x->ne[1] || y->ne[2] != x->ne[2] || y->ne[3] != x->ne[3])
        FAIL("matmul: y has %" PRId64 "x%" PRId64 "x%" PRId64 " rows but x has %" PRId64 "x%" PRId64
             "x%" PRId64, y->ne[1], y->ne[2], y->ne[3], x->ne[1], x->ne[2], x->ne[3]);
    return KILN_OK;
}

static enum kiln_status validate_attention(const struct kiln_op *op) {
    const struct kiln_tensor *o = &op->dst, *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    const struct kiln_attention_params *p = &op->params.attention;
    KILN_TRY(need_type("attention", "q", q, KILN_TYPE_F32));
    KILN_TRY(need_type("attention", "out", o, KILN_TYPE_F32));
    if (k->type != KILN_TYPE_F16 && k->type != KILN_TYPE_F32)
        return kiln_fail(KILN_E_UNSUPPORTED, "attention: K/V cache must be f16 or f32, got %s",
                         kiln_type_name(k->type));
    KILN_TRY(need_type("attention", "v", v, k->type));
    KILN_TRY(need_same_shape("attention", "out", o, "q", q));
    KILN_TRY(need_same_shape("attention", "v", v, "k", k));
    if (q->ne[3] != 1 || k->ne[3] != 1)
        FAIL("attention: q and k must be 3-D [D, tokens, heads]");
    if (k->ne[0] != q->ne[0])
        FAIL("attention: k has head dim %" PRId64 " but q has %" PRId64, k->ne[0], q->ne[0]);
    if (q->ne[2] % k->ne[2])
        FAIL("attention: %" PRId64 " query heads are not a multiple of %" PRId64 " kv heads",
             q->ne[2], k->ne[2]);
    if (p->pos0 < 0)
        FAIL("attention: pos0 = %d is negative", p->pos0);
    if (p->causal && p->pos0 + q->ne[1] > k->ne[1])
        FAIL("attention: queries at positions %d..%" PRId64 " need %" PRId64 " cached keys, "
             "the cache view has %" PRId64, p->pos0, p->pos0 + q->ne[1] - 1, p->pos0 + q->ne[1],
             k->ne[1]);
    if (!isfinite(p->scale))
        FAIL("attention: scale is not finite");
    return KILN_OK;
}

static enum kiln_status validate_unary(const struct kiln_op *op) {
    const char *name = kiln_op_name(op->kind);
    const struct kiln_tensor *y = &op->dst, *x = &op->src[0];
    KILN_TRY(need_same_shape(name, "dst", y, "src", x));
    switch (op->kind) {
    case KILN_OP_DEQUANT:
        KILN_TRY(need_dequantizable(name, "source", x->type));
        if (y->type != KILN_TYPE_F32 && y->type != KILN_TYPE_F16)
            FAIL("dequant: destination must be f32 or f16, got %s", kiln_type_name(y->type));
        return KILN_OK;
    case KILN_OP_COPY:
        KILN_TRY(need_dequantizable(name, "source", x->type));
        if (!kiln_type_can_quantize(y->type))
            return kiln_fail(KILN_E_UNSUPPORTED, "copy: kiln cannot write type %s yet",
                             kiln_type_name(y->type));
        return KILN_OK;
    default:
        return KILN_OK;
    }
}

static enum kiln_status validate_rmsnorm(const struct kiln_op *op) {
    KILN_TRY(need_type("rmsnorm", "x", &op->src[0], KILN_TYPE_F32));
    KILN_TRY(need_type("rmsnorm", "dst", &op->dst, KILN_TYPE_F32));
    if (op->n_src == 2) {
        const struct kiln_tensor *w = &op->src[1];
        KILN_TRY(need_type("rmsnorm", "weight", w, KILN_TYPE_F32));
        if (w->ne[0] != op->src[0].ne[0] || kiln_tensor_nrows(w) != 1)
            FAIL("rmsnorm: weight must be [%" PRId64 "], got [%" PRId64 ",%" PRId64 "]",
                 op->src[0].ne[0], w->ne[0], kiln_tensor_nrows(w));
    }
    const float eps = op->params.rmsnorm.eps;
    if (!(eps >= 0.0f) || !isfinite(eps))
        FAIL("rmsnorm: eps must be finite and >= 0, got %g", (double)eps);
    return KILN_OK;
}

static enum kiln_status validate_rope(const struct kiln_op *op) {
    const struct kiln_tensor *x = &op->src[0], *pos = &op->src[1];
    const struct kiln_rope_params *p = &op->params.rope;
    KILN_TRY(need_type("rope", "x", x, KILN_TYPE_F32));
    KILN_TRY(need_type("rope", "dst", &op->dst, KILN_TYPE_F32));
    KILN_TRY(need_type("rope", "positions", pos, KILN_TYPE_I32));
    if (x->ne[3] != 1)
        FAIL("rope: x must be 3-D [head_dim, heads, tokens]");
    if (pos->ne[0] != x->ne[2] || kiln_tensor_nrows(pos) != 1)
        FAIL("rope: %" PRId64 " tokens but %" PRId64 " positions", x->ne[2], kiln_tensor_nelements(pos));
    if (p->n_dims < 2 || p->n_dims % 2 || p->n_dims > x->ne[0])
        FAIL("rope: n_dims = %d must be even and in [2, head_dim = %" PRId64 "]", p->n_dims, x->ne[0]);
    if (p->mode != KILN_ROPE_NORMAL && p->mode != KILN_ROPE_NEOX)
        FAIL("rope: unknown mode %d (0 = normal, 2 = neox)", (int)p->mode);
    if (!(p->theta_base > 0.0f) || !isfinite(p->theta_base))
        FAIL("rope: theta_base must be > 0, got %g", (double)p->theta_base);
    if (p->has_freq_factors) {
        if (p->n_dims / 2 > KILN_ROPE_MAX_PAIRS)
            FAIL("rope: frequency factors for %d pairs, at most %d", p->n_dims / 2, KILN_ROPE_MAX_PAIRS);
        for (int i = 0; i < p->n_dims / 2; i++)
            if (!(p->freq_factors[i] > 0.0f) || !isfinite(p->freq_factors[i]))
                FAIL("rope: frequency factor %d is %g, expected a finite number > 0", i, (double)p->freq_factors[i]);
    }
    return KILN_OK;
}

static enum kiln_status validate_binary(const struct kiln_op *op) {
    const char *name = kiln_op_name(op->kind);
    KILN_TRY(need_type(name, "dst", &op->dst, KILN_TYPE_F32));
    KILN_TRY(need_type(name, "first input", &op->src[0], KILN_TYPE_F32));
    KILN_TRY(need_type(name, "second input", &op->src[1], KILN_TYPE_F32));
    KILN_TRY(need_same_shape(name, "dst", &op->dst, "first input", &op->src[0]));
    return need_same_shape(name, "second input", &op->src[1], "first input", &op->src[0]);
}

static enum kiln_status validate_get_rows(const struct kiln_op *op) {
    const struct kiln_tensor *y = &op->dst, *table = &op->src[0], *ids = &op->src[1];
    KILN_TRY(need_dequantizable("get_rows", "table", table->type));
    KILN_TRY(need_type("get_rows", "ids", ids, KILN_TYPE_I32));
    KILN_TRY(need_type("get_rows", "dst", y, KILN_TYPE_F32));
    if (table->ne[2] != 1 || table->ne[3] != 1 || kiln_tensor_nrows(ids) != 1 || y->ne[2] != 1 ||
        y->ne[3] != 1)
        FAIL("get_rows: table and dst must be 2-D and ids 1-D");
    if (y->ne[0] != table->ne[0] || y->ne[1] != ids->ne[0])
        FAIL("get_rows: dst is [%" PRId64 ",%" PRId64 "], expected [%" PRId64 ",%" PRId64 "]",
             y->ne[0], y->ne[1], table->ne[0], ids->ne[0]);
    // On host memory the ids can be checked now; device kernels write zeros for bad ids.
    if (ids->buffer->host) {
        const int32_t *id = kiln_tensor_row(ids, 0);
        for (int64_t i = 0; i < ids->ne[0]; i++) {
            if (id[i] < 0 || id[i] >= table->ne[1])
                FAIL("get_rows: id %d at index %" PRId64 " is outside the table's %" PRId64 " rows",
                     id[i], i, table->ne[1]);
        }
    }
    return KILN_OK;
}

static const int n_src_of[KILN_OP_COUNT] = {
    [KILN_OP_MATMUL] = 2, [KILN_OP_ATTENTION] = 3, [KILN_OP_DEQUANT] = 1, [KILN_OP_RMSNORM] = -1,
    [KILN_OP_ROPE] = 2,   [KILN_OP_SWIGLU] = 2,    [KILN_OP_ADD] = 2,     [KILN_OP_GET_ROWS] = 2,
    [KILN_OP_COPY] = 1,
};

enum kiln_status kiln_op_validate(const struct kiln_op *op) {
    if ((unsigned)op->kind >= KILN_OP_COUNT)
        FAIL("unknown op id %d", (int)op->kind);
    const char *name = kiln_op_name(op->kind);
    const int want = n_src_of[op->kind];
    if (want > 0 ? op->n_src != want : (op->n_src < 1 || op->n_src > 2))
        FAIL("%s: got %d inputs", name, op->n_src);
    static const char *const src_names[] = { "src0", "src1", "src2" };
    char what[48];
    snprintf(what, sizeof what, "%s dst", name);
    KILN_TRY(kiln_tensor_validate(&op->dst, what));
    if (op->dst.layout != KILN_LAYOUT_ROWS)
        FAIL("%s: dst is repacked; outputs are always rows", name);
    for (int i = 0; i < op->n_src; i++) {
        snprintf(what, sizeof what, "%s %s", name, src_names[i]);
        KILN_TRY(kiln_tensor_validate(&op->src[i], what));
        if (op->src[i].layout != KILN_LAYOUT_ROWS && (op->kind != KILN_OP_MATMUL || i != 0))
            FAIL("%s: %s is repacked (%s layout); only matmul weights may be", name, src_names[i],
                 kiln_layout_suffix(op->src[i].layout));
        if (op->src[i].buffer->device != op->dst.buffer->device)
            FAIL("%s: %s is on %s but dst on %s", name, src_names[i],
                 op->src[i].buffer->device->info.name, op->dst.buffer->device->info.name);
    }
    switch (op->kind) {
    case KILN_OP_MATMUL: return validate_matmul(op);
    case KILN_OP_ATTENTION: return validate_attention(op);
    case KILN_OP_DEQUANT:
    case KILN_OP_COPY: return validate_unary(op);
    case KILN_OP_RMSNORM: return validate_rmsnorm(op);
    case KILN_OP_ROPE: return validate_rope(op);
    case KILN_OP_SWIGLU:
    case KILN_OP_ADD: return validate_binary(op);
    case KILN_OP_GET_ROWS: return validate_get_rows(op);
    case KILN_OP_COUNT: break;
    }
    FAIL("unknown op id %d", (int)op->kind);
}
