// Llama configs (llama_config.h).
#include "quant/file/hf_config.h"
#include "quant/file/file_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>

static const struct kiln_model_config presets[] = {
    { "micro", 64, 1, 2, 1, 128, 64, 64, 1e-5, 10000.0, true },
    { "tiny", 256, 2, 4, 2, 512, 512, 512, 1e-5, 10000.0, false },
    { "bench-2l", 2048, 2, 32, 4, 5632, 32000, 2048, 1e-5, 10000.0, false },
    { "llama-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 1e-5, 500000.0, true },
    { "tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 1e-5, 10000.0, false },
    { "llama-2-7b", 4096, 32, 32, 32, 11008, 32000, 4096, 1e-5, 10000.0, false },
    { "llama-3-8b", 4096, 32, 32, 8, 14336, 128256, 8192, 1e-5, 500000.0, false },
};

bool kiln_model_preset(const char *name, struct kiln_model_config *out) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (!strcmp(presets[i].name, name)) {
            *out = presets[i];
            return true;
        }
    }
    return false;
}

const char *kiln_model_preset_names(void) {
    return "micro (fuzzing seeds: under 64 KiB as Q4_0), tiny, bench-2l (TinyLlama shapes, 2 layers), llama-1b, tinyllama-1.1b, llama-2-7b, llama-3-8b";
}

static enum kiln_status get_int(const char *path, const cJSON *j, const char *key, int64_t *out,
                                int64_t fallback, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) {
        if (required)
            return kiln_fail(KILN_E_FORMAT, "%s: missing \"%s\"", path, key);
        *out = fallback;
        return KILN_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 || v->valuedouble != (double)(int64_t)v->valuedouble)
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" must be a positive integer", path, key);
    *out = (int64_t)v->valuedouble;
    return KILN_OK;
}

static enum kiln_status get_double(const char *path, const cJSON *j, const char *key, double *out,
                                   double fallback, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) {
        if (required)
            return kiln_fail(KILN_E_FORMAT, "%s: missing \"%s\"", path, key);
        *out = fallback;
        return KILN_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" must be a positive number", path, key);
    *out = v->valuedouble;
    return KILN_OK;
}

static enum kiln_status parse(const char *path, const cJSON *j, struct kiln_model_config *c) {
    if (!cJSON_IsObject(j))
        return kiln_fail(KILN_E_FORMAT, "%s: not a JSON object", path);
    KILN_TRY(get_int(path, j, "hidden_size", &c->hidden, 0, true));
    KILN_TRY(get_int(path, j, "num_hidden_layers", &c->layers, 0, true));
    KILN_TRY(get_int(path, j, "num_attention_heads", &c->heads, 0, true));
    KILN_TRY(get_int(path, j, "num_key_value_heads", &c->kv_heads, c->heads, false));
    KILN_TRY(get_int(path, j, "intermediate_size", &c->ffn, 0, true));
    KILN_TRY(get_int(path, j, "vocab_size", &c->vocab, 0, true));
    KILN_TRY(get_int(path, j, "max_position_embeddings", &c->max_pos, 2048, false));
    KILN_TRY(get_double(path, j, "rms_norm_eps", &c->rms_eps, 0, true));
    KILN_TRY(get_double(path, j, "rope_theta", &c->rope_theta, 10000.0, false));
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(j, "tie_word_embeddings");
    c->tie_embeddings = cJSON_IsTrue(tie);
    if (c->hidden % c->heads || c->heads % c->kv_heads || (c->hidden / c->heads) % 2)
        return kiln_fail(KILN_E_FORMAT, "%s: %" PRId64 " heads do not divide hidden_size %" PRId64
                         " into even head dims, or %" PRId64 " kv heads do not divide them", path,
                         c->heads, c->hidden, c->kv_heads);
    return KILN_OK;
}

enum kiln_status kiln_model_config_load(const char *dir, struct kiln_model_config *out) {
    memset(out, 0, sizeof *out);
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *j;
    KILN_TRY(kiln_load_json_file(path, (size_t)16 << 20, &j));
    const enum kiln_status s = parse(path, j, out);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "_name_or_path");
    const char *slash = strrchr(dir, '/');
    snprintf(out->name, sizeof out->name, "%s", cJSON_IsString(name) ? name->valuestring : slash ? slash + 1 : dir);
    cJSON_Delete(j);
    return s;
}

enum kiln_status kiln_model_config_save(const struct kiln_model_config *c, const char *path) {
    cJSON *j = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("LlamaForCausalLM"));
    cJSON_AddStringToObject(j, "model_type", "llama");
    cJSON_AddStringToObject(j, "_name_or_path", c->name);
    cJSON_AddNumberToObject(j, "hidden_size", (double)c->hidden);
    cJSON_AddNumberToObject(j, "num_hidden_layers", (double)c->layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", (double)c->heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", (double)c->kv_heads);
    cJSON_AddNumberToObject(j, "intermediate_size", (double)c->ffn);
    cJSON_AddNumberToObject(j, "vocab_size", (double)c->vocab);
    cJSON_AddNumberToObject(j, "max_position_embeddings", (double)c->max_pos);
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_eps);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddStringToObject(j, "torch_dtype", "float16");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    FILE *f = fopen(path, "w");
    const bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        return kiln_fail(KILN_E_IO, "writing %s failed", path);
    free(text);
    return ok ? KILN_OK : kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(errno));
}
