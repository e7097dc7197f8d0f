// libFuzzer target: the model loader (bench/model/model.c, model_check.c) on arbitrary GGUF bytes, on
// the CPU device with its memory capped at 64 MiB (KILN_CPU_MEMORY_BYTES), then a 3-token
// prefill and one decode step where the load succeeds. Any input must give a clean error or a
// run: no crash, no leak, no allocation past libFuzzer's -rss_limit_mb / -malloc_limit_mb
// (a loader that sized a buffer from a lying block_count or context_length fails here).
// Seeds: the tiny test models (scripts/fuzz.sh), small enough for -max_len.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backends/backend.h"
#include "bench/model/model.h"
#include "tests/fuzz/fuzz_input.h"

static struct kiln_device *cpu(void) {
    static struct kiln_device *dev;
    if (!dev) {
        setenv("KILN_CPU_MEMORY_BYTES", "67108864", 1);
        setenv("KILN_NO_REPACK", "1", 0);
        const struct kiln_init_options o = { .n_threads = 1, .no_pin = true, .backends = "cpu" };
        if (kiln_init(&o) != KILN_OK || !(dev = kiln_device_find("cpu")))
            abort();
    }
    return dev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kiln_device *dev = cpu();
    char path[] = "/tmp/kiln-fuzz-model-XXXXXX";
    if (!kiln_fuzz_input_file(data, size, path, 0))
        return 0;
    struct kiln_model *m = NULL;
    if (kiln_model_load(path, dev, 8, 4, &m) == KILN_OK) {
        struct kiln_stream *s = NULL;
        if (kiln_stream_new(dev, &s) == KILN_OK) {
            const int32_t tokens[3] = { 0, 1 % (int32_t)kiln_model_get_info(m)->n_vocab, 0 };
            float *logits = malloc(sizeof(float) * (size_t)kiln_model_get_info(m)->n_vocab);
            if (logits && kiln_model_forward(m, s, tokens, 3, 0, logits, true) == KILN_OK)
                kiln_model_forward(m, s, tokens, 1, 3, logits, true);
            free(logits);
            kiln_stream_sync(s);
            kiln_stream_free(s);
        }
        kiln_model_free(m);
    }
    unlink(path);
    return 0;
}
