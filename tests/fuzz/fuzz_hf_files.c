// libFuzzer target: the Hugging Face folder files the converter parses — config.json
// (quant/file/hf_config.c), tokenizer.json and the SentencePiece tokenizer.model protobuf
// (quant/tokenizer/tokenizer.c), and the sharded checkpoint's model.safetensors.index.json
// (quant/file/safetensors.c). The first input byte picks the file (0: config.json, 1: tokenizer.json,
// 2: tokenizer.model, 3: tokenizer.json beside a fixed tokenizer_config.json, 4: the index,
// beside two valid one-tensor shards), the rest is its contents, written into a fresh folder
// that the parser then reads as `kiln convert` would.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/file/hf_config.h"
#include "quant/file/safetensors.h"
#include "quant/tokenizer/tokenizer.h"

static bool write_file(const char *dir, const char *name, const uint8_t *data, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    const bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

static void remove_file(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    static const char *const names[] = { "config.json", "tokenizer.json", "tokenizer.model", "tokenizer.json",
                                         "model.safetensors.index.json" };
    const int which = data[0] % 5;
    char dir[] = "/tmp/kiln-fuzz-hf-XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    static const char config_side[] = "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_bos_token\": true}";
    bool ok = write_file(dir, names[which], data + 1, size - 1);
    if (which == 3)
        ok = ok && write_file(dir, "tokenizer_config.json", (const uint8_t *)config_side, sizeof config_side - 1);
    // Two shards holding tensors "a" and "b" (2 f16 each), what a seed index maps.
    static const char shard_a[] = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}     ";
    static const char shard_b[] = "{\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}     ";
    if (which == 4) {
        for (int k = 0; k < 2 && ok; k++) {
            const char *h = k ? shard_b : shard_a;
            uint8_t file[128] = { 0 };
            const size_t hl = strlen(h);
            file[0] = (uint8_t)hl;
            memcpy(file + 8, h, hl);
            memcpy(file + 8 + hl, "\x00\x3c\x00\x40", 4);
            ok = write_file(dir, k ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors",
                            file, 8 + hl + 4);
        }
    }
    if (ok && which == 4) {
        struct kiln_st_model m;
        if (kiln_st_open(dir, &m) == KILN_OK)
            kiln_st_close(&m);
    } else if (ok && which == 0) {
        struct kiln_model_config c;
        (void)kiln_model_config_load(dir, &c, NULL, 0);
    } else if (ok) {
        struct kiln_gguf_writer *w = kiln_gguf_writer_new();
        bool added = false;
        if (w)
            (void)kiln_tokenizer_add(w, dir, 320, &added);
        kiln_gguf_writer_free(w);
    }
    remove_file(dir, names[which]);
    remove_file(dir, "tokenizer_config.json");
    remove_file(dir, "model-00001-of-00002.safetensors");
    remove_file(dir, "model-00002-of-00002.safetensors");
    rmdir(dir);
    return 0;
}
