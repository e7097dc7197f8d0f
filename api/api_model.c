// libkiln's model-file calls (kiln.h): convert/quantize with a progress callback, and a model
// loaded for logits (kiln.run).
#include "api/kiln.h"
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/model/model.h"
#include "quant/convert/convert.h"

static enum kiln_status type_option(const struct kiln_api_opts *o, const char *key, enum kiln_type *out) {
    const char *name = NULL;
    KILN_TRY(kiln_api_opt_string(o, key, &name));
    if (name && !kiln_type_from_name(name, out))
        return kiln_fail(KILN_E_INVALID, "convert: option '%s': unknown type '%s'", key, name);
    return KILN_OK;
}

static enum kiln_status convert(const char *src, const char *dst, const struct kiln_api_opts *o,
                                kiln_api_progress_fn progress, void *user, char **out) {
    struct stat sb;
    if (stat(src, &sb) != 0)
        return kiln_fail(KILN_E_IO, "convert: %s: no such file or folder", src);
    const bool folder = S_ISDIR(sb.st_mode);
    struct stat db;
    if (stat(dst, &db) == 0 && db.st_dev == sb.st_dev && db.st_ino == sb.st_ino)
        return kiln_fail(KILN_E_INVALID, "convert: the output would overwrite the input");
    const char *type = folder ? "f16" : NULL, *imatrix = NULL, *overrides = NULL;
    KILN_TRY(kiln_api_opt_string(o, "type", &type));
    if (!type)
        return kiln_fail(KILN_E_INVALID, "convert: a GGUF input needs 'type' (q4_k_m, q8_0, ...: %s)", kiln_mix_names());
    struct kiln_convert_options co;
    if (!kiln_convert_options_for(type, &co))
        return kiln_fail(KILN_E_INVALID, "convert: unknown type '%s' (%s, or a type name)", type, kiln_mix_names());
    int64_t threads = 0;
    bool pure = false, dry = false;
    KILN_TRY(kiln_api_opt_int(o, "threads", 0, 4096, &threads));
    KILN_TRY(kiln_api_opt_string(o, "imatrix", &imatrix));
    KILN_TRY(kiln_api_opt_string(o, "tensor_type", &overrides));
    KILN_TRY(kiln_api_opt_bool(o, "pure", &pure));
    KILN_TRY(kiln_api_opt_bool(o, "leave_output_tensor", &co.mix.leave_output));
    KILN_TRY(kiln_api_opt_bool(o, "dry_run", &dry));
    KILN_TRY(type_option(o, "output_tensor_type", &co.mix.output_type));
    KILN_TRY(type_option(o, "token_embedding_type", &co.mix.token_embd_type));
    struct kiln_convert_summary sum = { 0 };
    co.threads = (int)threads;
    co.imatrix_path = imatrix;
    co.overrides = overrides;
    co.mix.pure |= pure;
    co.dry_run = dry;
    co.progress = 0;
    co.silent = true;
    co.summary = &sum;
    co.on_progress = progress;
    co.progress_user = user;
    KILN_TRY(folder ? kiln_convert_hf(src, dst, &co) : kiln_quantize_gguf(src, dst, &co));
    if (out) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "bytes_in", (double)sum.bytes_in);
        cJSON_AddNumberToObject(doc, "bytes_out", (double)sum.bytes_out);
        cJSON_AddNumberToObject(doc, "elements", (double)sum.n_elements);
        cJSON_AddNumberToObject(doc, "bpw", sum.n_elements ? 8.0 * (double)sum.bytes_out / (double)sum.n_elements : 0.0);
        cJSON_AddNumberToObject(doc, "rel_rmse", sum.rel_rmse);
        cJSON_AddNumberToObject(doc, "seconds", sum.seconds);
        cJSON_AddBoolToObject(doc, "dry_run", dry);
        *out = kiln_api_print(doc);
        cJSON_Delete(doc);
        if (!*out)
            return kiln_fail(KILN_E_NOMEM, "convert: out of memory");
    }
    return KILN_OK;
}

