// The converter (convert.h).
#include "quant/convert/convert.h"
#include "quant/convert/convert_internal.h"

#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/thread_pool.h"
#include "backends/cpu/topology.h"
#include "quant/format/fp16.h"
#include "quant/file/gguf.h"

int kiln_llama_ftype(enum kiln_type type, enum kiln_convert_mix mix) {
    if (mix == KILN_MIX_Q4_K_M)
        return 15;
    if (mix == KILN_MIX_Q5_K_M)
        return 17;
    switch (type) {
    case KILN_TYPE_F32: return 0;
    case KILN_TYPE_F16: return 1;
    case KILN_TYPE_Q4_0: return 2;
    case KILN_TYPE_Q4_1: return 3;
    case KILN_TYPE_Q8_0: return 7;
    case KILN_TYPE_Q5_0: return 8;
    case KILN_TYPE_Q5_1: return 9;
    case KILN_TYPE_Q6_K: return 18;
    case KILN_TYPE_BF16: return 32;
    default: return -1;  // a single K type for every weight is none of llama.cpp's named mixes
    }
}

bool kiln_convert_parse_type(const char *text, enum kiln_type *type, enum kiln_convert_mix *mix) {
    *mix = KILN_MIX_NONE;
    if (!strcasecmp(text, "q4_k_m")) {
        *type = KILN_TYPE_Q4_K;
        *mix = KILN_MIX_Q4_K_M;
        return true;
    }
    if (!strcasecmp(text, "q5_k_m")) {
        *type = KILN_TYPE_Q5_K;
        *mix = KILN_MIX_Q5_K_M;
        return true;
    }
    return kiln_type_from_name(text, type);
}

