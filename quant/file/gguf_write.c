// GGUF writer (gguf.h): ggml's layout, byte for byte — header, KV records, tensor infos, zero
// padding to the alignment, then each tensor's bytes padded to the alignment. Written to a
// temporary file and renamed into place only when everything succeeded.
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
#include "quant/file/out_file.h"

struct wkv {
    char *key;
    struct kiln_gguf_value value;   // strings and arrays point into owned copies
    void *owned;
};

struct wtensor {
    struct kiln_gguf_tensor info;
    const void *data;
    kiln_gguf_fill_fn fill;
    void *ctx;
};

struct kiln_gguf_writer {
    struct wkv *kv;
    size_t n_kv, cap_kv;
    struct wtensor *t;
    size_t n_t, cap_t;
};

struct kiln_gguf_writer *kiln_gguf_writer_new(void) { return calloc(1, sizeof(struct kiln_gguf_writer)); }

bool kiln_gguf_has_key(const struct kiln_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key))
            return true;
    return false;
}

void kiln_gguf_writer_free(struct kiln_gguf_writer *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].owned);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

static enum kiln_status push_kv(struct kiln_gguf_writer *w, const char *key, struct kiln_gguf_value v,
                                void *owned) {
    if (!key || !*key) {
        free(owned);
        return kiln_fail(KILN_E_INVALID, "gguf: empty metadata key");
    }
    if (w->n_kv == w->cap_kv) {
        const size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        struct wkv *bigger = realloc(w->kv, cap * sizeof *bigger);
        if (!bigger) {
            free(owned);
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        }
        w->kv = bigger;
        w->cap_kv = cap;
    }
    w->kv[w->n_kv] = (struct wkv){ .key = strdup(key), .value = v, .owned = owned };
    w->n_kv++;
    return KILN_OK;
}

enum kiln_status kiln_gguf_add_u32(struct kiln_gguf_writer *w, const char *key, uint32_t v) {
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_UINT32, .u = v }, NULL);
}
enum kiln_status kiln_gguf_add_i32(struct kiln_gguf_writer *w, const char *key, int32_t v) {
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_INT32, .i = v }, NULL);
}
enum kiln_status kiln_gguf_add_u64(struct kiln_gguf_writer *w, const char *key, uint64_t v) {
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_UINT64, .u = v }, NULL);
}
enum kiln_status kiln_gguf_add_f32(struct kiln_gguf_writer *w, const char *key, float v) {
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_FLOAT32, .f = v }, NULL);
}
enum kiln_status kiln_gguf_add_bool(struct kiln_gguf_writer *w, const char *key, bool v) {
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_BOOL, .u = v }, NULL);
}

enum kiln_status kiln_gguf_add_string(struct kiln_gguf_writer *w, const char *key, const char *v) {
    char *copy = strdup(v);
    if (!copy)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_STRING, .str = { copy, strlen(copy) } }, copy);
}

enum kiln_status kiln_gguf_add_array(struct kiln_gguf_writer *w, const char *key,
                                     enum kiln_gguf_type elem, const void *data, uint64_t n) {
    const size_t size = kiln_gguf_type_size(elem);
    if (!size)
        return kiln_fail(KILN_E_INVALID, "gguf: %s: arrays of %s are written with their own call", key,
                         kiln_gguf_type_name(elem));
    void *copy = malloc(n * size + 1);
    if (!copy)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    memcpy(copy, data, n * size);
    struct kiln_gguf_value v = { .type = KILN_GGUF_ARRAY, .arr = { elem, n, copy } };
    return push_kv(w, key, v, copy);
}

