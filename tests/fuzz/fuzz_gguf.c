// libFuzzer target: kiln's GGUF reader on arbitrary bytes (written to a temporary file, since
// the reader maps files). Any input must give KILN_OK or a clean error: no crash, no leak, no
// out-of-bounds read (built with -fsanitize=fuzzer,address,undefined by scripts/fuzz.sh).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quant/file/gguf.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/kiln-fuzz-gguf-XXXXXX";
    if (kiln_fuzz_input_file(data, size, path, 0)) {
        struct kiln_gguf *g = NULL;
        if (kiln_gguf_open(path, &g) == KILN_OK) {
            for (uint64_t i = 0; i < g->n_tensors; i++) {  // touch every byte the reader hands out
                volatile uint8_t sum = 0;
                const uint8_t *p = g->tensors[i].data;
                for (uint64_t b = 0; b < g->tensors[i].nbytes; b++)
                    sum ^= p[b];
            }
            kiln_gguf_close(g);
        }
        unlink(path);
    }
    return 0;
}
