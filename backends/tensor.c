// Tensor views (backend.h): construction, extent, validation, host addressing.
#include <inttypes.h>

#include "backends/backend_impl.h"

struct kiln_tensor kiln_tensor_make(struct kiln_buffer *buffer, size_t offset, enum kiln_type type,
                                    int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    struct kiln_tensor t = { .type = type, .ne = { ne0, ne1, ne2, ne3 }, .buffer = buffer,
                             .offset = offset };
    const struct kiln_type_traits *tr = kiln_type_traits(type);
    t.nb[0] = tr ? tr->type_size : 0;
    t.nb[1] = kiln_row_size(type, ne0);
    t.nb[2] = t.nb[1] * (size_t)ne1;
    t.nb[3] = t.nb[2] * (size_t)ne2;
    return t;
}

int64_t kiln_tensor_nelements(const struct kiln_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int64_t kiln_tensor_nrows(const struct kiln_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

size_t kiln_tensor_span(const struct kiln_tensor *t) {
    if (kiln_tensor_nelements(t) <= 0)
        return 0;
    size_t last = kiln_row_size(t->type, t->ne[0]);
    for (int i = 1; i < 4; i++)
        last += (size_t)(t->ne[i] - 1) * t->nb[i];
    return last;
}

bool kiln_tensor_is_contiguous(const struct kiln_tensor *t) {
    const size_t row = kiln_row_size(t->type, t->ne[0]);
    return t->nb[1] == row && t->nb[2] == row * (size_t)t->ne[1] &&
           t->nb[3] == t->nb[2] * (size_t)t->ne[2];
}

enum kiln_status kiln_tensor_validate(const struct kiln_tensor *t, const char *what) {
    const struct kiln_type_traits *tr = kiln_type_traits(t->type);
    if (!tr)
        return kiln_fail(KILN_E_INVALID, "%s: unknown type id %d", what, (int)t->type);
    if (!t->buffer)
        return kiln_fail(KILN_E_INVALID, "%s: tensor has no buffer", what);
    for (int i = 0; i < 4; i++) {
        if (t->ne[i] <= 0)
            return kiln_fail(KILN_E_INVALID, "%s: ne[%d] = %" PRId64 " (dims must be >= 1)", what,
                             i, t->ne[i]);
    }
    if (t->ne[0] % tr->block_size)
        return kiln_fail(KILN_E_INVALID, "%s: ne[0] = %" PRId64 " is not a multiple of %s's "
                         "block size %d", what, t->ne[0], tr->name, tr->block_size);
    if (t->nb[0] != tr->type_size)
        return kiln_fail(KILN_E_INVALID, "%s: nb[0] = %zu, but %s rows must be contiguous "
                         "(nb[0] = %zu)", what, t->nb[0], tr->name, tr->type_size);
    // Overflow-safe extent: reject strides whose products cannot be represented.
    const size_t row = kiln_row_size(t->type, t->ne[0]);
    size_t span = row;
    for (int i = 1; i < 4; i++) {
        const size_t n = (size_t)(t->ne[i] - 1);
        if (n && t->nb[i] > (SIZE_MAX - span) / n)
            return kiln_fail(KILN_E_INVALID, "%s: strides overflow the address space", what);
        span += n * t->nb[i];
    }
    if (t->layout != KILN_LAYOUT_ROWS)
        KILN_TRY(kiln_layout_fits(t->layout, t));
    const size_t size = t->buffer->size;
    if (t->offset > size || span > size - t->offset)
        return kiln_fail(KILN_E_INVALID, "%s: view needs bytes [%zu, %zu) but its buffer has %zu",
                         what, t->offset, t->offset + span, size);
    return KILN_OK;
}

void *kiln_tensor_row_ptr(const struct kiln_tensor *t, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)t->buffer->host + t->offset + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] +
           (size_t)i3 * t->nb[3];
}

void *kiln_tensor_row(const struct kiln_tensor *t, int64_t r) {
    const int64_t i1 = r % t->ne[1];
    const int64_t i2 = (r / t->ne[1]) % t->ne[2];
    const int64_t i3 = r / (t->ne[1] * t->ne[2]);
    return kiln_tensor_row_ptr(t, i1, i2, i3);
}
