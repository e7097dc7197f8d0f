// The op entry points of ops.h: each builds a struct kiln_op and hands it to kiln_op_run().
#include "backends/backend_impl.h"

static struct kiln_op make_op(enum kiln_op_kind kind, const struct kiln_tensor *dst, int n_src,
                              const struct kiln_tensor *a, const struct kiln_tensor *b,
                              const struct kiln_tensor *c) {
    struct kiln_op op = { .kind = kind, .dst = *dst, .n_src = n_src };
    const struct kiln_tensor *srcs[3] = { a, b, c };
    for (int i = 0; i < n_src; i++)
        op.src[i] = *srcs[i];
    return op;
}

enum kiln_status kiln_matmul(struct kiln_stream *s, const struct kiln_tensor *y,
                             const struct kiln_tensor *w, const struct kiln_tensor *x,
                             struct kiln_path *path) {
    struct kiln_op op = make_op(KILN_OP_MATMUL, y, 2, w, x, NULL);
    KILN_TRY(kiln_op_validate(&op));
    if (x->ne[2] == 1 && x->ne[3] == 1)
        return kiln_op_run(s, &op, path);
    // Batch dims: one 2-D matmul per (i2, i3), sharing W. Kernels see 2-D ops only.
    for (int64_t i3 = 0; i3 < x->ne[3]; i3++) {
        for (int64_t i2 = 0; i2 < x->ne[2]; i2++) {
            struct kiln_op sub = op;
            sub.src[1].offset = x->offset + (size_t)i2 * x->nb[2] + (size_t)i3 * x->nb[3];
            sub.dst.offset = y->offset + (size_t)i2 * y->nb[2] + (size_t)i3 * y->nb[3];
            sub.src[1].ne[2] = sub.src[1].ne[3] = sub.dst.ne[2] = sub.dst.ne[3] = 1;
            KILN_TRY(kiln_op_run(s, &sub, path));
        }
    }
    return KILN_OK;
}

enum kiln_status kiln_attention(struct kiln_stream *s, const struct kiln_tensor *out,
                                const struct kiln_tensor *q, const struct kiln_tensor *k,
                                const struct kiln_tensor *v,
                                const struct kiln_attention_params *params, struct kiln_path *path) {
    struct kiln_op op = make_op(KILN_OP_ATTENTION, out, 3, q, k, v);
    op.params.attention = *params;
    return kiln_op_run(s, &op, path);
}

enum kiln_status kiln_dequant(struct kiln_stream *s, const struct kiln_tensor *dst,
                              const struct kiln_tensor *src, struct kiln_path *path) {
    struct kiln_op op = make_op(KILN_OP_DEQUANT, dst, 1, src, NULL, NULL);
    return kiln_op_run(s, &op, path);
}

enum kiln_status kiln_rmsnorm(struct kiln_stream *s, const struct kiln_tensor *dst,
                              const struct kiln_tensor *x, const struct kiln_tensor *w, float eps) {
    struct kiln_op op = make_op(KILN_OP_RMSNORM, dst, w ? 2 : 1, x, w, NULL);
    op.params.rmsnorm.eps = eps;
    return kiln_op_run(s, &op, NULL);
}

enum kiln_status kiln_rope(struct kiln_stream *s, const struct kiln_tensor *dst,
                           const struct kiln_tensor *x, const struct kiln_tensor *pos,
                           const struct kiln_rope_params *params) {
    struct kiln_op op = make_op(KILN_OP_ROPE, dst, 2, x, pos, NULL);
    op.params.rope = *params;
    return kiln_op_run(s, &op, NULL);
}

enum kiln_status kiln_swiglu(struct kiln_stream *s, const struct kiln_tensor *dst,
                             const struct kiln_tensor *gate, const struct kiln_tensor *up) {
    struct kiln_op op = make_op(KILN_OP_SWIGLU, dst, 2, gate, up, NULL);
    return kiln_op_run(s, &op, NULL);
}

enum kiln_status kiln_add(struct kiln_stream *s, const struct kiln_tensor *dst,
                          const struct kiln_tensor *a, const struct kiln_tensor *b) {
    struct kiln_op op = make_op(KILN_OP_ADD, dst, 2, a, b, NULL);
    // A bias row is broadcast as a view of a's shape whose rows all start at the same place
    // (stride 0): every backend's add reads b through its strides, so each takes it as it is.
    if (kiln_tensor_nrows(b) == 1 && kiln_tensor_nrows(a) > 1 && b->ne[0] == a->ne[0]) {
        for (int d = 1; d < 4; d++) {
            op.src[1].ne[d] = a->ne[d];
            op.src[1].nb[d] = 0;
        }
    }
    return kiln_op_run(s, &op, NULL);
}

enum kiln_status kiln_get_rows(struct kiln_stream *s, const struct kiln_tensor *dst,
                               const struct kiln_tensor *table, const struct kiln_tensor *ids) {
    struct kiln_op op = make_op(KILN_OP_GET_ROWS, dst, 2, table, ids, NULL);
    return kiln_op_run(s, &op, NULL);
}

enum kiln_status kiln_copy(struct kiln_stream *s, const struct kiln_tensor *dst,
                           const struct kiln_tensor *src) {
    struct kiln_op op = make_op(KILN_OP_COPY, dst, 1, src, NULL, NULL);
    return kiln_op_run(s, &op, NULL);
}
