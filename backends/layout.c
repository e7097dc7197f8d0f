// Weight layouts (backend.h, enum kiln_layout): which one a device wants, whether a tensor can
// take it, and the upload that rearranges GGUF rows into it.
//
// Why repack at all: decode reads every weight once per token, and on the CPU the Q4_0 GEMV
// tile reading eight rows from GGUF's layout (18-byte blocks, eight streams) reached 76-80% of
// the read bandwidth; the same bytes as one stream of 32-byte-aligned row pairs plus a stream of
// scales (quant/format/repack.h) need fewer instructions per byte and no gathers. Repacking once at
// load costs one pass over the weights. Q8_0 gets the same tiling, its codes stored offset to
// unsigned so VNNI's vpdpbusd takes them directly.
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "quant/format/repack.h"

// The K-quant 16-row layouts (named, not a range of enum values: the enum is not ordered by kind).
static bool is_x16(enum kiln_layout layout) {
    switch (layout) {
    case KILN_LAYOUT_Q2_K_X16:
    case KILN_LAYOUT_Q3_K_X16:
    case KILN_LAYOUT_Q4_K_X16:
    case KILN_LAYOUT_Q5_K_X16:
    case KILN_LAYOUT_Q6_K_X16: return true;
    default: return false;
    }
}

const char *kiln_layout_suffix(enum kiln_layout layout) {
    return layout == KILN_LAYOUT_ROWS ? "" : is_x16(layout) ? "x16" : "x8";
}

// The one type each repacked layout holds, and its rows per tile.
static enum kiln_type layout_type(enum kiln_layout layout) {
    switch (layout) {
    case KILN_LAYOUT_Q4_0_X8: return KILN_TYPE_Q4_0;
    case KILN_LAYOUT_Q8_0_X8: return KILN_TYPE_Q8_0;
    case KILN_LAYOUT_Q4_K_X16: return KILN_TYPE_Q4_K;
    case KILN_LAYOUT_Q5_K_X16: return KILN_TYPE_Q5_K;
    case KILN_LAYOUT_Q2_K_X16: return KILN_TYPE_Q2_K;
    case KILN_LAYOUT_Q3_K_X16: return KILN_TYPE_Q3_K;
    default: return KILN_TYPE_Q6_K;
    }
}
static int64_t layout_rows(enum kiln_layout layout) { return is_x16(layout) ? KILN_X16_ROWS : KILN_X8_ROWS; }
static size_t layout_tile_bytes(enum kiln_layout layout, int64_t k) {
    switch (layout) {
    case KILN_LAYOUT_Q4_0_X8: return kiln_x8_tile_bytes(k);
    case KILN_LAYOUT_Q8_0_X8: return kiln_x8q8_tile_bytes(k);
    default: return kiln_x16_tile_bytes(layout_type(layout), k);
    }
}

enum kiln_status kiln_layout_fits(enum kiln_layout layout, const struct kiln_tensor *t) {
    if (layout == KILN_LAYOUT_ROWS)
        return KILN_OK;
    if (layout != KILN_LAYOUT_Q4_0_X8 && layout != KILN_LAYOUT_Q8_0_X8 && !is_x16(layout))
        return kiln_fail(KILN_E_INVALID, "unknown tensor layout %d", (int)layout);
    const char *name = kiln_layout_suffix(layout);
    if (t->type != layout_type(layout))
        return kiln_fail(KILN_E_INVALID, "this %s layout holds %s weights, not %s", name,
                         kiln_type_name(layout_type(layout)), kiln_type_name(t->type));
    if (t->ne[1] % layout_rows(layout) || t->ne[2] != 1 || t->ne[3] != 1)
        return kiln_fail(KILN_E_INVALID, "the %s layout needs a matrix of whole %" PRId64 "-row tiles; this one "
                         "is [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "]", name, layout_rows(layout),
                         t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    if (t->nb[1] != kiln_row_size(t->type, t->ne[0]))
        return kiln_fail(KILN_E_INVALID, "the %s layout needs contiguous rows (row stride %zu, row "
                         "size %zu)", name, t->nb[1], kiln_row_size(t->type, t->ne[0]));
    return KILN_OK;
}