// Strings of an array live in one block: the string table, then the bytes.
static enum kiln_status add_strings(struct kiln_gguf_writer *w, const char *key,
                                    const struct kiln_gguf_string *in, uint64_t n) {
    size_t bytes = 0;
    for (uint64_t i = 0; i < n; i++)
        bytes += in[i].len;
    struct kiln_gguf_string *table = malloc(n * sizeof *table + bytes + 1);
    if (!table)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    char *pool = (char *)(table + n);
    for (uint64_t i = 0; i < n; i++) {
        memcpy(pool, in[i].data, in[i].len);
        table[i] = (struct kiln_gguf_string){ pool, in[i].len };
        pool += in[i].len;
    }
    struct kiln_gguf_value v = { .type = KILN_GGUF_ARRAY, .arr = { KILN_GGUF_STRING, n, table } };
    return push_kv(w, key, v, table);
}

enum kiln_status kiln_gguf_add_string_array(struct kiln_gguf_writer *w, const char *key,
                                            const char *const *strings, uint64_t n) {
    struct kiln_gguf_string *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++)
        tmp[i] = (struct kiln_gguf_string){ strings[i], strlen(strings[i]) };
    const enum kiln_status st = add_strings(w, key, tmp, n);
    free(tmp);
    return st;
}

enum kiln_status kiln_gguf_add_value(struct kiln_gguf_writer *w, const char *key,
                                     const struct kiln_gguf_value *v) {
    if (v->type == KILN_GGUF_STRING) {
        char *copy = malloc(v->str.len + 1);
        if (!copy)
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        memcpy(copy, v->str.data, v->str.len);
        copy[v->str.len] = '\0';
        return push_kv(w, key, (struct kiln_gguf_value){ .type = KILN_GGUF_STRING, .str = { copy, v->str.len } }, copy);
    }
    if (v->type == KILN_GGUF_ARRAY)
        return v->arr.elem == KILN_GGUF_STRING ? add_strings(w, key, v->arr.data, v->arr.n)
                                               : kiln_gguf_add_array(w, key, v->arr.elem, v->arr.data, v->arr.n);
    if ((unsigned)v->type >= KILN_GGUF_TYPE_COUNT)
        return kiln_fail(KILN_E_INVALID, "gguf: %s: unknown value type %d", key, (int)v->type);
    return push_kv(w, key, *v, NULL);
}

enum kiln_status kiln_gguf_add_tensor(struct kiln_gguf_writer *w, const char *name,
                                      enum kiln_type type, uint32_t n_dims, const int64_t *ne,
                                      const void *data, kiln_gguf_fill_fn fill, void *ctx) {
    const struct kiln_type_traits *tr = kiln_type_traits(type);
    if (!tr)
        return kiln_fail(KILN_E_INVALID, "gguf: tensor %s: unknown type %d", name, (int)type);
    if (!name[0] || strlen(name) > KILN_GGUF_MAX_NAME)
        return kiln_fail(KILN_E_INVALID, "gguf: tensor name '%s' must be 1..%d bytes", name, KILN_GGUF_MAX_NAME);
    if (n_dims < 1 || n_dims > 4)
        return kiln_fail(KILN_E_INVALID, "gguf: tensor %s: %u dims (1..4)", name, n_dims);
    if (!data && !fill)
        return kiln_fail(KILN_E_INVALID, "gguf: tensor %s has neither data nor a fill function", name);
    struct wtensor t = { .data = data, .fill = fill, .ctx = ctx };
    snprintf(t.info.name, sizeof t.info.name, "%s", name);
    t.info.n_dims = n_dims;
    t.info.type = type;
    for (int d = 0; d < 4; d++) {
        t.info.ne[d] = d < (int)n_dims ? ne[d] : 1;
        if (t.info.ne[d] < 0)
            return kiln_fail(KILN_E_INVALID, "gguf: tensor %s: negative dim", name);
    }
    if (t.info.ne[0] % tr->block_size)
        return kiln_fail(KILN_E_INVALID, "gguf: tensor %s: %" PRId64 " columns are not a multiple of %s's block of %d",
                         name, t.info.ne[0], tr->name, tr->block_size);
    t.info.nbytes = kiln_row_size(type, t.info.ne[0]) * (uint64_t)(t.info.ne[1] * t.info.ne[2] * t.info.ne[3]);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].info.name, name))
            return kiln_fail(KILN_E_INVALID, "gguf: duplicate tensor name %s", name);
    if (w->n_t == w->cap_t) {
        const size_t cap = w->cap_t ? 2 * w->cap_t : 64;
        struct wtensor *bigger = realloc(w->t, cap * sizeof *bigger);
        if (!bigger)
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        w->t = bigger;
        w->cap_t = cap;
    }
    w->t[w->n_t++] = t;
    return KILN_OK;
}