int kiln_api_convert(const char *src, const char *dst, const char *options, kiln_api_progress_fn progress,
                     void *user, char **out) {
    if (out)
        *out = NULL;
    if (!src || !dst)
        return kiln_fail(KILN_E_INVALID, "convert: needs a source and a destination");
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("convert", options,
        "type,threads,imatrix,tensor_type,pure,output_tensor_type,token_embedding_type,leave_output_tensor,dry_run", &o);
    if (st == KILN_OK)
        st = convert(src, dst, &o, progress, user, out);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

struct kiln_api_model {
    struct kiln_model *model;
    struct kiln_stream *stream;
    struct kiln_device *device;
    int64_t n_ctx;
};

static enum kiln_status model_open(const char *path, const struct kiln_api_opts *o, struct kiln_api_model **out) {
    const char *backend = "cpu";
    int64_t threads = 0, ctx = 512;
    KILN_TRY(kiln_api_opt_string(o, "backend", &backend));
    KILN_TRY(kiln_api_opt_int(o, "threads", 0, 4096, &threads));
    KILN_TRY(kiln_api_opt_int(o, "ctx", 1, 1 << 20, &ctx));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return kiln_fail(KILN_E_IO, "model: %s: no such file", path);
    KILN_TRY(kiln_api_ensure_init((int)threads, backend));
    struct kiln_device *dev = kiln_device_find(backend);
    if (!dev)
        return kiln_fail(KILN_E_INVALID, "model: no device '%s' (kiln.info() lists them)", backend);
    struct kiln_api_model *m = calloc(1, sizeof *m);
    if (!m)
        return kiln_fail(KILN_E_NOMEM, "model: out of memory");
    m->device = dev;
    m->n_ctx = ctx;
    enum kiln_status st = kiln_model_load(path, dev, ctx, ctx, &m->model);
    if (st == KILN_OK)
        st = kiln_stream_new(dev, &m->stream);
    if (st != KILN_OK) {
        kiln_stream_free(m->stream);
        kiln_model_free(m->model);
        free(m);
        return st;
    }
    kiln_api_models_changed(+1);
    *out = m;
    return KILN_OK;
}

int kiln_api_model_open(const char *path, const char *options, struct kiln_api_model **out) {
    *out = NULL;
    if (!path)
        return kiln_fail(KILN_E_INVALID, "model: no path");
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("model", options, "backend,threads,ctx", &o);
    if (st == KILN_OK)
        st = model_open(path, &o, out);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

int kiln_api_model_info(const struct kiln_api_model *m, char **out) {
    *out = NULL;
    if (!m)
        return kiln_fail(KILN_E_INVALID, "model: closed");
    const struct kiln_model_info *i = kiln_model_get_info(m->model);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "n_vocab", (double)i->n_vocab);
    cJSON_AddNumberToObject(doc, "n_ctx", (double)m->n_ctx);
    cJSON_AddNumberToObject(doc, "n_layer", (double)i->n_layer);
    cJSON_AddNumberToObject(doc, "n_embd", (double)i->n_embd);
    cJSON_AddStringToObject(doc, "name", i->name);
    cJSON_AddStringToObject(doc, "device", kiln_device_info(m->device)->name);
    *out = kiln_api_print(doc);
    cJSON_Delete(doc);
    return *out ? KILN_OK : kiln_fail(KILN_E_NOMEM, "model: out of memory");
}

int kiln_api_model_logits(struct kiln_api_model *m, const int32_t *tokens, int64_t n_tokens, float *logits,
                          int64_t capacity) {
    if (!m)
        return kiln_fail(KILN_E_INVALID, "run: the model is closed");
    const int64_t V = kiln_model_get_info(m->model)->n_vocab;
    if (n_tokens < 1 || !tokens)
        return kiln_fail(KILN_E_INVALID, "run: no tokens");
    if (n_tokens > m->n_ctx)
        return kiln_fail(KILN_E_INVALID, "run: %lld tokens do not fit the context of %lld (open the model with a "
                         "larger ctx)", (long long)n_tokens, (long long)m->n_ctx);
    if (!logits || capacity < n_tokens * V)
        return kiln_fail(KILN_E_INVALID, "run: the logits buffer holds %lld floats, %lld needed", (long long)capacity,
                         (long long)(n_tokens * V));
    for (int64_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return kiln_fail(KILN_E_INVALID, "run: token %lld is %d, outside the vocabulary [0, %lld)", (long long)i,
                             tokens[i], (long long)V);
    kiln_api_lock();
    const enum kiln_status st = kiln_model_forward(m->model, m->stream, tokens, n_tokens, 0, logits, false);
    kiln_api_unlock();
    return st;
}

void kiln_api_model_close(struct kiln_api_model *m) {
    if (!m)
        return;
    kiln_api_lock();
    kiln_stream_free(m->stream);
    kiln_model_free(m->model);
    free(m);
    kiln_api_models_changed(-1);
    kiln_api_unlock();
}