// "gemm" or "<how>.gemm" (int.gemm, dpbf16.gemm): the part after the last dot names the n range.
static bool is_variant(const char *variant, const char *kind) {
    if (!variant)
        return false;
    const char *dot = strrchr(variant, '.');
    return strcmp(dot ? dot + 1 : variant, kind) == 0;
}

enum kiln_layout kiln_weight_layout(const struct kiln_device *device, enum kiln_type type, int64_t k,
                                    int64_t m) {
    static int disabled = -1;  // read once: this is asked per weight at load
    if (disabled < 0) {
        const char *v = getenv("KILN_NO_REPACK");
        disabled = v && *v && strcmp(v, "0") != 0;
    }
    if (disabled)
        return KILN_LAYOUT_ROWS;
    // A layout is worth it only if every matmul on it has a kernel: decode (gemv) and prefill
    // (gemm); the dequantize fallback cannot read repacked weights.
    bool gemv = false, gemm = false;
    enum kiln_layout found = KILN_LAYOUT_ROWS;
    for (int i = 0; i < device->n_kernels; i++) {
        const struct kiln_kernel *kr = &device->kernels[i];
        if (kr->op != KILN_OP_MATMUL || kr->w_layout == KILN_LAYOUT_ROWS || kr->src_type != type ||
            kr->comparator || !kiln_kernel_usable(device, kr))
            continue;
        found = kr->w_layout;
        gemv |= is_variant(kr->variant, "gemv");
        gemm |= is_variant(kr->variant, "gemm");
    }
    if (!gemv || !gemm)
        return KILN_LAYOUT_ROWS;
    struct kiln_tensor probe = { .type = type, .ne = { k, m, 1, 1 } };
    probe.nb[0] = kiln_type_traits(type)->type_size;
    probe.nb[1] = kiln_row_size(type, k);
    const bool fits = kiln_layout_fits(found, &probe) == KILN_OK;
    kiln_clear_error();
    return fits ? found : KILN_LAYOUT_ROWS;
}

// Tiles per upload chunk: bounds the host buffer (q8_0, k = 14336: 119 KiB a tile, 8 MiB a chunk).
enum { TILES_PER_CHUNK = 64 };

enum kiln_status kiln_weight_upload(struct kiln_stream *s, const struct kiln_tensor *dst, const void *rows) {
    const size_t bytes = kiln_row_size(dst->type, dst->ne[0]) * (size_t)kiln_tensor_nrows(dst);
    if (dst->layout == KILN_LAYOUT_ROWS)
        return kiln_buffer_upload(s, dst->buffer, dst->offset, rows, bytes);
    KILN_TRY(kiln_layout_fits(dst->layout, dst));
    const int64_t k = dst->ne[0], m = dst->ne[1], tr = layout_rows(dst->layout);
    const size_t tile = layout_tile_bytes(dst->layout, k);
    const enum kiln_type type = layout_type(dst->layout);
    uint8_t *chunk = malloc(tile * TILES_PER_CHUNK);
    if (!chunk)
        return kiln_fail(KILN_E_NOMEM, "out of host memory repacking a weight");
    enum kiln_status st = KILN_OK;
    for (int64_t t0 = 0; st == KILN_OK && t0 < m / tr; t0 += TILES_PER_CHUNK) {
        const int64_t tiles = m / tr - t0 < TILES_PER_CHUNK ? m / tr - t0 : TILES_PER_CHUNK;
        const uint8_t *from = (const uint8_t *)rows + (size_t)t0 * tile;
        if (is_x16(dst->layout))
            kiln_repack_x16(type, from, chunk, k, tiles * tr);
        else
            (type == KILN_TYPE_Q8_0 ? kiln_repack_q8_0_x8 : kiln_repack_q4_0_x8)(from, chunk, k, tiles * tr);
        // upload returns once `chunk` may be reused (backend.h)
        st = kiln_buffer_upload(s, dst->buffer, dst->offset + (size_t)t0 * tile, chunk, (size_t)tiles * tile);
    }
    free(chunk);
    return st;
}
