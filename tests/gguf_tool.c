// Test helper for tests/oracle/test_gguf_py.py:
//   gguf_tool sample OUT.gguf   writes a file with every value type, arrays of numbers and
//                               strings, and f32/f16/q8_0/q4_0 tensors (deterministic values)
//   gguf_tool dump FILE.gguf    prints what kiln reads as JSON: metadata (type, value) and
//                               tensors (type id, ne, FNV-1a of the bytes)
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/file/gguf.h"

static uint64_t fnv(const void *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
    return h;
}

static cJSON *scalar_json(enum kiln_gguf_type t, const void *p) {
    uint64_t u = 0;
    memcpy(&u, p, kiln_gguf_type_size(t));
    switch (t) {
    case KILN_GGUF_INT8: return cJSON_CreateNumber((int8_t)u);
    case KILN_GGUF_INT16: return cJSON_CreateNumber((int16_t)u);
    case KILN_GGUF_INT32: return cJSON_CreateNumber((int32_t)u);
    case KILN_GGUF_INT64: return cJSON_CreateNumber((double)(int64_t)u);
    case KILN_GGUF_FLOAT32: { float f; memcpy(&f, p, 4); return cJSON_CreateNumber(f); }
    case KILN_GGUF_FLOAT64: { double f; memcpy(&f, p, 8); return cJSON_CreateNumber(f); }
    case KILN_GGUF_BOOL: return cJSON_CreateBool(u != 0);
    default: return cJSON_CreateNumber((double)u);
    }
}

static cJSON *string_json(const struct kiln_gguf_string *s) {
    char *c = malloc(s->len + 1);
    memcpy(c, s->data, s->len);
    c[s->len] = '\0';
    cJSON *j = cJSON_CreateString(c);
    free(c);
    return j;
}

static int dump(const char *path) {
    struct kiln_gguf *g;
    if (kiln_gguf_open(path, &g) != KILN_OK) {
        fprintf(stderr, "%s\n", kiln_last_error());
        return 1;
    }
    cJSON *root = cJSON_CreateObject(), *kvs = cJSON_AddObjectToObject(root, "kv");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const struct kiln_gguf_kv *kv = &g->kv[i];
        const struct kiln_gguf_value *v = &kv->value;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", kiln_gguf_type_name(v->type));
        if (v->type == KILN_GGUF_STRING) {
            cJSON_AddItemToObject(o, "value", string_json(&v->str));
        } else if (v->type == KILN_GGUF_ARRAY) {
            cJSON_AddStringToObject(o, "elem", kiln_gguf_type_name(v->arr.elem));
            cJSON *a = cJSON_AddArrayToObject(o, "value");
            for (uint64_t k = 0; k < v->arr.n; k++)
                cJSON_AddItemToArray(a, v->arr.elem == KILN_GGUF_STRING
                                            ? string_json((const struct kiln_gguf_string *)v->arr.data + k)
                                            : scalar_json(v->arr.elem, (const uint8_t *)v->arr.data + k * kiln_gguf_type_size(v->arr.elem)));
        } else {
            uint8_t raw[8];
            if (v->type == KILN_GGUF_FLOAT32) { const float f = (float)v->f; memcpy(raw, &f, 4); }
            else if (v->type == KILN_GGUF_FLOAT64) memcpy(raw, &v->f, 8);
            else memcpy(raw, &v->u, 8);
            cJSON_AddItemToObject(o, "value", scalar_json(v->type, raw));
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.data);
        cJSON_AddItemToObject(kvs, key, o);
    }
    cJSON *ts = cJSON_AddArrayToObject(root, "tensors");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const struct kiln_gguf_tensor *t = &g->tensors[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddNumberToObject(o, "type", t->type);
        cJSON *ne = cJSON_AddArrayToObject(o, "ne");
        for (uint32_t d = 0; d < t->n_dims; d++)
            cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)t->ne[d]));
        char h[24];
        snprintf(h, sizeof h, "%016" PRIx64, fnv(t->data, t->nbytes));
        cJSON_AddStringToObject(o, "fnv", h);
        cJSON_AddItemToArray(ts, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
    kiln_gguf_close(g);
    return 0;
}

