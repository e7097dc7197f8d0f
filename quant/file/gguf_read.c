// GGUF reader (gguf.h): mmap the file, parse with a bounds-checked cursor, validate like ggml.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quant/file/gguf.h"

// Limits beyond which a count or length is hostile rather than large (ggml's: 1 GiB strings,
// 1 Gi array elements); counts of records are also bounded by the bytes left in the file.
#define MAX_STRING ((uint64_t)1 << 30)
#define MAX_ARRAY ((uint64_t)1 << 30)

struct cursor {
    const uint8_t *p, *end;
    const char *path;
};

#define BAD(c, ...) kiln_fail(KILN_E_FORMAT, __VA_ARGS__)

static enum kiln_status need(struct cursor *c, uint64_t n, const char *what) {
    if ((uint64_t)(c->end - c->p) < n)
        return kiln_fail(KILN_E_FORMAT, "%s: truncated: %s needs %" PRIu64 " bytes, %zu left", c->path,
                         what, n, (size_t)(c->end - c->p));
    return KILN_OK;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static enum kiln_status read_uint(struct cursor *c, int n, uint64_t *out, const char *what) {
    KILN_TRY(need(c, (uint64_t)n, what));
    *out = le(c->p, n);
    c->p += n;
    return KILN_OK;
}

static enum kiln_status read_string(struct cursor *c, struct kiln_gguf_string *s, const char *what) {
    uint64_t len;
    KILN_TRY(read_uint(c, 8, &len, what));
    if (len > MAX_STRING)
        return BAD(c, "%s: %s has length %" PRIu64 " (over 1 GiB)", c->path, what, len);
    KILN_TRY(need(c, len, what));
    s->data = (const char *)c->p;
    s->len = len;
    c->p += len;
    return KILN_OK;
}

size_t kiln_gguf_type_size(enum kiln_gguf_type t) {
    static const size_t sizes[KILN_GGUF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    return (unsigned)t < KILN_GGUF_TYPE_COUNT ? sizes[t] : 0;
}

const char *kiln_gguf_type_name(enum kiln_gguf_type t) {
    static const char *const names[KILN_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64" };
    return (unsigned)t < KILN_GGUF_TYPE_COUNT ? names[t] : "?";
}

static enum kiln_status read_scalar(struct cursor *c, enum kiln_gguf_type t, struct kiln_gguf_value *v) {
    const size_t n = kiln_gguf_type_size(t);
    uint64_t raw;
    KILN_TRY(read_uint(c, (int)n, &raw, "a value"));
    v->type = t;
    switch (t) {
    case KILN_GGUF_INT8: v->i = (int8_t)raw; break;
    case KILN_GGUF_INT16: v->i = (int16_t)raw; break;
    case KILN_GGUF_INT32: v->i = (int32_t)raw; break;
    case KILN_GGUF_INT64: v->i = (int64_t)raw; break;
    case KILN_GGUF_FLOAT32: { uint32_t b = (uint32_t)raw; float f; memcpy(&f, &b, 4); v->f = f; break; }
    case KILN_GGUF_FLOAT64: memcpy(&v->f, &raw, 8); break;
    case KILN_GGUF_BOOL:
        if (raw > 1)
            return BAD(c, "%s: a bool holds %" PRIu64 " (0 or 1 expected)", c->path, raw);
        v->u = raw;
        break;
    default: v->u = raw; break;
    }
    return KILN_OK;
}

static enum kiln_status read_value(struct cursor *c, struct kiln_gguf_value *v, const char *key) {
    uint64_t t;
    KILN_TRY(read_uint(c, 4, &t, "a value type"));
    if (t >= KILN_GGUF_TYPE_COUNT)
        return BAD(c, "%s: key %s has unknown value type %" PRIu64, c->path, key, t);
    if (t == KILN_GGUF_STRING) {
        v->type = KILN_GGUF_STRING;
        return read_string(c, &v->str, key);
    }
    if (t != KILN_GGUF_ARRAY)
        return read_scalar(c, (enum kiln_gguf_type)t, v);
    uint64_t elem, n;
    KILN_TRY(read_uint(c, 4, &elem, "an array type"));
    KILN_TRY(read_uint(c, 8, &n, "an array length"));
    if (elem >= KILN_GGUF_TYPE_COUNT || elem == KILN_GGUF_ARRAY)
        return BAD(c, "%s: key %s is an array of %s", c->path, key,
                   elem == KILN_GGUF_ARRAY ? "arrays (ggml rejects nesting)" : "an unknown type");
    if (n > MAX_ARRAY)
        return BAD(c, "%s: key %s has %" PRIu64 " elements (over 2^30)", c->path, key, n);
    v->type = KILN_GGUF_ARRAY;
    v->arr.elem = (enum kiln_gguf_type)elem;
    v->arr.n = n;
    if (elem != KILN_GGUF_STRING) {
        const uint64_t bytes = n * kiln_gguf_type_size((enum kiln_gguf_type)elem);
        KILN_TRY(need(c, bytes, key));
        v->arr.data = c->p;
        c->p += bytes;
        return KILN_OK;
    }
    // Each string needs at least its 8-byte length: bound n by the bytes left before allocating.
    if (n > (uint64_t)(c->end - c->p) / 8)
        return BAD(c, "%s: key %s claims %" PRIu64 " strings, more than the file holds", c->path, key, n);
    struct kiln_gguf_string *s = calloc(n ? n : 1, sizeof *s);
    if (!s)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", c->path);
    v->arr.data = s;
    for (uint64_t i = 0; i < n; i++)
        KILN_TRY(read_string(c, &s[i], key));
    return KILN_OK;
}

static bool key_is(const struct kiln_gguf_string *k, const char *s) {
    return k->len == strlen(s) && memcmp(k->data, s, k->len) == 0;
}

const struct kiln_gguf_kv *kiln_gguf_find(const struct kiln_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (key_is(&g->kv[i].key, key))
            return &g->kv[i];
    return NULL;
}

const struct kiln_gguf_tensor *kiln_gguf_find_tensor(const struct kiln_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return &g->tensors[i];
    return NULL;
}

static enum kiln_status read_kvs(struct kiln_gguf *g, struct cursor *c) {
    if (g->n_kv > (uint64_t)(c->end - c->p) / 13)  // a record is >= 13 bytes
        return BAD(c, "%s: %" PRIu64 " metadata records cannot fit in the file", c->path, g->n_kv);
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    if (!g->kv)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", c->path);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        struct kiln_gguf_kv *kv = &g->kv[i];
        KILN_TRY(read_string(c, &kv->key, "a key"));
        if (kv->key.len == 0)
            return BAD(c, "%s: metadata record %" PRIu64 " has an empty key", c->path, i);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(kv->key.len < 100 ? kv->key.len : 100), kv->key.data);
        for (uint64_t j = 0; j < i; j++)
            if (g->kv[j].key.len == kv->key.len && !memcmp(g->kv[j].key.data, kv->key.data, kv->key.len))
                return BAD(c, "%s: duplicate key %s", c->path, key);
        KILN_TRY(read_value(c, &kv->value, key));
    }
    return KILN_OK;
}

static enum kiln_status read_tensor_infos(struct kiln_gguf *g, struct cursor *c) {
    if (g->n_tensors > (uint64_t)(c->end - c->p) / 24)  // a record is >= 24 bytes
        return BAD(c, "%s: %" PRIu64 " tensor records cannot fit in the file", c->path, g->n_tensors);
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    if (!g->tensors)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", c->path);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct kiln_gguf_tensor *t = &g->tensors[i];
        struct kiln_gguf_string name;
        KILN_TRY(read_string(c, &name, "a tensor name"));
        if (name.len == 0 || name.len > KILN_GGUF_MAX_NAME || memchr(name.data, 0, name.len))
            return BAD(c, "%s: tensor %" PRIu64 " has a name of %" PRIu64 " bytes (1..%d, no NUL)",
                       c->path, i, name.len, KILN_GGUF_MAX_NAME);
        memcpy(t->name, name.data, name.len);
        uint64_t n_dims, type;
        KILN_TRY(read_uint(c, 4, &n_dims, "n_dims"));
        if (n_dims < 1 || n_dims > 4)
            return BAD(c, "%s: tensor %s has %" PRIu64 " dims (1..4)", c->path, t->name, n_dims);
        t->n_dims = (uint32_t)n_dims;
        uint64_t elements = 1;
        for (int d = 0; d < 4; d++) {
            uint64_t ne = 1;
            if (d < (int)n_dims)
                KILN_TRY(read_uint(c, 8, &ne, "a dim"));
            if (ne > (uint64_t)INT64_MAX || (ne && elements > (uint64_t)INT64_MAX / ne))
                return BAD(c, "%s: tensor %s has more elements than int64 holds", c->path, t->name);
            elements *= ne;
            t->ne[d] = (int64_t)ne;
        }
        KILN_TRY(read_uint(c, 4, &type, "a tensor type"));
        const struct kiln_type_traits *tr = type < KILN_TYPE_COUNT ? kiln_type_traits((enum kiln_type)type) : NULL;
        if (!tr)
            return BAD(c, "%s: tensor %s has unknown or removed type %" PRIu64, c->path, t->name, type);
        t->type = (enum kiln_type)type;
        if (t->ne[0] % tr->block_size)
            return BAD(c, "%s: tensor %s has %" PRId64 " columns, not a multiple of %s's block of %d",
                       c->path, t->name, t->ne[0], tr->name, tr->block_size);
        KILN_TRY(read_uint(c, 8, &t->offset, "a tensor offset"));
        // Checked: with a zero dim the element count is 0 but the other dims may still be huge.
        uint64_t rows = 1, bytes;
        for (int d = 1; d < 4; d++)
            if (__builtin_mul_overflow(rows, (uint64_t)t->ne[d], &rows))
                return BAD(c, "%s: tensor %s has more rows than 64 bits hold", c->path, t->name);
        if (__builtin_mul_overflow((uint64_t)(t->ne[0] / tr->block_size), (uint64_t)tr->type_size, &bytes) ||
            __builtin_mul_overflow(bytes, rows, &bytes))
            return BAD(c, "%s: tensor %s has more bytes than 64 bits hold", c->path, t->name);
        t->nbytes = bytes;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(g->tensors[j].name, t->name))
                return BAD(c, "%s: duplicate tensor name %s", c->path, t->name);
    }
    return KILN_OK;
}