// ---- serialisation ----

struct out {
    struct kiln_out_file file;
    uint64_t pos;
};

static void put(struct out *o, const void *p, size_t n) {
    kiln_out_write(&o->file, p, n);  // a failure is kept in file.err, reported at commit
    o->pos += n;
}

static void put_le(struct out *o, uint64_t v, int n) {
    uint8_t b[8];
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(o, b, (size_t)n);
}

static void put_string(struct out *o, const char *s, uint64_t len) {
    put_le(o, len, 8);
    put(o, s, (size_t)len);
}

static void put_scalar(struct out *o, enum kiln_gguf_type t, const struct kiln_gguf_value *v) {
    const int n = (int)kiln_gguf_type_size(t);
    if (t == KILN_GGUF_FLOAT32) {
        const float f = (float)v->f;
        uint32_t b;
        memcpy(&b, &f, 4);
        put_le(o, b, 4);
    } else if (t == KILN_GGUF_FLOAT64) {
        uint64_t b;
        memcpy(&b, &v->f, 8);
        put_le(o, b, 8);
    } else if (t == KILN_GGUF_INT8 || t == KILN_GGUF_INT16 || t == KILN_GGUF_INT32 || t == KILN_GGUF_INT64) {
        put_le(o, (uint64_t)v->i, n);
    } else {
        put_le(o, v->u, n);
    }
}

static void put_value(struct out *o, const struct kiln_gguf_value *v) {
    put_le(o, (uint64_t)v->type, 4);
    if (v->type == KILN_GGUF_STRING) {
        put_string(o, v->str.data, v->str.len);
    } else if (v->type == KILN_GGUF_ARRAY) {
        put_le(o, (uint64_t)v->arr.elem, 4);
        put_le(o, v->arr.n, 8);
        if (v->arr.elem == KILN_GGUF_STRING) {
            const struct kiln_gguf_string *s = v->arr.data;
            for (uint64_t i = 0; i < v->arr.n; i++)
                put_string(o, s[i].data, s[i].len);
        } else {
            put(o, v->arr.data, (size_t)(v->arr.n * kiln_gguf_type_size(v->arr.elem)));  // LE host
        }
    } else {
        put_scalar(o, v->type, v);
    }
}

static void put_zeros(struct out *o, uint64_t n) {
    static const uint8_t zeros[256];
    while (n) {
        const size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        put(o, zeros, k);
        n -= k;
    }
}

static enum kiln_status check_metadata(const struct kiln_gguf_writer *w, uint64_t *alignment) {
    *alignment = KILN_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(w->kv[i].key, w->kv[j].key))
                return kiln_fail(KILN_E_INVALID, "gguf: duplicate key %s", w->kv[i].key);
        if (!strcmp(w->kv[i].key, "general.alignment")) {
            const struct kiln_gguf_value *v = &w->kv[i].value;
            if (v->type != KILN_GGUF_UINT32 || !v->u || (v->u & (v->u - 1)))
                return kiln_fail(KILN_E_INVALID, "gguf: general.alignment must be a u32 power of two");
            *alignment = v->u;
        }
    }
    return KILN_OK;
}

static enum kiln_status write_data(struct kiln_gguf_writer *w, struct out *o, uint64_t align);
static enum kiln_status write_data_mapped(struct kiln_gguf_writer *w, struct out *o, uint64_t align, uint64_t size);

