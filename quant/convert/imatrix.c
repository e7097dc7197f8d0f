// Importance-matrix files (imatrix.h): llama.cpp's GGUF format and its legacy .dat format.
#include "quant/convert/imatrix.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/file/gguf.h"

void kiln_imatrix_free(struct kiln_imatrix *m) {
    if (!m)
        return;
    for (int i = 0; i < m->n; i++) {
        free(m->entries[i].name);
        free(m->entries[i].values);
    }
    free(m->entries);
    free(m);
}

static struct kiln_imatrix_entry *add_entry(struct kiln_imatrix *m, const char *name, size_t name_len, int64_t n) {
    struct kiln_imatrix_entry *e = realloc(m->entries, sizeof *e * (size_t)(m->n + 1));
    if (!e)
        return NULL;
    m->entries = e;
    e = &m->entries[m->n];
    memset(e, 0, sizeof *e);
    e->name = malloc(name_len + 1);
    e->values = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!e->name || !e->values) {
        free(e->name);
        free(e->values);
        return NULL;
    }
    memcpy(e->name, name, name_len);
    e->name[name_len] = '\0';
    e->n = n;
    m->n++;
    return e;
}

struct kiln_imatrix_entry *kiln_imatrix_find(struct kiln_imatrix *m, const char *name) {
    for (int i = 0; m && i < m->n; i++)
        if (!strcmp(m->entries[i].name, name))
            return &m->entries[i];
    return NULL;
}

// ---- legacy .dat ----

static bool read_exact(FILE *f, void *dst, size_t n) {
    return fread(dst, 1, n, f) == n;
}

static enum kiln_status load_legacy(const char *path, FILE *f, struct kiln_imatrix *m) {
    int32_t n_entries = 0;
    if (!read_exact(f, &n_entries, 4) || n_entries < 1)
        return kiln_fail(KILN_E_FORMAT, "%s: not an importance matrix (neither GGUF nor llama.cpp's legacy "
                         ".dat: no entries)", path);
    m->legacy = true;
    for (int32_t i = 0; i < n_entries; i++) {
        int32_t len = 0, ncall = 0, nval = 0;
        char name[1024];
        if (!read_exact(f, &len, 4) || len < 1 || len >= (int32_t)sizeof name || !read_exact(f, name, (size_t)len))
            return kiln_fail(KILN_E_FORMAT, "%s: entry %d of %d: name cut short or malformed (a truncated or "
                             "damaged imatrix file)", path, i + 1, n_entries);
        name[len] = '\0';
        if (!read_exact(f, &ncall, 4) || !read_exact(f, &nval, 4) || nval < 1 || nval > (1 << 28) || ncall < 0)
            return kiln_fail(KILN_E_FORMAT, "%s: entry %s: bad call or value count (a truncated or damaged "
                             "imatrix file)", path, name);
        struct kiln_imatrix_entry *e = add_entry(m, name, (size_t)len, nval);
        if (!e)
            return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", path);
        if (!read_exact(f, e->values, sizeof(float) * (size_t)nval))
            return kiln_fail(KILN_E_FORMAT, "%s: entry %s: file ends inside its %d values (truncated)", path, name,
                             nval);
        // The stored values are (sum / count) * ncall; llama-quantize divides by ncall.
        if (ncall > 0)
            for (int32_t k = 0; k < nval; k++)
                e->values[k] = e->values[k] / (float)ncall;
    }
    int32_t chunks = 0, len = 0;  // the optional trailer: chunk count, dataset name
    if (read_exact(f, &chunks, 4)) {
        m->chunk_count = chunks;
        if (read_exact(f, &len, 4) && len > 0) {
            char *ds = calloc(1, (size_t)len + 1);
            if (ds && len < (1 << 20) && read_exact(f, ds, (size_t)len))
                snprintf(m->dataset, sizeof m->dataset, "%s", ds);
            free(ds);
        }
    }
    return KILN_OK;
}

// ---- GGUF ----

static bool strip_suffix(const char *name, const char *suffix, size_t *base_len) {
    const size_t n = strlen(name), s = strlen(suffix);
    if (n <= s || strcmp(name + n - s, suffix))
        return false;
    *base_len = n - s;
    return true;
}

static const struct kiln_gguf_tensor *partner(const struct kiln_gguf *g, const char *base, size_t len,
                                              const char *suffix) {
    char name[KILN_GGUF_MAX_NAME + 16];
    snprintf(name, sizeof name, "%.*s%s", (int)len, base, suffix);
    return kiln_gguf_find_tensor(g, name);
}

