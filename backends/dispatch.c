// Kernel selection and the op entry points (ops.h, kernel.h).
//
// Selection: among the device's rows whose op and types match the op, whose CPU features are
// present and whose `supports` accepts the shapes, the highest tier wins; ties go to table order.
// matmul falls back to dequantize-then-float when no fused row fits, or when the only fused row
// is the scalar reference while a faster f32 matmul row exists.
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backends/backend_impl.h"

static const char *const op_names[KILN_OP_COUNT] = {
    [KILN_OP_MATMUL] = "matmul",   [KILN_OP_ATTENTION] = "attention", [KILN_OP_DEQUANT] = "dequant",
    [KILN_OP_RMSNORM] = "rmsnorm", [KILN_OP_ROPE] = "rope",           [KILN_OP_SWIGLU] = "swiglu",
    [KILN_OP_ADD] = "add",         [KILN_OP_GET_ROWS] = "get_rows",   [KILN_OP_COPY] = "copy",
};

const char *kiln_op_name(enum kiln_op_kind op) {
    return (unsigned)op < KILN_OP_COUNT ? op_names[op] : "?";
}

bool kiln_op_from_name(const char *name, enum kiln_op_kind *out) {
    for (int i = 0; i < KILN_OP_COUNT; i++) {
        if (strcasecmp(op_names[i], name) == 0) {
            *out = (enum kiln_op_kind)i;
            return true;
        }
    }
    return false;
}

int kiln_kernel_count(const struct kiln_device *device) { return device->n_kernels; }

const struct kiln_kernel *kiln_kernel_get(const struct kiln_device *device, int index) {
    return index >= 0 && index < device->n_kernels ? &device->kernels[index] : NULL;
}

bool kiln_kernel_usable(const struct kiln_device *device, const struct kiln_kernel *kernel) {
    return (device->cpu_features & kernel->cpu_features) == kernel->cpu_features &&
           !(kernel->unavailable && kernel->unavailable());
}

static bool type_ok(enum kiln_type want, enum kiln_type got) {
    return want == KILN_TYPE_ANY || want == got;
}

enum kiln_type kiln_op_key_type(const struct kiln_op *op) {
    return op->kind == KILN_OP_ATTENTION ? op->src[1].type : op->src[0].type;
}

bool kiln_kernel_matches(const struct kiln_kernel *k, const struct kiln_op *op) {
    return k->op == op->kind && type_ok(k->src_type, kiln_op_key_type(op)) &&
           (op->n_src < 2 || type_ok(k->src1_type, op->src[1].type)) &&
           type_ok(k->dst_type, op->dst.type) && k->w_layout == op->src[0].layout;
}

void kiln_kernel_name(const struct kiln_kernel *k, enum kiln_type src_type, enum kiln_type dst_type,
                      char *buf, size_t size) {
    const enum kiln_type src = k->src_type == KILN_TYPE_ANY ? src_type : k->src_type;
    const enum kiln_type dst = k->dst_type == KILN_TYPE_ANY ? dst_type : k->dst_type;
    const bool show_dst = k->op == KILN_OP_DEQUANT || k->op == KILN_OP_COPY;
    snprintf(buf, size, "%s.%s%s%s%s.%s%s%s", kiln_op_name(k->op), kiln_type_name(src),
             kiln_layout_suffix(k->w_layout), show_dst ? "." : "", show_dst ? kiln_type_name(dst) : "", k->isa,
             k->variant ? "." : "", k->variant ? k->variant : "");
}

const struct kiln_kernel *kiln_kernel_select(const struct kiln_device *device,
                                             const struct kiln_op *op, int min_tier) {
    const struct kiln_kernel *best = NULL;
    for (int i = 0; i < device->n_kernels; i++) {
        const struct kiln_kernel *k = &device->kernels[i];
        if ((int)k->tier < min_tier || k->comparator || !kiln_kernel_matches(k, op) || !kiln_kernel_usable(device, k))
            continue;
        if (best && k->tier <= best->tier)
            continue;
        if (k->supports && k->supports(op) != KILN_OK)
            continue;
        best = k;
    }
    kiln_clear_error();  // declines from `supports` are not errors of the caller
    return best;
}

static void set_path(struct kiln_path *path, const struct kiln_kernel *k, const struct kiln_op *op) {
    if (!path)
        return;
    kiln_kernel_name(k, kiln_op_key_type(op), op->dst.type, path->name, sizeof path->name);
    path->fallback = false;
    path->kernel = k;
}

static enum kiln_status check_stream_device(const struct kiln_stream *s, const struct kiln_op *op) {
    if (op->dst.buffer->device != s->device)
        return kiln_fail(KILN_E_INVALID, "%s: tensors are on %s but the stream is on %s",
                         kiln_op_name(op->kind), op->dst.buffer->device->info.name,
                         s->device->info.name);
    return KILN_OK;
}