// llama.cpp's use_more_bits(i, n): the first and last eighth of the layers and every third one
// in between get more bits.
static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// The mix's choice for one tensor, before the block-size fallback.
static enum kiln_type mix_type(const struct kiln_convert_options *o, const char *name, int64_t n_layers,
                               bool tied) {
    if (o->mix == KILN_MIX_NONE)
        return o->type;
    if (!strcmp(name, "output.weight") || (tied && !strcmp(name, "token_embd.weight")))
        return KILN_TYPE_Q6_K;
    long layer;
    int used = 0;
    if (sscanf(name, "blk.%ld.%n", &layer, &used) == 1 && used > 0 &&
        (!strcmp(name + used, "attn_v.weight") || !strcmp(name + used, "ffn_down.weight")) &&
        use_more_bits(layer, n_layers))
        return KILN_TYPE_Q6_K;
    return o->type;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Source row of output row r: HF's rotate-half halves -> llama's adjacent pairs (§5.3): within a
// head of 2h rows, new row 2i + j = old row j*h + i.
static int64_t source_row(const struct job *j, int64_t r) {
    if (j->perm_heads <= 0)
        return r;
    const int64_t per_head = j->rows / j->perm_heads, h = per_head / 2;
    const int64_t head = r / per_head, within = r % per_head;
    return head * per_head + (within % 2) * h + within / 2;
}

struct fill_task {
    struct job *job;
    uint8_t *dst;
    double err2[64], ref2[64];
};

static void fill_rows(void *arg, int ith, int nth) {
    struct fill_task *t = arg;
    const struct job *j = t->job;
    const struct kiln_type_traits *src = kiln_type_traits(j->src_type), *dst = kiln_type_traits(j->dst_type);
    const size_t src_row = kiln_row_size(j->src_type, j->cols), dst_row = kiln_row_size(j->dst_type, j->cols);
    const kiln_from_float_fn quantize = kiln_quantize_fn(j->dst_type);
    float *x = malloc(sizeof(float) * (size_t)j->cols), *y = malloc(sizeof(float) * (size_t)j->cols);
    const int64_t per = (j->rows + nth - 1) / nth, lo = ith * per, hi = lo + per < j->rows ? lo + per : j->rows;
    double e2 = 0, r2 = 0;
    for (int64_t r = lo; r < hi && x && y; r++) {
        src->to_float(j->src + (size_t)source_row(j, r) * src_row, x, j->cols);
        uint8_t *out = t->dst + (size_t)r * dst_row;
        quantize(x, out, j->cols);
        dst->to_float(out, y, j->cols);
        for (int64_t c = 0; c < j->cols; c++) {
            const double d = (double)y[c] - x[c];
            e2 += d * d;
            r2 += (double)x[c] * x[c];
        }
    }
    t->err2[ith % 64] += e2;
    t->ref2[ith % 64] += r2;
    free(x);
    free(y);
}

static void show_progress(struct plan *p, uint64_t index, bool done) {
    if (!p->progress)
        return;
    const double el = now() - p->start, mbs = (double)p->bytes_done / 1e6 / (el > 0 ? el : 1e-9);
    const double eta = mbs > 0 ? (double)(p->bytes_total - p->bytes_done) / 1e6 / mbs : 0;
    fprintf(stderr, "\r  [%3" PRIu64 "/%d] %-32.32s %8.1f MB/s  ETA %5.0f s", index + 1, p->n,
            p->jobs[index < (uint64_t)p->n ? index : 0].name, mbs, eta);
    if (done)
        fprintf(stderr, "\n");
    fflush(stderr);
}

static enum kiln_status fill(void *ctx, uint64_t index, void *dst, uint64_t nbytes) {
    struct plan *p = ctx;
    struct job *j = &p->jobs[index];
    struct fill_task t = { .job = j, .dst = dst };
    kiln_pool_run(p->pool, fill_rows, &t);
    for (int i = 0; i < 64; i++) {
        j->err2 += t.err2[i];
        j->ref2 += t.ref2[i];
    }
    p->bytes_done += (uint64_t)j->rows * kiln_row_size(j->src_type, j->cols);
    (void)nbytes;
    show_progress(p, index, index + 1 == (uint64_t)p->n);
    return KILN_OK;
}

// The type of one 2-D weight: an override whose key the name contains, else the target; a row
// that is not whole blocks falls back to f16 (llama.cpp's last resort).
static enum kiln_status pick_type(const struct kiln_convert_options *o, const char *name, int64_t cols,
                                  uint32_t n_dims, int64_t n_layers, bool tied, enum kiln_type *out,
                                  bool *fell_back) {
    *fell_back = false;
    if (n_dims < 2) {
        *out = KILN_TYPE_F32;
        return KILN_OK;
    }
    enum kiln_type t = mix_type(o, name, n_layers, tied);
    if (o->overrides) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", o->overrides);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            enum kiln_type ot;
            if (!eq || !kiln_type_from_name(eq + 1, &ot))
                return kiln_fail(KILN_E_INVALID, "--tensor-type '%s': expected NAME=TYPE", tok);
            *eq = '\0';
            regex_t re;  // POSIX extended regex, searched anywhere in the name (as llama-quantize)
            if (regcomp(&re, tok, REG_EXTENDED | REG_NOSUB) != 0)
                return kiln_fail(KILN_E_INVALID, "--tensor-type: '%s' is not a valid regex", tok);
            const bool hit = regexec(&re, name, 0, NULL, 0) == 0;
            regfree(&re);
            if (hit)
                t = ot;  // the last matching override wins
        }
    }
    if (!kiln_type_can_quantize(t) || !kiln_type_can_dequantize(t))
        return kiln_fail(KILN_E_UNSUPPORTED, "kiln cannot write %s tensors yet", kiln_type_name(t));
    // llama.cpp's fallback for rows that are not whole super-blocks (spec §5.4), then f16.
    if (cols % kiln_type_block_size(t)) {
        *fell_back = true;
        t = t == KILN_TYPE_Q4_K ? KILN_TYPE_Q5_0 : t == KILN_TYPE_Q5_K ? KILN_TYPE_Q5_1
          : t == KILN_TYPE_Q6_K ? KILN_TYPE_Q8_0 : t == KILN_TYPE_Q2_K || t == KILN_TYPE_Q3_K ? KILN_TYPE_Q4_0
          : KILN_TYPE_F16;
        if (cols % kiln_type_block_size(t))
            t = KILN_TYPE_F16;
    }
    *out = t;
    return KILN_OK;
}

static void print_plan(const struct plan *p, bool with_error) {
    uint64_t in = 0, out = 0;
    printf("  %-34s %-6s %-6s %-22s %12s%s\n", "tensor", "from", "to", "shape (ne)", "bytes",
           with_error ? "   rel. RMSE" : "");
    for (int i = 0; i < p->n; i++) {
        const struct job *j = &p->jobs[i];
        const uint64_t b = (uint64_t)j->rows * kiln_row_size(j->dst_type, j->cols);
        char shape[48];
        snprintf(shape, sizeof shape, "[%" PRId64 ", %" PRId64 "]", j->ne[0], j->ne[1]);
        printf("  %-34s %-6s %-6s %-22s %12" PRIu64, j->name, kiln_type_name(j->src_type),
               kiln_type_name(j->dst_type), shape, b);
        if (with_error)
            printf("   %.3e", j->ref2 > 0 ? sqrt(j->err2 / j->ref2) : 0.0);
        printf("\n");
        in += (uint64_t)j->rows * kiln_row_size(j->src_type, j->cols);
        out += b;
    }
    printf("  total: %.1f MiB in, %.1f MiB out\n", (double)in / 1048576.0, (double)out / 1048576.0);
}