static enum kiln_status parse(struct kiln_gguf *g, struct cursor *c) {
    KILN_TRY(need(c, 24, "the header"));
    if (memcmp(c->p, "GGUF", 4) != 0)
        return BAD(c, "%s: not a GGUF file (magic %02x %02x %02x %02x)", c->path, c->p[0], c->p[1], c->p[2], c->p[3]);
    c->p += 4;
    uint64_t version;
    KILN_TRY(read_uint(c, 4, &version, "version"));
    if ((version & 0xffff) == 0)
        return BAD(c, "%s: a big-endian GGUF (version bytes %08" PRIx64 "); kiln reads little-endian files", c->path, version);
    if (version != 2 && version != 3)
        return BAD(c, "%s: GGUF version %" PRIu64 " (kiln reads 2 and 3)", c->path, version);
    g->version = (uint32_t)version;
    KILN_TRY(read_uint(c, 8, &g->n_tensors, "tensor count"));
    KILN_TRY(read_uint(c, 8, &g->n_kv, "metadata count"));
    KILN_TRY(read_kvs(g, c));
    KILN_TRY(read_tensor_infos(g, c));
    g->alignment = KILN_GGUF_DEFAULT_ALIGNMENT;
    const struct kiln_gguf_kv *al = kiln_gguf_find(g, "general.alignment");
    if (al) {
        if (al->value.type != KILN_GGUF_UINT32 || al->value.u == 0 || (al->value.u & (al->value.u - 1)))
            return BAD(c, "%s: general.alignment must be a u32 power of two", c->path);
        g->alignment = al->value.u;
    }
    const uint64_t meta_end = (uint64_t)(c->p - (const uint8_t *)g->map);
    g->data_offset = (meta_end + g->alignment - 1) / g->alignment * g->alignment;
    // Tensors packed in info order (ggml requires it), all inside the file.
    uint64_t expect = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct kiln_gguf_tensor *t = &g->tensors[i];
        if (t->offset != expect)
            return BAD(c, "%s: tensor %s at data offset %" PRIu64 ", expected %" PRIu64 " (packed in order)",
                       c->path, t->name, t->offset, expect);
        if (g->data_offset > g->file_size || t->nbytes > g->file_size - g->data_offset ||
            t->offset > g->file_size - g->data_offset - t->nbytes)
            return BAD(c, "%s: tensor %s (%" PRIu64 " bytes) runs past the end of the file", c->path,
                       t->name, t->nbytes);
        t->data = (const uint8_t *)g->map + g->data_offset + t->offset;
        expect = t->offset + (t->nbytes + g->alignment - 1) / g->alignment * g->alignment;
    }
    // Writers pad after the last tensor too; a file without that padding was cut short (ggml
    // rejects it as well).
    if (g->n_tensors && g->file_size - g->data_offset < expect)
        return BAD(c, "%s: truncated: the data section needs %" PRIu64 " bytes, the file has %" PRIu64,
                   c->path, expect, g->file_size - g->data_offset);
    return KILN_OK;
}

