// Synthetic Hugging Face Llama folders (synth.h).
#include "quant/synth/synth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quant/synth/rng.h"
#include "quant/format/fp16.h"

static uint64_t elements(const struct kiln_hf_tensor *t) {
    return (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
}

static enum kiln_status write_safetensors(const struct kiln_model_config *c, const char *path, uint64_t seed,
                                         bool bf16) {
    const char *dtype = bf16 ? "BF16" : "F16";
    const int n = kiln_hf_tensors(c, NULL, 0);
    struct kiln_hf_tensor *ts = calloc((size_t)n, sizeof *ts);
    if (!ts)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    kiln_hf_tensors(c, ts, n);
    // Header: {"__metadata__":..., name: {dtype, shape, data_offsets}}, padded with spaces to 8.
    size_t cap = 256 + (size_t)n * 224, len = 0;
    char *h = malloc(cap);
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\",\"generator\":\"kiln synth\"}");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        const uint64_t bytes = 2 * elements(&ts[i]);
        if (ts[i].ndim == 2)
            len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%" PRId64 ",%" PRId64
                                    "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", ts[i].name, dtype, ts[i].shape[0],
                                    ts[i].shape[1], off, off + bytes);
        else
            len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%" PRId64
                                    "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", ts[i].name, dtype, ts[i].shape[0],
                                    off, off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8)
        h[len++] = ' ';
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    enum kiln_status s = f ? KILN_OK : kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(errno));
    uint8_t len_le[8];
    for (int i = 0; i < 8; i++)
        len_le[i] = (uint8_t)((uint64_t)len >> (8 * i));
    if (s == KILN_OK && (fwrite(len_le, 1, 8, f) != 8 || fwrite(h, 1, len, f) != len))
        s = kiln_fail(KILN_E_IO, "writing %s failed: %s", path, strerror(errno));
    enum { CHUNK = 1 << 16 };
    float *x = malloc(CHUNK * sizeof(float));
    uint16_t *hv = malloc(CHUNK * sizeof(uint16_t));
    struct kiln_rng rng = kiln_rng_seed(seed);
    for (int i = 0; i < n && s == KILN_OK; i++) {
        // Norm weights near 1; biases (1-D too) and matrices near 0, biases larger so that
        // dropping one would show in the logits.
        const size_t nl = strlen(ts[i].name);
        const bool bias = nl > 5 && !strcmp(ts[i].name + nl - 5, ".bias");
        const bool norm = ts[i].ndim == 1 && !bias;
        for (uint64_t done = 0, total = elements(&ts[i]); done < total && s == KILN_OK;) {
            const uint64_t k = total - done < CHUNK ? total - done : CHUNK;
            kiln_rng_fill_normal(&rng, x, (int64_t)k, norm || bias ? 0.1f : 0.02f);
            for (uint64_t e = 0; e < k; e++)
                hv[e] = bf16 ? kiln_f32_to_bf16(norm ? 1.0f + x[e] : x[e]) : kiln_f32_to_f16(norm ? 1.0f + x[e] : x[e]);
            if (fwrite(hv, 2, k, f) != k)
                s = kiln_fail(KILN_E_IO, "writing %s failed: %s", path, strerror(errno));
            done += k;
        }
    }
    free(x);
    free(hv);
    free(h);
    free(ts);
    if (f && fclose(f) != 0 && s == KILN_OK)
        s = kiln_fail(KILN_E_IO, "writing %s failed: %s", path, strerror(errno));
    if (s == KILN_OK && rename(tmp, path) != 0)
        s = kiln_fail(KILN_E_IO, "cannot rename %s: %s", tmp, strerror(errno));
    if (s != KILN_OK)
        remove(tmp);
    return s;
}

// A small byte-level BPE tokenizer.json (tokens "t<i>", merges of neighbours, <s> and </s> as
// special added tokens) and its tokenizer_config.json, for models whose vocabulary is small
// enough to spell out: it exercises the converter's tokenizer path end to end.
static enum kiln_status write_tokenizer(const struct kiln_model_config *c, const char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(errno));
    const int64_t n = c->vocab - 2;
    fprintf(f, "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":%" PRId64 ",\"content\":\"<s>\",\"special\":true},"
               "{\"id\":%" PRId64 ",\"content\":\"</s>\",\"special\":true}],\"model\":{\"type\":\"BPE\",\"vocab\":{",
            n, n + 1);
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%s\"t%" PRId64 "\":%" PRId64, i ? "," : "", i, i);
    fprintf(f, "},\"merges\":[");
    for (int64_t i = 0; i + 1 < n && i < 64; i++)
        fprintf(f, "%s\"t%" PRId64 " t%" PRId64 "\"", i ? "," : "", i, i + 1);
    fprintf(f, "]}}\n");
    if (fclose(f) != 0)
        return kiln_fail(KILN_E_IO, "writing %s failed", path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    f = fopen(path, "w");
    if (!f)
        return kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "{\"bos_token\":\"<s>\",\"eos_token\":{\"content\":\"</s>\"},\"add_bos_token\":true}\n");
    return fclose(f) == 0 ? KILN_OK : kiln_fail(KILN_E_IO, "writing %s failed", path);
}

enum kiln_status kiln_synth_write(const struct kiln_model_config *c, const char *dir, uint64_t seed, bool bf16) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return kiln_fail(KILN_E_IO, "cannot create %s: %s", dir, strerror(errno));
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    KILN_TRY(write_safetensors(c, path, seed, bf16));
    if (c->vocab <= 4096)
        KILN_TRY(write_tokenizer(c, dir));
    snprintf(path, sizeof path, "%s/config.json", dir);
    return kiln_model_config_save(c, path);
}