static enum kiln_status load_gguf(const char *path, struct kiln_imatrix *m) {
    struct kiln_gguf *g;
    KILN_TRY(kiln_gguf_open(path, &g));
    enum kiln_status s = KILN_OK;
    const struct kiln_gguf_kv *ds = kiln_gguf_find(g, "imatrix.datasets");
    const struct kiln_gguf_kv *cc = kiln_gguf_find(g, "imatrix.chunk_count");
    const struct kiln_gguf_kv *cs = kiln_gguf_find(g, "imatrix.chunk_size");
    if (!ds || !cc || !cs) {  // llama-quantize refuses such a file too
        const struct kiln_gguf_kv *type = kiln_gguf_find(g, "general.type");
        const bool is_imatrix = type && type->value.type == KILN_GGUF_STRING &&
                                type->value.str.len == 7 && !memcmp(type->value.str.data, "imatrix", 7);
        s = kiln_fail(KILN_E_FORMAT, "%s: %s", path, is_imatrix ? "an imatrix without imatrix.datasets, "
                      "imatrix.chunk_count or imatrix.chunk_size (llama-quantize refuses it too)" :
                      "not an importance matrix (a GGUF file without general.type = imatrix and its keys: "
                      "make one with kiln imatrix or llama-imatrix)");
    }
    if (s == KILN_OK && ds->value.type == KILN_GGUF_ARRAY && ds->value.arr.elem == KILN_GGUF_STRING &&
        ds->value.arr.n > 0) {
        const struct kiln_gguf_string *first = ds->value.arr.data;
        snprintf(m->dataset, sizeof m->dataset, "%.*s", (int)(first->len < 255 ? first->len : 255), first->data);
    }
    if (s == KILN_OK)
        m->chunk_count = cc->value.type == KILN_GGUF_UINT32 || cc->value.type == KILN_GGUF_INT32
                             ? (int32_t)cc->value.u : 0;
    for (uint64_t i = 0; i < g->n_tensors && s == KILN_OK; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        size_t len;
        const struct kiln_gguf_tensor *sums, *counts;
        if (strip_suffix(t->name, ".in_sum2", &len)) {
            sums = t;
            counts = partner(g, t->name, len, ".counts");
        } else if (strip_suffix(t->name, ".counts", &len)) {
            if (!partner(g, t->name, len, ".in_sum2"))
                s = kiln_fail(KILN_E_FORMAT, "%s: %.*s has counts but no in_sum2", path, (int)len, t->name);
            continue;  // taken with its in_sum2
        } else {
            continue;
        }
        if (!counts) {
            s = kiln_fail(KILN_E_FORMAT, "%s: %.*s has in_sum2 but no counts", path, (int)len, t->name);
            break;
        }
        const int64_t nval = (int64_t)(sums->nbytes / 4), ncounts = (int64_t)(counts->nbytes / 4);
        if (sums->type != KILN_TYPE_F32 || counts->type != KILN_TYPE_F32 || ncounts < 1 || nval % ncounts) {
            s = kiln_fail(KILN_E_FORMAT, "%s: %.*s: in_sum2 and counts must be f32, %" PRId64 " sums a multiple "
                          "of %" PRId64 " counts", path, (int)len, t->name, nval, ncounts);
            break;
        }
        struct kiln_imatrix_entry *e = add_entry(m, t->name, len, nval);
        if (!e) {
            s = kiln_fail(KILN_E_NOMEM, "out of memory reading %s", path);
            break;
        }
        const float *sum = sums->data, *cnt = counts->data;
        const int64_t ne0 = nval / ncounts;
        for (int64_t j = 0; j < ncounts && s == KILN_OK; j++) {
            if (!isfinite(cnt[j]) || cnt[j] < 0) {
                s = kiln_fail(KILN_E_FORMAT, "%s: %s: count %g of expert %" PRId64 " is not a token count", path,
                              e->name, (double)cnt[j], j);
                break;
            }
            const float count = (float)lroundf(cnt[j]);  // llama rounds the stored counts
            for (int64_t k = 0; k < ne0; k++)
                e->values[j * ne0 + k] = count > 0.0f ? sum[j * ne0 + k] / count : 1.0f;
        }
    }
    if (s == KILN_OK && m->n == 0)
        s = kiln_fail(KILN_E_FORMAT, "%s: an imatrix with no <weight>.in_sum2 entries", path);
    kiln_gguf_close(g);
    return s;
}

enum kiln_status kiln_imatrix_load(const char *path, struct kiln_imatrix **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return kiln_fail(KILN_E_IO, "%s: cannot open the importance matrix", path);
    char magic[4] = { 0 };
    const bool gguf = read_exact(f, magic, 4) && !memcmp(magic, "GGUF", 4);
    struct kiln_imatrix *m = calloc(1, sizeof *m);
    enum kiln_status s = m ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of memory");
    if (s == KILN_OK && gguf) {
        fclose(f);
        f = NULL;
        s = load_gguf(path, m);
    } else if (s == KILN_OK) {
        rewind(f);
        s = load_legacy(path, f, m);
    }
    if (f)
        fclose(f);
    for (int i = 0; i < (m ? m->n : 0) && s == KILN_OK; i++) {
        const struct kiln_imatrix_entry *e = &m->entries[i];
        for (int64_t k = 0; k < e->n; k++)
            if (!isfinite(e->values[k]) || e->values[k] < 0) {
                s = kiln_fail(KILN_E_FORMAT, "%s: %s: importance %g at column %" PRId64 " (an imatrix holds "
                              "finite sums of squares, never NaN, infinite or negative)", path, e->name,
                              (double)e->values[k], k);
                break;
            }
    }
    if (s != KILN_OK) {
        kiln_imatrix_free(m);
        return s;
    }
    *out = m;
    return KILN_OK;
}

static bool contains_any(const char *name, const char *const *subs, int n) {
    for (int i = 0; i < n; i++)
        if (strstr(name, subs[i]))
            return true;
    return false;
}

void kiln_imatrix_filter(struct kiln_imatrix *m, const char *const *include, int n_include,
                         const char *const *exclude, int n_exclude) {
    int kept = 0;
    for (int i = 0; i < m->n; i++) {
        struct kiln_imatrix_entry *e = &m->entries[i];
        const bool keep = !contains_any(e->name, exclude, n_exclude) &&
                          (n_include == 0 || contains_any(e->name, include, n_include));
        if (keep) {
            m->entries[kept++] = *e;
        } else {
            free(e->name);
            free(e->values);
        }
    }
    m->n = kept;
}
