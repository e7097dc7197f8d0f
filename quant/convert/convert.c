// The converter (convert.h).
#include "quant/convert/convert.h"
#include "quant/convert/convert_internal.h"

#include <ctype.h>
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

bool kiln_convert_options_for(const char *type_name, struct kiln_convert_options *o) {
    memset(o, 0, sizeof *o);
    o->progress = -1;
    o->mix.output_type = o->mix.token_embd_type = KILN_TYPE_COUNT;
    const struct kiln_mix *m = kiln_mix_find(type_name);
    if (m) {
        o->mix.ftype = m->ftype;
        o->mix.base = m->base;
        return true;
    }
    // Another type kiln knows (q8_K, ...): every weight, no rules, no general.file_type.
    o->mix.ftype = KILN_FTYPE_NONE;
    o->mix.pure = true;
    return kiln_type_from_name(type_name, &o->mix.base);
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
    // With an imatrix, the types ggml weights (K-quants, Q4_0..Q5_1, IQ4) take their row's
    // column importances; the others (Q8_0, f16, ...) ignore them, as ggml_quantize_chunk.
    const kiln_from_float_weighted_fn weighted = j->imatrix ? kiln_quantize_weighted_fn(j->dst_type) : NULL;
    float *x = malloc(sizeof(float) * (size_t)j->cols), *y = malloc(sizeof(float) * (size_t)j->cols);
    const int64_t per = (j->rows + nth - 1) / nth, lo = ith * per, hi = lo + per < j->rows ? lo + per : j->rows;
    double e2 = 0, r2 = 0;
    for (int64_t r = lo; r < hi && x && y; r++) {
        src->to_float(j->src + (size_t)source_row(j, r) * src_row, x, j->cols);
        uint8_t *out = t->dst + (size_t)r * dst_row;
        if (weighted)  // experts: rows ne[1] per expert, each expert its own importances
            weighted(x, out, j->cols, j->imatrix + (r / j->ne[1]) * j->cols);
        else
            quantize(x, out, j->cols);
        // The error printed per tensor is measured on every 8th row of tensors of 256 rows or
        // more (dequantizing every row cost a fifth of a Q4_0 conversion): an estimate over
        // 32+ rows, where every row would only refine the third digit.
        if (j->rows >= 256 && r % 8)
            continue;
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
    if (p->on_progress && p->on_progress(p->progress_user, (int)index + 1, p->n, j->name, p->bytes_done,
                                         p->bytes_total) != 0)
        return kiln_fail(KILN_E_INVALID, "cancelled after %d of %d tensors (no output written)", (int)index + 1, p->n);
    return KILN_OK;
}

// One REGEX=TYPE of --tensor-type against `name` (tok is modified): sets *t on the first hit
// only (*matched already true: an earlier pattern won).
static enum kiln_status override_one(char *tok, const char *name, enum kiln_type *t, bool *matched) {
    char *eq = strchr(tok, '=');
    enum kiln_type ot;
    if (!eq || !kiln_type_from_name(eq + 1, &ot))
        return kiln_fail(KILN_E_INVALID, "--tensor-type '%s': expected NAME=TYPE", tok);
    *eq = '\0';
    for (char *c = tok; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    regex_t re;  // POSIX extended regex, searched anywhere in the name (as llama-quantize)
    if (regcomp(&re, tok, REG_EXTENDED | REG_NOSUB) != 0)
        return kiln_fail(KILN_E_INVALID, "--tensor-type: '%s' is not a valid regex", tok);
    const bool hit = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    if (hit && !*matched)
        *t = ot;
    *matched |= hit;
    return KILN_OK;
}

// An override's type for `name` (--tensor-type REGEX=T,...: the first match wins, as in
// llama-quantize's llama_tensor_get_type, which stops at the first pattern that matches), or t;
// *matched says whether any did (llama.cpp then skips the mix's rules and counters). Patterns
// are lowercased first, as llama-quantize's parse_tensor_type does; every pattern is parsed
// (a bad one is refused even after a match).
static enum kiln_status override_type(const char *overrides, const char *name, enum kiln_type *t, bool *matched) {
    *matched = false;
    char *buf = strdup(overrides);
    if (!buf)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading --tensor-type");
    enum kiln_status st = KILN_OK;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && st == KILN_OK; tok = strtok_r(NULL, ",", &save))
        st = override_one(tok, name, t, matched);
    free(buf);
    return st;
}

// The type of one tensor, as llama_tensor_get_type: tensors llama.cpp does not quantize keep
// their type (1-D ones f32); --output-tensor-type / --token-embedding-type decide outright;
// else an override, or the mix's rule, then the fallback for rows that are not whole blocks.
static enum kiln_status pick_type(const struct kiln_convert_options *o, const struct kiln_mix_model *model,
                                  const struct job *j, int64_t index, int64_t count, enum kiln_type *out,
                                  enum kiln_type *before_fallback) {
    const struct kiln_mix_choice *c = &o->mix;
    const enum kiln_tensor_category cat = kiln_tensor_category(j->name);
    enum kiln_type t = c->base;
    *before_fallback = KILN_TYPE_COUNT;
    if (j->n_dims < 2) {
        t = KILN_TYPE_F32;
    } else if (!kiln_mix_allows_quantization(j->name, j->n_dims, c->leave_output)) {
        t = j->src_type;
    } else if (!kiln_mix_early(c, cat, &t)) {
        bool manual = false;
        if (o->overrides)
            KILN_TRY(override_type(o->overrides, j->name, &t, &manual));
        if (!manual && kiln_type_traits(c->base)->is_quantized)
            t = kiln_mix_rule(c, model, cat, j->cols, index, count);
        // llama.cpp applies the fallback to quantized file types only; kiln's overrides may
        // name a block type in an f16 file too, so it applies whenever the row does not fit.
        const enum kiln_type fb = kiln_mix_fallback(t, j->cols);
        if (fb != t)
            *before_fallback = t;
        t = fb;
    }
    if (!kiln_type_can_quantize(t) || !kiln_type_can_dequantize(t))
        return kiln_fail(KILN_E_UNSUPPORTED, "kiln cannot write %s tensors yet (%s)", kiln_type_name(t), j->name);
    *out = t;
    return KILN_OK;
}

// One stderr line per kind of fallback, not one per tensor.
struct fallback_note {
    enum kiln_type wanted, got;
    int64_t cols;
    int count;
    const char *first;
};

static void note_fallback(struct fallback_note *notes, int *n, const struct job *j, enum kiln_type wanted) {
    for (int i = 0; i < *n; i++)
        if (notes[i].wanted == wanted && notes[i].got == j->dst_type && notes[i].cols == j->cols) {
            notes[i].count++;
            return;
        }
    if (*n < 16)
        notes[(*n)++] = (struct fallback_note){ wanted, j->dst_type, j->cols, 1, j->name };
}

static const struct plan *order_plan;
static int by_llama_order(const void *a, const void *b) {
    return kiln_mix_order(order_plan->jobs[*(const int *)a].name, order_plan->jobs[*(const int *)b].name);
}

// The mixes count attn_v and ffn_down tensors in llama.cpp's order (blocks in order, names
// sorted within one), so each job's rank is taken in that order, whatever the file's.
static enum kiln_status plan_types(struct plan *p, const struct kiln_convert_options *o) {
    const struct kiln_mix_choice *c = &o->mix;
    const bool rules = kiln_type_traits(c->base)->is_quantized && !c->pure;
    if (rules) {
        if (p->arch && !strcmp(p->arch, "falcon"))
            return kiln_fail(KILN_E_UNSUPPORTED, "llama.cpp's mixes have Falcon rules kiln does not implement: use "
                             "--pure for one type everywhere");
        if (p->n_experts > 1)
            return kiln_fail(KILN_E_UNSUPPORTED, "a mixture of experts (expert_count %" PRId64 "): llama.cpp's mixes "
                             "have expert rules kiln does not implement: use --pure for one type everywhere",
                             p->n_experts);
        // llama.cpp's LLM_TYPE_70B (attn_v gets more bits): llama with 80 blocks and grouped
        // KV heads, qwen2 with 80 blocks; qwen3 has no 70B. Others with 80 blocks: unknown.
        const bool eighty = p->model.n_layers == 80, llama = !p->arch || !strcmp(p->arch, "llama");
        if (eighty && !llama && strcmp(p->arch, "qwen2") && strcmp(p->arch, "qwen3"))
            return kiln_fail(KILN_E_UNSUPPORTED, "%s with 80 blocks: kiln does not know whether llama.cpp counts it "
                             "a 70B model (which changes the mix's attn_v rule): use --pure", p->arch);
        p->model.is_70b = eighty && (llama ? p->model.n_head != p->model.n_head_kv : !strcmp(p->arch, "qwen2"));
        if (p->model.n_layers <= 0)
            return kiln_fail(KILN_E_INVALID, "the model's block_count is missing: the %s mix's layer rules need it "
                             "(or use --pure)", kiln_mix_of(c->ftype) ? kiln_mix_of(c->ftype)->name : "?");
    }
    int *order = malloc(sizeof(int) * (size_t)(p->n + 1));
    int64_t *rank = malloc(sizeof(int64_t) * (size_t)(p->n + 1));
    if (!order || !rank) {
        free(order);
        free(rank);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < p->n; i++)
        order[i] = i;
    order_plan = p;
    qsort(order, (size_t)p->n, sizeof *order, by_llama_order);
    // n_attn_v counts every attn_v-like name; the ranks count those the rules see (not kept
    // as they are, not overridden), as llama.cpp's counters advance only inside its rules.
    int64_t n_attn_v = 0, i_attn_v = 0, i_ffn_down = 0;
    enum kiln_status s = KILN_OK;
    for (int k = 0; k < p->n && s == KILN_OK; k++) {
        const struct job *j = &p->jobs[order[k]];
        const enum kiln_tensor_category cat = kiln_tensor_category(j->name);
        bool counted = kiln_mix_allows_quantization(j->name, j->n_dims, c->leave_output), manual = false;
        enum kiln_type unused = KILN_TYPE_F32;
        if (counted && o->overrides)
            s = override_type(o->overrides, j->name, &unused, &manual);
        counted &= !manual;
        rank[order[k]] = 0;
        if (cat == KILN_CAT_ATTN_V || cat == KILN_CAT_ATTN_QKV || cat == KILN_CAT_ATTN_KV_B) {
            n_attn_v++;
            rank[order[k]] = counted ? i_attn_v++ : 0;
        } else if (cat == KILN_CAT_FFN_DOWN) {
            rank[order[k]] = counted ? i_ffn_down++ : 0;
        }
    }
    struct fallback_note notes[16];
    int n_notes = 0;
    for (int i = 0; i < p->n && s == KILN_OK; i++) {
        struct job *j = &p->jobs[i];
        const enum kiln_tensor_category cat = kiln_tensor_category(j->name);
        const bool is_v = cat == KILN_CAT_ATTN_V || cat == KILN_CAT_ATTN_QKV || cat == KILN_CAT_ATTN_KV_B;
        enum kiln_type wanted;
        s = pick_type(o, &p->model, j, rank[i], is_v ? n_attn_v : p->model.n_layers, &j->dst_type, &wanted);
        if (s == KILN_OK && wanted != KILN_TYPE_COUNT)
            note_fallback(notes, &n_notes, j, wanted);
        if (s == KILN_OK && kiln_mix_requires_imatrix(j->name, j->dst_type, c->ftype) && !p->model.has_imatrix)
            s = kiln_fail(KILN_E_INVALID, "%s needs an importance matrix for %s (%s): give --imatrix FILE, as "
                          "llama-quantize requires", kiln_mix_of(c->ftype)->name, j->name, kiln_type_name(j->dst_type));
    }
    for (int i = 0; i < n_notes && s == KILN_OK; i++)
        fprintf(stderr, "note: %d tensor%s (%s%s) %s %" PRId64 " columns, not whole blocks of %s: written as %s, "
                "as llama.cpp does\n", notes[i].count, notes[i].count > 1 ? "s" : "", notes[i].first,
                notes[i].count > 1 ? ", ..." : "", notes[i].count > 1 ? "have" : "has", notes[i].cols,
                kiln_type_name(notes[i].wanted), kiln_type_name(notes[i].got));
    free(order);
    free(rank);
    return s;
}

static void summarize(const struct plan *p, struct kiln_convert_summary *sum) {
    memset(sum, 0, sizeof *sum);
    double e2 = 0, r2 = 0;
    for (int i = 0; i < p->n; i++) {
        const struct job *j = &p->jobs[i];
        sum->bytes_in += (uint64_t)j->rows * kiln_row_size(j->src_type, j->cols);
        sum->bytes_out += (uint64_t)j->rows * kiln_row_size(j->dst_type, j->cols);
        sum->n_elements += (uint64_t)(j->rows * j->cols);
        e2 += j->err2;
        r2 += j->ref2;
    }
    sum->rel_rmse = r2 > 0 ? sqrt(e2 / r2) : 0;
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
    struct kiln_convert_summary sum;
    summarize(p, &sum);
    printf("  total: %.1f MiB in, %.1f MiB out, %.2f bits per weight (%.3g weights)\n", (double)in / 1048576.0,
           (double)out / 1048576.0, 8.0 * (double)sum.bytes_out / (double)(sum.n_elements ? sum.n_elements : 1),
           (double)sum.n_elements);
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
    (void)o;
    p->n++;
    return KILN_OK;
}

// --imatrix: loads, filters and checks the file before the plan (the mixes' rules read whether
// there is one: llama.cpp's has_imatrix, set when entries remain after the filters).
static enum kiln_status load_imatrix(struct plan *p, const struct kiln_convert_options *o) {
    if (!o->imatrix_path)
        return KILN_OK;
    if (o->n_include > 0 && o->n_exclude > 0)
        return kiln_fail(KILN_E_INVALID, "--include-weights and --exclude-weights cannot be used together (as "
                         "llama-quantize)");
    KILN_TRY(kiln_imatrix_load(o->imatrix_path, &p->imatrix));
    kiln_imatrix_filter(p->imatrix, o->include_weights, o->n_include, o->exclude_weights, o->n_exclude);
    // An entry naming no tensor of the model means the file was made for another model: its
    // other entries cannot be trusted to fit either (llama-quantize does not check this).
    for (int i = 0; i < p->imatrix->n; i++) {
        bool found = false;
        for (int k = 0; k < p->n && !found; k++)
            found = !strcmp(p->jobs[k].name, p->imatrix->entries[i].name);
        if (!found)
            return kiln_fail(KILN_E_FORMAT, "%s: entry %s is not a tensor of this model: the imatrix was made "
                             "for another model", o->imatrix_path, p->imatrix->entries[i].name);
    }
    p->model.has_imatrix = p->imatrix->n > 0;
    if (!p->model.has_imatrix)
        fprintf(stderr, "note: no entry of %s is left by --include-weights/--exclude-weights: quantizing "
                "without an imatrix\n", o->imatrix_path);
    return KILN_OK;
}

// Gives each quantized tensor its entry, as llama_model_quantize_impl: a size other than ne0 *
// experts is an error (for token_embd it is ignored, as llama.cpp does: its imatrix rows, when
// present, are not the matmul's); a tensor without one is quantized unweighted (said), unless
// its type needs one.
static enum kiln_status attach_imatrix(struct plan *p, const struct kiln_convert_options *o) {
    int missing = 0;
    const char *first_missing = NULL;
    for (int i = 0; i < p->n; i++) {
        struct job *j = &p->jobs[i];
        struct kiln_imatrix_entry *e = p->imatrix && p->imatrix->n ? kiln_imatrix_find(p->imatrix, j->name) : NULL;
        if (j->dst_type == j->src_type || !kiln_mix_allows_quantization(j->name, j->n_dims, o->mix.leave_output))
            continue;
        if (e && e->n != j->ne[0] * j->ne[2]) {
            if (kiln_tensor_category(j->name) != KILN_CAT_TOKEN_EMBD)
                return kiln_fail(KILN_E_FORMAT, "%s: %s has %" PRId64 " importances, the tensor %" PRId64 " columns%s: "
                                 "the imatrix was made for another model", o->imatrix_path, j->name, e->n, j->ne[0],
                                 j->ne[2] > 1 ? " per expert" : "");
            e = NULL;
        }
        if (e) {
            j->imatrix = e->values;
            e->used = true;
        } else if (p->model.has_imatrix) {
            missing++;
            first_missing = first_missing ? first_missing : j->name;
        }
        if (!e && kiln_mix_requires_imatrix(j->name, j->dst_type, o->mix.ftype))
            return kiln_fail(KILN_E_FORMAT, "%s: no importances for %s, which %s quantizes to %s only with an "
                             "imatrix (llama-quantize refuses too)", o->imatrix_path, j->name,
                             kiln_mix_of(o->mix.ftype)->name, kiln_type_name(j->dst_type));
    }
    if (missing)
        fprintf(stderr, "note: %d quantized tensor%s (%s%s) ha%s no imatrix entry: quantized without "
                "importances, as llama-quantize does\n", missing, missing > 1 ? "s" : "", first_missing,
                missing > 1 ? ", ..." : "", missing > 1 ? "ve" : "s");
    return KILN_OK;
}

// llama-quantize's metadata for an imatrix (after general.file_type): the file as given, the
// first dataset, the entries used, the chunks (each string cut to 127 bytes, as its overrides).
static enum kiln_status write_imatrix_keys(const struct plan *p, struct kiln_gguf_writer *w, const char *path) {
    if (!p->model.has_imatrix)
        return KILN_OK;
    char v[128];
    snprintf(v, sizeof v, "%.127s", path);
    KILN_TRY(kiln_gguf_add_string(w, "quantize.imatrix.file", v));
    if (p->imatrix->dataset[0]) {
        snprintf(v, sizeof v, "%.127s", p->imatrix->dataset);
        KILN_TRY(kiln_gguf_add_string(w, "quantize.imatrix.dataset", v));
    }
    KILN_TRY(kiln_gguf_add_u32(w, "quantize.imatrix.entries_count", (uint32_t)p->imatrix->n));
    if (p->imatrix->chunk_count > 0)
        KILN_TRY(kiln_gguf_add_u32(w, "quantize.imatrix.chunks_count", (uint32_t)p->imatrix->chunk_count));
    return KILN_OK;
}

static enum kiln_status convert_run(struct plan *p, struct kiln_gguf_writer *w, const struct kiln_convert_options *o,
                                    const char *out_path);

enum kiln_status kiln_convert_run(struct plan *p, struct kiln_gguf_writer *w, const struct kiln_convert_options *o,
                            const char *out_path) {
    const enum kiln_status s = convert_run(p, w, o, out_path);
    kiln_imatrix_free(p->imatrix);
    p->imatrix = NULL;
    return s;
}

static enum kiln_status convert_run(struct plan *p, struct kiln_gguf_writer *w, const struct kiln_convert_options *o,
                                    const char *out_path) {
    KILN_TRY(load_imatrix(p, o));
    KILN_TRY(plan_types(p, o));
    KILN_TRY(attach_imatrix(p, o));
    bool quantized = false;
    for (int i = 0; i < p->n; i++)
        quantized |= kiln_type_traits(p->jobs[i].dst_type)->is_quantized;
    if (quantized)
        KILN_TRY(kiln_gguf_add_u32(w, "general.quantization_version", 2));
    if (o->mix.ftype != KILN_FTYPE_NONE)  // llama-quantize writes its file type, --pure or not
        KILN_TRY(kiln_gguf_add_u32(w, "general.file_type", (uint32_t)o->mix.ftype));
    KILN_TRY(write_imatrix_keys(p, w, o->imatrix_path));
    if (o->dry_run) {
        if (!o->quiet && !o->silent)
            print_plan(p, false);
        if (o->summary)
            summarize(p, o->summary);
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
    p->on_progress = o->on_progress;
    p->progress_user = o->progress_user;
    p->start = now();
    const enum kiln_status s = kiln_gguf_write(w, out_path);
    if (s == KILN_OK) {
        const double el = now() - p->start;
        if (!o->silent)
            printf("wrote %s: %d tensors in %.2f s (%.1f MB/s of input)\n", out_path, p->n, el,
                   (double)p->bytes_total / 1e6 / (el > 0 ? el : 1e-9));
        if (!o->quiet && !o->silent)
            print_plan(p, true);
        if (o->summary) {
            summarize(p, o->summary);
            o->summary->seconds = el;
        }
    }
    return s;
}

// A u32 (or i32) key "<arch>.<name>" of the file; `absent` if it has none.
static int64_t gguf_u32(const struct kiln_gguf *g, const char *arch, const char *name, int64_t absent) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, name);
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    if (kv && kv->value.type == KILN_GGUF_UINT32)
        return (int64_t)kv->value.u;
    if (kv && kv->value.type == KILN_GGUF_INT32)
        return (int64_t)kv->value.i;
    return absent;
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
        // An imatrix's own quantize.imatrix.* keys replace the input's (llama.cpp sets them anew).
        const bool imatrix_key = o->imatrix_path && !strncmp(key, "quantize.imatrix.", 17);
        if (strcmp(key, "general.file_type") && strcmp(key, "general.quantization_version") && !imatrix_key)
            s = kiln_gguf_add_value(w, key, &kv->value);
    }
    // The mixes' rules read the block count, heads and experts, under the architecture's prefix.
    const struct kiln_gguf_kv *arch = kiln_gguf_find(g, "general.architecture");
    char arch_name[64] = "llama";
    if (arch && arch->value.type == KILN_GGUF_STRING && arch->value.str.len < sizeof arch_name)
        snprintf(arch_name, sizeof arch_name, "%.*s", (int)arch->value.str.len, arch->value.str.data);
    p.arch = arch_name;
    p.model.n_layers = gguf_u32(g, arch_name, "block_count", 0);
    p.model.n_head = gguf_u32(g, arch_name, "attention.head_count", 0);
    p.model.n_head_kv = gguf_u32(g, arch_name, "attention.head_count_kv", p.model.n_head);
    p.n_experts = gguf_u32(g, arch_name, "expert_count", 0);
    p.model.tied = !kiln_gguf_find_tensor(g, "output.weight");
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