static int sample(const char *path) {
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    kiln_gguf_add_string(w, "general.architecture", "llama");
    kiln_gguf_add_string(w, "general.name", "kiln sample \xc3\xa9");
    kiln_gguf_add_u32(w, "general.alignment", 64);
    kiln_gguf_add_u32(w, "llama.block_count", 2);
    kiln_gguf_add_i32(w, "test.i32", -7);
    kiln_gguf_add_u64(w, "test.u64", 1ull << 40);
    kiln_gguf_add_f32(w, "test.f32", 0.125f);
    kiln_gguf_add_bool(w, "test.bool", false);
    const struct kiln_gguf_value vals[] = {
        { .type = KILN_GGUF_UINT8, .u = 200 }, { .type = KILN_GGUF_INT8, .i = -100 },
        { .type = KILN_GGUF_UINT16, .u = 60000 }, { .type = KILN_GGUF_INT16, .i = -30000 },
        { .type = KILN_GGUF_INT64, .i = -(1ll << 50) }, { .type = KILN_GGUF_FLOAT64, .f = 3.25 },
    };
    static const char *const names[] = { "test.u8", "test.i8", "test.u16", "test.i16", "test.i64", "test.f64" };
    for (int i = 0; i < 6; i++)
        kiln_gguf_add_value(w, names[i], &vals[i]);
    const int32_t ints[5] = { 1, -2, 3, -4, 5 };
    kiln_gguf_add_array(w, "test.array_i32", KILN_GGUF_INT32, ints, 5);
    const float floats[3] = { 0.5f, -1.5f, 1e-3f };
    kiln_gguf_add_array(w, "test.array_f32", KILN_GGUF_FLOAT32, floats, 3);
    const char *tokens[] = { "<s>", "</s>", "hello", " world", "" };
    kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", tokens, 5);
    static float f32[64 * 3];
    static uint16_t f16[64 * 2];
    static uint8_t q8[2 * 34 * 2], q4[2 * 18 * 3];
    for (size_t i = 0; i < sizeof f32 / sizeof f32[0]; i++)
        f32[i] = (float)i * 0.25f - 7.0f;
    for (size_t i = 0; i < sizeof f16 / sizeof f16[0]; i++)
        f16[i] = (uint16_t)(0x3c00 + i);
    for (size_t i = 0; i < sizeof q8; i++)
        q8[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof q4; i++)
        q4[i] = (uint8_t)(i * 13 + 1);
    const int64_t ne_f32[2] = { 64, 3 }, ne_f16[2] = { 64, 2 }, ne_q8[2] = { 64, 2 }, ne_q4[2] = { 64, 3 };
    kiln_gguf_add_tensor(w, "token_embd.weight", KILN_TYPE_F32, 2, ne_f32, f32, NULL, NULL);
    kiln_gguf_add_tensor(w, "blk.0.attn_q.weight", KILN_TYPE_F16, 2, ne_f16, f16, NULL, NULL);
    kiln_gguf_add_tensor(w, "blk.0.attn_k.weight", KILN_TYPE_Q8_0, 2, ne_q8, q8, NULL, NULL);
    kiln_gguf_add_tensor(w, "blk.0.ffn_up.weight", KILN_TYPE_Q4_0, 2, ne_q4, q4, NULL, NULL);
    const enum kiln_status st = kiln_gguf_write(w, path);
    kiln_gguf_writer_free(w);
    if (st != KILN_OK) {
        fprintf(stderr, "%s\n", kiln_last_error());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "dump"))
        return dump(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "sample"))
        return sample(argv[2]);
    fprintf(stderr, "usage: gguf_tool dump FILE | gguf_tool sample OUT\n");
    return 2;
}
