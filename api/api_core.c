// libkiln's shared parts (api_internal.h) and the calls that only read: version, info, inspect.
#include "kiln_git_commit.h"
#include "api/kiln.h"
#include "api/api_internal.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/info_json.h"
#include "bench/model/model.h"
#include "bench/report/report.h"
#include "quant/file/gguf.h"

static pthread_mutex_t api_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool started;
static int started_threads;
static char started_backends[256];
static int open_models;

void kiln_api_lock(void) { pthread_mutex_lock(&api_mutex); }
void kiln_api_unlock(void) { pthread_mutex_unlock(&api_mutex); }
void kiln_api_models_changed(int delta) { open_models += delta; }

enum kiln_status kiln_api_ensure_init(int threads, const char *backends) {
    if (!backends)
        backends = "";
    if (started && threads == started_threads && !strcmp(backends, started_backends))
        return KILN_OK;
    if (started && open_models > 0)
        return kiln_fail(KILN_E_INVALID, "%d kiln model%s open on the current devices: close %s before asking for "
                         "other threads or backends", open_models, open_models == 1 ? " is" : "s are",
                         open_models == 1 ? "it" : "them");
    if (started)
        kiln_shutdown();
    started = false;
    const struct kiln_init_options io = { .n_threads = threads, .backends = backends[0] ? backends : NULL };
    KILN_TRY(kiln_init(&io));
    started = true;
    started_threads = threads;
    snprintf(started_backends, sizeof started_backends, "%s", backends);
    return KILN_OK;
}

bool kiln_api_device_selected(const struct kiln_device *dev, const char *backends) {
    const struct kiln_device_info *info = kiln_device_info(dev);
    if (!backends || !backends[0])
        return !info->emulated;  // lavapipe times nothing a deployment runs on (args.c says why)
    return kiln_list_has(backends, info->name) || kiln_list_has(backends, info->backend);
}

int kiln_api_version(void) { return KILN_API_VERSION; }
const char *kiln_api_build(void) { return KILN_VERSION " (" KILN_GIT_COMMIT ")"; }
void kiln_api_free(void *p) { free(p); }

enum kiln_status kiln_api_opts_parse(const char *call, const char *text, const char *allowed,
                                     struct kiln_api_opts *o) {
    o->root = NULL;
    o->call = call;
    if (!text || !text[0])
        return KILN_OK;
    o->root = cJSON_Parse(text);
    if (!cJSON_IsObject(o->root)) {
        kiln_api_opts_free(o);
        return kiln_fail(KILN_E_INVALID, "%s: options are not a JSON object", call);
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o->root) {
        if (!kiln_list_has(allowed, kv->string)) {
            const enum kiln_status st = kiln_fail(KILN_E_INVALID, "%s: unknown option '%s' (known: %s)", call,
                                                  kv->string, allowed);
            kiln_api_opts_free(o);
            return st;
        }
    }
    return KILN_OK;
}

void kiln_api_opts_free(struct kiln_api_opts *o) {
    cJSON_Delete(o->root);
    o->root = NULL;
}

static const cJSON *opt(const struct kiln_api_opts *o, const char *key) {
    const cJSON *v = o->root ? cJSON_GetObjectItemCaseSensitive(o->root, key) : NULL;
    return v && !cJSON_IsNull(v) ? v : NULL;
}

enum kiln_status kiln_api_opt_string(const struct kiln_api_opts *o, const char *key, const char **out) {
    const cJSON *v = opt(o, key);
    if (!v)
        return KILN_OK;
    if (!cJSON_IsString(v))
        return kiln_fail(KILN_E_INVALID, "%s: option '%s' must be a string", o->call, key);
    *out = v->valuestring;
    return KILN_OK;
}

enum kiln_status kiln_api_opt_int(const struct kiln_api_opts *o, const char *key, int64_t min, int64_t max,
                                  int64_t *out) {
    const cJSON *v = opt(o, key);
    if (!v)
        return KILN_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)min ||
        v->valuedouble > (double)max)
        return kiln_fail(KILN_E_INVALID, "%s: option '%s' must be an integer in [%" PRId64 ", %" PRId64 "]",
                         o->call, key, min, max);
    *out = (int64_t)v->valuedouble;
    return KILN_OK;
}