static enum kiln_status write_all(struct kiln_gguf_writer *w, struct out *o, uint64_t align) {
    put(o, "GGUF", 4);
    put_le(o, 3, 4);
    put_le(o, w->n_t, 8);
    put_le(o, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_string(o, w->kv[i].key, strlen(w->kv[i].key));
        put_value(o, &w->kv[i].value);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        struct kiln_gguf_tensor *t = &w->t[i].info;
        put_string(o, t->name, strlen(t->name));
        put_le(o, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_le(o, (uint64_t)t->ne[d], 8);
        put_le(o, (uint64_t)t->type, 4);
        t->offset = offset;
        put_le(o, offset, 8);
        offset += (t->nbytes + align - 1) / align * align;
    }
    put_zeros(o, (align - o->pos % align) % align);
    if (!o->file.err)
        return write_data_mapped(w, o, align, offset);
    return KILN_OK;  // the write error is reported at commit
}

// The data section written through the page cache directly: the file is sized and its blocks
// reserved (posix_fallocate: a full disk or `ulimit -f` is an error here, never a SIGBUS on a
// mapped page), mapped, and each tensor filled in place, which saves the copy write() makes
// (the better part of a Q8_0 conversion's time). Where the file cannot be mapped (a pipe, a
// file system without fallocate), the tensors go through write() as before.
static enum kiln_status write_data_mapped(struct kiln_gguf_writer *w, struct out *o, uint64_t align, uint64_t size) {
    const uint64_t start = o->pos, total = start + size;
    const int fd = fileno(o->file.f);
    struct stat sb;
    if (size == 0 || fflush(o->file.f) != 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return write_data(w, o, align);
    const int e = posix_fallocate(fd, 0, (off_t)total);
    if (e == EOPNOTSUPP || e == EINVAL)
        return write_data(w, o, align);
    if (e != 0) {
        o->file.err = e;
        return KILN_OK;  // reported at commit, naming the file
    }
    uint8_t *map = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return write_data(w, o, align);
    enum kiln_status st = KILN_OK;
    for (size_t i = 0; i < w->n_t && st == KILN_OK; i++) {
        const struct wtensor *t = &w->t[i];
        uint8_t *dst = map + start + t->info.offset;
        if (t->data)
            memcpy(dst, t->data, (size_t)t->info.nbytes);
        else
            st = t->fill(t->ctx, i, dst, t->info.nbytes);
    }
    if (munmap(map, (size_t)total) != 0 && !o->file.err)
        o->file.err = errno;
    if (fseeko(o->file.f, (off_t)total, SEEK_SET) != 0 && !o->file.err)  // the FILE at the end
        o->file.err = errno;
    o->pos = total;
    return st;
}

static enum kiln_status write_data(struct kiln_gguf_writer *w, struct out *o, uint64_t align) {
    void *buf = NULL;
    enum kiln_status st = KILN_OK;
    for (size_t i = 0; i < w->n_t && st == KILN_OK && !o->file.err; i++) {
        const struct wtensor *t = &w->t[i];
        if (t->data) {
            put(o, t->data, (size_t)t->info.nbytes);
        } else {
            void *bigger = realloc(buf, t->info.nbytes ? (size_t)t->info.nbytes : 1);
            if (!bigger) {
                st = kiln_fail(KILN_E_NOMEM, "out of memory for tensor %s", t->info.name);
                break;
            }
            buf = bigger;
            st = t->fill(t->ctx, i, buf, t->info.nbytes);
            if (st == KILN_OK)
                put(o, buf, (size_t)t->info.nbytes);
        }
        put_zeros(o, (align - t->info.nbytes % align) % align);
    }
    free(buf);
    return st;
}

enum kiln_status kiln_gguf_write(struct kiln_gguf_writer *w, const char *path) {
    uint64_t align;
    KILN_TRY(check_metadata(w, &align));
    struct out *o = calloc(1, sizeof *o);
    if (!o)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    enum kiln_status st = kiln_out_open(&o->file, path);
    if (st == KILN_OK) {
        st = write_all(w, o, align);
        if (st == KILN_OK)
            st = kiln_out_commit(&o->file);  // reports a failed write (ENOSPC...) naming path
        else
            kiln_out_discard(&o->file);
    }
    free(o);
    return st;
}