enum kiln_status kiln_convert_add_job(struct plan *p, const struct kiln_convert_options *o, const char *name,
                                enum kiln_type src_type, const void *data, uint32_t n_dims,
                                const int64_t *ne, int64_t perm_heads) {
    struct job *j = &p->jobs[p->n];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "%s", name);
    j->src_type = src_type;
    j->src = data;
    j->n_dims = n_dims;
    for (int d = 0; d < 4; d++)
        j->ne[d] = d < (int)n_dims ? ne[d] : 1;
    j->cols = j->ne[0];
    j->rows = j->ne[1] * j->ne[2] * j->ne[3];
    j->perm_heads = perm_heads;
    bool fell_back;
    KILN_TRY(pick_type(o, name, j->cols, n_dims, p->n_layers, p->tied, &j->dst_type, &fell_back));
    if (fell_back)
        fprintf(stderr, "note: %s has %" PRId64 " columns, not whole blocks of %s: written as %s\n", name,
                j->cols, kiln_type_name(mix_type(o, name, p->n_layers, p->tied)), kiln_type_name(j->dst_type));
    p->n++;
    return KILN_OK;
}

enum kiln_status kiln_convert_run(struct plan *p, struct kiln_gguf_writer *w, const struct kiln_convert_options *o,
                            const char *out_path) {
    bool quantized = false;
    for (int i = 0; i < p->n; i++)
        quantized |= kiln_type_traits(p->jobs[i].dst_type)->is_quantized;
    if (quantized)
        KILN_TRY(kiln_gguf_add_u32(w, "general.quantization_version", 2));
    if (kiln_llama_ftype(o->type, o->mix) >= 0)
        KILN_TRY(kiln_gguf_add_u32(w, "general.file_type", (uint32_t)kiln_llama_ftype(o->type, o->mix)));
    if (o->dry_run) {
        print_plan(p, false);
        return KILN_OK;
    }
    for (int i = 0; i < p->n; i++) {
        const struct job *j = &p->jobs[i];
        KILN_TRY(kiln_gguf_add_tensor(w, j->name, j->dst_type, j->n_dims, j->ne, NULL, fill, p));
        p->bytes_total += (uint64_t)j->rows * kiln_row_size(j->src_type, j->cols);
    }
    const struct kiln_topology_info *topo;
    const int threads = o->threads > 0 ? o->threads : kiln_topology_get(&topo) == KILN_OK ? topo->n_cores : 1;
    KILN_TRY(kiln_pool_new(threads, false, &p->pool));
    p->progress = o->progress < 0 ? isatty(2) : o->progress;
    p->start = now();
    const enum kiln_status s = kiln_gguf_write(w, out_path);
    if (s == KILN_OK) {
        const double el = now() - p->start;
        printf("wrote %s: %d tensors in %.2f s (%.1f MB/s of input)\n", out_path, p->n, el,
               (double)p->bytes_total / 1e6 / (el > 0 ? el : 1e-9));
        print_plan(p, true);
    }
    return s;
}

enum kiln_status kiln_quantize_gguf(const char *in_path, const char *out_path, const struct kiln_convert_options *o) {
    struct kiln_gguf *g;
    KILN_TRY(kiln_gguf_open(in_path, &g));
    struct plan p = { .jobs = calloc((size_t)g->n_tensors + 1, sizeof(struct job)) };
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    enum kiln_status s = p.jobs && w ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < g->n_kv && s == KILN_OK; i++) {  // metadata carried over
        const struct kiln_gguf_kv *kv = &g->kv[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.data);
        if (strcmp(key, "general.file_type") && strcmp(key, "general.quantization_version"))
            s = kiln_gguf_add_value(w, key, &kv->value);
    }
    // The mixes' layer rules need the block count, under the file's architecture prefix.
    const struct kiln_gguf_kv *arch = kiln_gguf_find(g, "general.architecture");
    char key[128] = "llama.block_count";
    if (arch && arch->value.type == KILN_GGUF_STRING && arch->value.str.len < 64)
        snprintf(key, sizeof key, "%.*s.block_count", (int)arch->value.str.len, arch->value.str.data);
    const struct kiln_gguf_kv *blocks = kiln_gguf_find(g, key);
    p.n_layers = blocks && blocks->value.type == KILN_GGUF_UINT32 ? (int64_t)blocks->value.u : 0;
    p.tied = !kiln_gguf_find_tensor(g, "output.weight");
    for (uint64_t i = 0; i < g->n_tensors && s == KILN_OK; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        if (!kiln_type_can_dequantize(t->type))
            s = kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s is %s, which kiln cannot read yet", in_path,
                          t->name, kiln_type_name(t->type));
        else
            s = kiln_convert_add_job(&p, o, t->name, t->type, t->data, t->n_dims, t->ne, 0);
    }
    if (s == KILN_OK)
        s = kiln_convert_run(&p, w, o, out_path);
    kiln_pool_free(p.pool);
    kiln_gguf_writer_free(w);
    free(p.jobs);
    kiln_gguf_close(g);
    return s;
}