enum kiln_status kiln_api_opt_double(const struct kiln_api_opts *o, const char *key, double min, double max,
                                     double *out) {
    const cJSON *v = opt(o, key);
    if (!v)
        return KILN_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max))
        return kiln_fail(KILN_E_INVALID, "%s: option '%s' must be a number in [%g, %g]", o->call, key, min, max);
    *out = v->valuedouble;
    return KILN_OK;
}

enum kiln_status kiln_api_opt_bool(const struct kiln_api_opts *o, const char *key, bool *out) {
    const cJSON *v = opt(o, key);
    if (!v)
        return KILN_OK;
    if (!cJSON_IsBool(v))
        return kiln_fail(KILN_E_INVALID, "%s: option '%s' must be true or false", o->call, key);
    *out = cJSON_IsTrue(v);
    return KILN_OK;
}

char *kiln_api_print(cJSON *doc) {
    char *text = cJSON_PrintUnformatted(doc);
    if (!text)
        return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

// Options every device-using call takes.
static enum kiln_status start_from(const struct kiln_api_opts *o) {
    int64_t threads = 0;
    const char *backends = NULL;
    KILN_TRY(kiln_api_opt_int(o, "threads", 0, 4096, &threads));
    KILN_TRY(kiln_api_opt_string(o, "backend", &backends));
    return kiln_api_ensure_init((int)threads, backends);
}

int kiln_api_info(const char *options, char **out) {
    *out = NULL;
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("info", options, "threads,backend", &o);
    const struct kiln_topology_info *t = NULL;
    if (st == KILN_OK)
        st = start_from(&o);
    if (st == KILN_OK)
        st = kiln_topology_get(&t);
    if (st == KILN_OK) {
        cJSON *doc = kiln_info_to_json(t);
        *out = kiln_api_print(doc);
        cJSON_Delete(doc);
        if (!*out)
            st = kiln_fail(KILN_E_NOMEM, "info: out of memory");
    }
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

static cJSON *scalar_json(enum kiln_gguf_type t, const void *p) {
    uint64_t u = 0;
    memcpy(&u, p, kiln_gguf_type_size(t));
    switch (t) {
    case KILN_GGUF_INT8: return cJSON_CreateNumber((int8_t)u);
    case KILN_GGUF_INT16: return cJSON_CreateNumber((int16_t)u);
    case KILN_GGUF_INT32: return cJSON_CreateNumber((int32_t)u);
    case KILN_GGUF_INT64: return cJSON_CreateNumber((double)(int64_t)u);
    case KILN_GGUF_FLOAT32: { float f; memcpy(&f, p, 4); return isfinite(f) ? cJSON_CreateNumber(f) : cJSON_CreateNull(); }
    case KILN_GGUF_FLOAT64: { double f; memcpy(&f, p, 8); return isfinite(f) ? cJSON_CreateNumber(f) : cJSON_CreateNull(); }
    case KILN_GGUF_BOOL: return cJSON_CreateBool(u != 0);
    default: return cJSON_CreateNumber((double)u);
    }
}

static cJSON *string_json(const struct kiln_gguf_string *s) {
    char *buf = malloc(s->len + 1);
    if (!buf)
        return cJSON_CreateNull();
    memcpy(buf, s->data, s->len);
    buf[s->len] = '\0';
    cJSON *v = cJSON_CreateString(buf);  // a NUL inside ends it: GGUF strings are text
    free(buf);
    return v;
}

static cJSON *value_json(const struct kiln_gguf_value *v) {
    if (v->type == KILN_GGUF_STRING)
        return string_json(&v->str);
    if (v->type != KILN_GGUF_ARRAY) {
        uint8_t raw[8] = { 0 };
        if (v->type == KILN_GGUF_FLOAT32) { float f = (float)v->f; memcpy(raw, &f, 4); }
        else if (v->type == KILN_GGUF_FLOAT64) memcpy(raw, &v->f, 8);
        else memcpy(raw, &v->u, 8);
        return scalar_json(v->type, raw);
    }
    if (v->arr.n > 64) {  // vocabularies: 32000 strings would be most of the answer
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", kiln_gguf_type_name(v->arr.elem));
        cJSON_AddNumberToObject(o, "length", (double)v->arr.n);
        return o;
    }
    cJSON *a = cJSON_CreateArray();
    for (uint64_t i = 0; i < v->arr.n; i++) {
        if (v->arr.elem == KILN_GGUF_STRING)
            cJSON_AddItemToArray(a, string_json(&((const struct kiln_gguf_string *)v->arr.data)[i]));
        else if (v->arr.elem == KILN_GGUF_ARRAY)
            cJSON_AddItemToArray(a, cJSON_CreateNull());
        else
            cJSON_AddItemToArray(a, scalar_json(v->arr.elem, (const uint8_t *)v->arr.data + i * kiln_gguf_type_size(v->arr.elem)));
    }
    return a;
}

static cJSON *inspect_json(const struct kiln_gguf *g, bool check) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "path", g->path);
    cJSON_AddNumberToObject(doc, "version", g->version);
    cJSON_AddNumberToObject(doc, "alignment", (double)g->alignment);
    cJSON_AddNumberToObject(doc, "file_size", (double)g->file_size);
    cJSON *meta = cJSON_AddObjectToObject(doc, "metadata");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)g->kv[i].key.len, g->kv[i].key.data);
        cJSON_AddItemToObject(meta, key, value_json(&g->kv[i].value));
    }
    cJSON *tensors = cJSON_AddArrayToObject(doc, "tensors");
    uint64_t count[KILN_TYPE_COUNT] = { 0 }, bytes[KILN_TYPE_COUNT] = { 0 }, elems[KILN_TYPE_COUNT] = { 0 };
    uint64_t total_bytes = 0, total_elems = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        const uint64_t n = (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        count[t->type]++, bytes[t->type] += t->nbytes, elems[t->type] += n;
        total_bytes += t->nbytes, total_elems += n;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "type", kiln_type_name(t->type));
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (uint32_t d = 0; d < t->n_dims; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddNumberToObject(o, "bytes", (double)t->nbytes);
        cJSON_AddNumberToObject(o, "offset", (double)t->offset);
        cJSON_AddItemToArray(tensors, o);
    }
    cJSON *types = cJSON_AddObjectToObject(doc, "types");
    for (int t = 0; t < KILN_TYPE_COUNT; t++) {
        if (!count[t])
            continue;
        cJSON *o = cJSON_AddObjectToObject(types, kiln_type_name((enum kiln_type)t));
        cJSON_AddNumberToObject(o, "tensors", (double)count[t]);
        cJSON_AddNumberToObject(o, "elements", (double)elems[t]);
        cJSON_AddNumberToObject(o, "bytes", (double)bytes[t]);
        cJSON_AddNumberToObject(o, "bpw", elems[t] ? 8.0 * bytes[t] / elems[t] : 0.0);
    }
    cJSON_AddNumberToObject(doc, "bpw", total_elems ? 8.0 * total_bytes / total_elems : 0.0);
    struct kiln_model_info info;
    if (check && kiln_model_is_runnable(g) && kiln_model_check(g, &info) == KILN_OK) {
        cJSON *m = cJSON_AddObjectToObject(doc, "model");
        cJSON_AddNumberToObject(m, "n_layer", (double)info.n_layer);
        cJSON_AddNumberToObject(m, "n_embd", (double)info.n_embd);
        cJSON_AddNumberToObject(m, "n_head", (double)info.n_head);
        cJSON_AddNumberToObject(m, "n_head_kv", (double)info.n_head_kv);
        cJSON_AddNumberToObject(m, "head_dim", (double)info.head_dim);
        cJSON_AddNumberToObject(m, "n_ff", (double)info.n_ff);
        cJSON_AddNumberToObject(m, "n_vocab", (double)info.n_vocab);
    } else {
        cJSON_AddNullToObject(doc, "model");
    }
    return doc;
}

int kiln_api_inspect(const char *path, const char *options, char **out) {
    *out = NULL;
    if (!path)
        return kiln_fail(KILN_E_INVALID, "inspect: no path");
    kiln_api_lock();
    struct kiln_api_opts o;
    bool check = true;
    enum kiln_status st = kiln_api_opts_parse("inspect", options, "check", &o);
    if (st == KILN_OK)
        st = kiln_api_opt_bool(&o, "check", &check);
    struct kiln_gguf *g = NULL;
    if (st == KILN_OK)
        st = kiln_gguf_open(path, &g);
    if (st == KILN_OK && check && kiln_model_is_runnable(g)) {
        struct kiln_model_info info;
        st = kiln_model_check(g, &info);  // a file that lies about itself is an error, as kiln inspect
    }
    if (st == KILN_OK) {
        cJSON *doc = inspect_json(g, check);
        *out = kiln_api_print(doc);
        cJSON_Delete(doc);
        if (!*out)
            st = kiln_fail(KILN_E_NOMEM, "inspect: out of memory");
    }
    kiln_gguf_close(g);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}
