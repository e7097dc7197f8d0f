// kiln inspect FILE.gguf: metadata, tensors (type, shape, bytes), totals and bits per weight.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench/model/model.h"
#include "cli/args.h"
#include "quant/file/gguf.h"

static void help(void) {
    printf("usage: kiln inspect FILE.gguf [--tensors] [--all-values] [--no-check]\n"
           "\n"
           "Prints a GGUF file's version, alignment and metadata (long arrays shortened unless\n"
           "--all-values), its tensors grouped by type with sizes and bits per weight, and\n"
           "with --tensors one line per tensor. The file is validated as it is read: a\n"
           "malformed file is reported with what is wrong and exit 1.\n"
           "\n"
           "A llama-architecture file is then checked as kiln run would load it (every\n"
           "hyperparameter against the tensors' shapes and types, no tensor missing or\n"
           "unknown): a file that lies about itself gets a one-line error and exit 1.\n"
           "--no-check shows the file and skips that check (a GGUF that is not a model).\n");
}

static void print_scalar(enum kiln_gguf_type t, const void *p) {
    uint64_t u = 0;
    memcpy(&u, p, kiln_gguf_type_size(t));
    switch (t) {
    case KILN_GGUF_INT8: printf("%d", (int8_t)u); break;
    case KILN_GGUF_INT16: printf("%d", (int16_t)u); break;
    case KILN_GGUF_INT32: printf("%d", (int32_t)u); break;
    case KILN_GGUF_INT64: printf("%" PRId64, (int64_t)u); break;
    case KILN_GGUF_FLOAT32: { float f; memcpy(&f, p, 4); printf("%g", f); break; }
    case KILN_GGUF_FLOAT64: { double f; memcpy(&f, p, 8); printf("%g", f); break; }
    case KILN_GGUF_BOOL: printf("%s", u ? "true" : "false"); break;
    default: printf("%" PRIu64, u); break;
    }
}

static void print_value(const struct kiln_gguf_value *v, bool all) {
    if (v->type == KILN_GGUF_STRING) {
        printf("\"%.*s\"", (int)(v->str.len > 200 && !all ? 200 : v->str.len), v->str.data);
        if (v->str.len > 200 && !all)
            printf("... (%" PRIu64 " bytes)", v->str.len);
        return;
    }
    if (v->type != KILN_GGUF_ARRAY) {
        uint8_t raw[8];
        if (v->type == KILN_GGUF_FLOAT32) {
            const float f = (float)v->f;
            memcpy(raw, &f, 4);
        } else if (v->type == KILN_GGUF_FLOAT64) {
            memcpy(raw, &v->f, 8);
        } else {
            memcpy(raw, &v->u, 8);
        }
        print_scalar(v->type, raw);
        return;
    }
    const uint64_t show = all || v->arr.n <= 8 ? v->arr.n : 8;
    printf("[%s x %" PRIu64 "] [", kiln_gguf_type_name(v->arr.elem), v->arr.n);
    for (uint64_t i = 0; i < show; i++) {
        if (i)
            printf(", ");
        if (v->arr.elem == KILN_GGUF_STRING) {
            const struct kiln_gguf_string *s = (const struct kiln_gguf_string *)v->arr.data + i;
            printf("\"%.*s\"", (int)(s->len > 40 ? 40 : s->len), s->data);
        } else {
            print_scalar(v->arr.elem, (const uint8_t *)v->arr.data + i * kiln_gguf_type_size(v->arr.elem));
        }
    }
    printf("%s]", show < v->arr.n ? ", ..." : "");
}

int kiln_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    bool tensors = false, all = false, check = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (!strcmp(argv[i], "--tensors")) {
            tensors = true;
        } else if (!strcmp(argv[i], "--all-values")) {
            all = true;
        } else if (!strcmp(argv[i], "--no-check")) {
            check = false;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "kiln inspect: unexpected '%s' (see kiln inspect --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "kiln inspect: expected a GGUF file (see kiln inspect --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_gguf *g;
    if (kiln_gguf_open(path, &g) != KILN_OK) {
        fprintf(stderr, "kiln inspect: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    printf("%s: GGUF v%u, %" PRIu64 " metadata keys, %" PRIu64 " tensors, alignment %" PRIu64
           ", %.1f MiB\n\n", path, g->version, g->n_kv, g->n_tensors, g->alignment, g->file_size / 1048576.0);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const struct kiln_gguf_kv *kv = &g->kv[i];
        printf("  %-44.*s %-7s ", (int)kv->key.len, kv->key.data, kiln_gguf_type_name(kv->value.type));
        print_value(&kv->value, all);
        printf("\n");
    }
    uint64_t count[KILN_TYPE_COUNT] = { 0 }, bytes[KILN_TYPE_COUNT] = { 0 }, elems[KILN_TYPE_COUNT] = { 0 };
    uint64_t total_bytes = 0, total_elems = 0;
    if (tensors)
        printf("\n  %-40s %-6s %-28s %12s\n", "tensor", "type", "shape (ne)", "bytes");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        const uint64_t n = (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        count[t->type]++;
        bytes[t->type] += t->nbytes;
        elems[t->type] += n;
        total_bytes += t->nbytes;
        total_elems += n;
        if (tensors) {
            char shape[64];
            snprintf(shape, sizeof shape, "[%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "]",
                     t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
            printf("  %-40s %-6s %-28s %12" PRIu64 "\n", t->name, kiln_type_name(t->type), shape, t->nbytes);
        }
    }
    printf("\n  %-8s %8s %14s %14s %8s\n", "type", "tensors", "elements", "bytes", "bpw");
    for (int t = 0; t < KILN_TYPE_COUNT; t++)
        if (count[t])
            printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %8.3f\n", kiln_type_name((enum kiln_type)t),
                   count[t], elems[t], bytes[t], elems[t] ? 8.0 * bytes[t] / elems[t] : 0.0);
    printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %8.3f\n", "total", g->n_tensors, total_elems,
           total_bytes, total_elems ? 8.0 * total_bytes / total_elems : 0.0);
    int rc = KILN_EXIT_OK;
    struct kiln_model_info info;
    if (check && kiln_model_is_runnable(g)) {
        fflush(stdout);
        if (kiln_model_check(g, &info) != KILN_OK) {
            fprintf(stderr, "kiln inspect: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        } else {
            printf("\n  model check: passed (llama, %" PRId64 " blocks, %" PRId64 " heads / %" PRId64
                   " kv heads of %" PRId64 ", vocabulary %" PRId64 ")\n", info.n_layer, info.n_head,
                   info.n_head_kv, info.head_dim, info.n_vocab);
        }
    }
    kiln_gguf_close(g);
    return rc;
}
