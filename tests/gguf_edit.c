// Test helper: a GGUF file rewritten with edits, to make model files that lie about themselves
// (tests/model_lies.sh). The output is a valid GGUF: only what it says is wrong.
//
//   gguf_edit IN.gguf OUT.gguf EDIT...
//     set:KEY=TYPE:VALUE    set or add a key; TYPE u32, i32, u64, f32, str
//     del:KEY               remove a key
//     drop:TENSOR           remove a tensor
//     shape:TENSOR=NE0,NE1  declare another 2-d shape with the same element count (a transpose)
//     f16:TENSOR            store an f32 tensor as f16
//     copy:TENSOR=NEW       add a copy of TENSOR named NEW
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/format/fp16.h"
#include "quant/file/gguf.h"

#define MAX_EDITS 32

struct edit {
    char op[8], name[128], arg[128];  // op:name=arg
};

static int parse(const char *s, struct edit *e) {
    const char *colon = strchr(s, ':');
    if (!colon || colon - s >= (long)sizeof e->op)
        return -1;
    memcpy(e->op, s, (size_t)(colon - s));
    e->op[colon - s] = '\0';
    const char *eq = strchr(colon + 1, '=');
    const size_t n = eq ? (size_t)(eq - colon - 1) : strlen(colon + 1);
    if (n >= sizeof e->name || (eq && strlen(eq + 1) >= sizeof e->arg))
        return -1;
    memcpy(e->name, colon + 1, n);
    e->name[n] = '\0';
    snprintf(e->arg, sizeof e->arg, "%s", eq ? eq + 1 : "");
    return 0;
}

static const struct edit *find_edit(const struct edit *edits, int n, const char *op, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (!strcmp(edits[i].op, op) && strlen(edits[i].name) == len && !memcmp(edits[i].name, name, len))
            return &edits[i];
    return NULL;
}

static enum kiln_status add_set(struct kiln_gguf_writer *w, const struct edit *e) {
    const char *colon = strchr(e->arg, ':');
    if (!colon)
        return kiln_fail(KILN_E_INVALID, "set:%s needs TYPE:VALUE", e->name);
    const char *v = colon + 1;
    if (!strncmp(e->arg, "u32:", 4))
        return kiln_gguf_add_u32(w, e->name, (uint32_t)strtoull(v, NULL, 0));
    if (!strncmp(e->arg, "i32:", 4))
        return kiln_gguf_add_i32(w, e->name, (int32_t)strtoll(v, NULL, 0));
    if (!strncmp(e->arg, "u64:", 4))
        return kiln_gguf_add_u64(w, e->name, strtoull(v, NULL, 0));
    if (!strncmp(e->arg, "f32:", 4))
        return kiln_gguf_add_f32(w, e->name, strtof(v, NULL));
    if (!strncmp(e->arg, "str:", 4))
        return kiln_gguf_add_string(w, e->name, v);
    return kiln_fail(KILN_E_INVALID, "set:%s: unknown type in '%s'", e->name, e->arg);
}

static enum kiln_status rewrite(const struct kiln_gguf *g, const struct edit *edits, int n_edits,
                                const char *out, void **scratch, int *n_scratch) {
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    enum kiln_status st = KILN_OK;
    for (uint64_t i = 0; st == KILN_OK && i < g->n_kv; i++) {
        const struct kiln_gguf_kv *kv = &g->kv[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.data);
        const struct edit *set = find_edit(edits, n_edits, "set", kv->key.data, kv->key.len);
        if (find_edit(edits, n_edits, "del", kv->key.data, kv->key.len))
            continue;
        st = set ? add_set(w, set) : kiln_gguf_add_value(w, key, &kv->value);
    }
    for (int e = 0; st == KILN_OK && e < n_edits; e++)  // keys the file did not have
        if (!strcmp(edits[e].op, "set") && !kiln_gguf_find(g, edits[e].name))
            st = add_set(w, &edits[e]);
    for (uint64_t i = 0; st == KILN_OK && i < g->n_tensors; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        const size_t len = strlen(t->name);
        if (find_edit(edits, n_edits, "drop", t->name, len))
            continue;
        int64_t ne[4] = { t->ne[0], t->ne[1], t->ne[2], t->ne[3] };
        enum kiln_type type = t->type;
        const void *data = t->data;
        const struct edit *shape = find_edit(edits, n_edits, "shape", t->name, len);
        if (shape && sscanf(shape->arg, "%" SCNd64 ",%" SCNd64, &ne[0], &ne[1]) != 2)
            st = kiln_fail(KILN_E_INVALID, "shape:%s needs NE0,NE1", t->name);
        if (st == KILN_OK && find_edit(edits, n_edits, "f16", t->name, len)) {
            const int64_t count = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
            kiln_half *h = malloc(sizeof(kiln_half) * (size_t)count);
            kiln_f32_to_f16_row(t->data, h, count);
            scratch[(*n_scratch)++] = h;
            data = h;
            type = KILN_TYPE_F16;
        }
        if (st == KILN_OK)
            st = kiln_gguf_add_tensor(w, t->name, type, t->n_dims < 2 && shape ? 2 : t->n_dims, ne, data, NULL, NULL);
        const struct edit *copy = find_edit(edits, n_edits, "copy", t->name, len);
        if (st == KILN_OK && copy)
            st = kiln_gguf_add_tensor(w, copy->arg, type, t->n_dims, ne, data, NULL, NULL);
    }
    if (st == KILN_OK)
        st = kiln_gguf_write(w, out);
    kiln_gguf_writer_free(w);
    return st;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: gguf_edit IN.gguf OUT.gguf EDIT... (see the comment at the top of gguf_edit.c)\n");
        return 2;
    }
    struct edit edits[MAX_EDITS];
    const int n_edits = argc - 3;
    if (n_edits > MAX_EDITS) {
        fprintf(stderr, "gguf_edit: at most %d edits\n", MAX_EDITS);
        return 2;
    }
    for (int i = 0; i < n_edits; i++)
        if (parse(argv[3 + i], &edits[i])) {
            fprintf(stderr, "gguf_edit: cannot parse edit '%s'\n", argv[3 + i]);
            return 2;
        }
    struct kiln_gguf *g;
    if (kiln_gguf_open(argv[1], &g) != KILN_OK) {
        fprintf(stderr, "gguf_edit: %s\n", kiln_last_error());
        return 1;
    }
    void *scratch[MAX_EDITS];
    int n_scratch = 0;
    const enum kiln_status st = rewrite(g, edits, n_edits, argv[2], scratch, &n_scratch);
    for (int i = 0; i < n_scratch; i++)
        free(scratch[i]);
    kiln_gguf_close(g);
    if (st != KILN_OK) {
        fprintf(stderr, "gguf_edit: %s\n", kiln_last_error());
        return 1;
    }
    return 0;
}