enum kiln_status kiln_gguf_open(const char *path, struct kiln_gguf **out) {
    *out = NULL;
    const int fd = open(path, O_RDONLY);
    if (fd < 0)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kiln_fail(KILN_E_IO, "%s: not a regular file", path);
    }
    struct kiln_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        close(fd);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    snprintf(g->path, sizeof g->path, "%s", path);
    g->file_size = (uint64_t)st.st_size;
    g->map = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (st.st_size && g->map == MAP_FAILED) {
        g->map = NULL;
        kiln_gguf_close(g);
        return kiln_fail(KILN_E_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    enum kiln_status s = kiln_fail(KILN_E_FORMAT, "%s: empty file", path);
    if (g->map) {
        struct cursor c = { g->map, (const uint8_t *)g->map + g->file_size, g->path };
        s = parse(g, &c);
    }
    if (s != KILN_OK) {
        kiln_gguf_close(g);
        return s;
    }
    *out = g;
    return KILN_OK;
}

void kiln_gguf_close(struct kiln_gguf *g) {
    if (!g)
        return;
    for (uint64_t i = 0; g->kv && i < g->n_kv; i++)
        if (g->kv[i].value.type == KILN_GGUF_ARRAY && g->kv[i].value.arr.elem == KILN_GGUF_STRING)
            free((void *)g->kv[i].value.arr.data);
    free(g->kv);
    free(g->tensors);
    if (g->map)
        munmap(g->map, (size_t)g->file_size);
    free(g);
}