enum kiln_status kiln_op_launch(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_op *op) {
    KILN_TRY(kiln_op_validate(op));
    KILN_TRY(check_stream_device(s, op));
    struct kiln_device *dev = s->device;
    if (kernel < dev->kernels || kernel >= dev->kernels + dev->n_kernels)
        return kiln_fail(KILN_E_INVALID, "kernel %s.%s is not in %s's table",
                         kiln_op_name(kernel->op), kernel->isa, dev->info.name);
    char name[96];
    kiln_kernel_name(kernel, kiln_op_key_type(op), op->dst.type, name, sizeof name);
    if (!kiln_kernel_matches(kernel, op))
        return kiln_fail(KILN_E_INVALID, "kernel %s does not compute %s with these types", name,
                         kiln_op_name(op->kind));
    if (!kiln_kernel_usable(dev, kernel))
        return kiln_fail(KILN_E_UNSUPPORTED, "kernel %s needs CPU features this machine lacks", name);
    if (kernel->supports)
        KILN_TRY(kernel->supports(op));
    return dev->iface->launch(s, kernel, op);
}

// Rows of W dequantized per fallback step: bounds the scratch to chunk * k * 4 bytes while
// keeping each f32 matmul large enough to run at speed.
enum { FALLBACK_CHUNK_ROWS = 256 };

enum kiln_status kiln_matmul_fallback(struct kiln_stream *s, const struct kiln_op *op,
                                      const struct kiln_kernel *dequant,
                                      const struct kiln_kernel *matmul_f32, struct kiln_path *path) {
    const struct kiln_tensor *w = &op->src[0];
    const int64_t k = w->ne[0], m = w->ne[1];
    const int64_t chunk = m < FALLBACK_CHUNK_ROWS ? m : FALLBACK_CHUNK_ROWS;
    struct kiln_buffer *scratch;
    KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_FALLBACK, (size_t)(chunk * k) * sizeof(float),
                                 &scratch));
    for (int64_t m0 = 0; m0 < m; m0 += chunk) {
        const int64_t rows = m - m0 < chunk ? m - m0 : chunk;
        struct kiln_op dq = { .kind = KILN_OP_DEQUANT, .n_src = 1 };
        dq.src[0] = *w;
        dq.src[0].ne[1] = rows;
        dq.src[0].offset = w->offset + (size_t)m0 * w->nb[1];
        dq.dst = kiln_tensor_make(scratch, 0, KILN_TYPE_F32, k, rows, 1, 1);
        const struct kiln_kernel *dk = dequant ? dequant : kiln_kernel_select(s->device, &dq, 0);
        if (!dk)
            return kiln_fail(KILN_E_UNSUPPORTED, "matmul: %s has no kernel for %s weights",
                             s->device->info.name, kiln_type_name(w->type));
        KILN_TRY(kiln_op_launch(s, dk, &dq));

        struct kiln_op mm = *op;
        mm.src[0] = dq.dst;
        mm.dst.ne[0] = rows;  // columns m0..m0+rows of y: a strided view
        mm.dst.offset = op->dst.offset + (size_t)m0 * sizeof(float);
        const struct kiln_kernel *mk = matmul_f32 ? matmul_f32 : kiln_kernel_select(s->device, &mm, 0);
        if (!mk)
            return kiln_fail(KILN_E_UNSUPPORTED, "matmul: %s has no f32 matmul kernel",
                             s->device->info.name);
        KILN_TRY(kiln_op_launch(s, mk, &mm));
        if (path && m0 == 0) {
            char a[64], b[64];
            kiln_kernel_name(dk, w->type, KILN_TYPE_F32, a, sizeof a);
            kiln_kernel_name(mk, KILN_TYPE_F32, KILN_TYPE_F32, b, sizeof b);
            snprintf(path->name, sizeof path->name, "%s + %s", a, b);
            path->fallback = true;
        }
    }
    return KILN_OK;
}

// True if the fallback beats a reference-only fused row: the f32 matmul it ends in has a kernel
// above the reference tier. (Dequantizing is one pass over W at any tier; the reference matmul's
// double-precision inner loop is what is slow.)
static bool fallback_is_faster(const struct kiln_device *dev, const struct kiln_op *op) {
    struct kiln_op mm = *op;
    mm.src[0].type = KILN_TYPE_F32;
    mm.src[0].nb[0] = sizeof(float);
    return kiln_kernel_select(dev, &mm, KILN_TIER_REF + 1) != NULL;
}

enum kiln_status kiln_op_run(struct kiln_stream *s, const struct kiln_op *op, struct kiln_path *path) {
    KILN_TRY(kiln_op_validate(op));
    KILN_TRY(check_stream_device(s, op));
    const struct kiln_kernel *k = kiln_kernel_select(s->device, op, 0);
    if (!k && op->src[0].layout != KILN_LAYOUT_ROWS)  // the fallback's dequant reads rows only
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: no kernel on %s reads %s%s weights for this shape",
                         kiln_op_name(op->kind), s->device->info.name, kiln_type_name(op->src[0].type),
                         kiln_layout_suffix(op->src[0].layout));
    if (op->kind == KILN_OP_MATMUL && op->src[0].type != KILN_TYPE_F32 &&
        (!k || (k->tier == KILN_TIER_REF && fallback_is_faster(s->device, op))))
        return kiln_matmul_fallback(s, op, NULL, NULL, path);
    if (!k)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: no kernel on %s for %s -> %s",
                         kiln_op_name(op->kind), s->device->info.name,
                         kiln_type_name(kiln_op_key_type(op)), kiln_type_name(op->dst.type));
    set_path(path, k, op);
    return s->device->iface->launch(s, k, op);
}
