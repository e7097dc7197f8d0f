// libFuzzer target: kiln's safetensors reader on arbitrary bytes (see fuzz_gguf.c).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quant/file/safetensors.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/kiln-fuzz-st-XXXXXX.safetensors";
    if (kiln_fuzz_input_file(data, size, path, 12)) {
        struct kiln_st_model m;
        if (kiln_st_open(path, &m) == KILN_OK) {
            for (int i = 0; i < m.n_tensors; i++) {
                volatile uint8_t sum = 0;
                const uint8_t *p = m.tensors[i].data;
                for (uint64_t b = 0; b < m.tensors[i].nbytes; b++)
                    sum ^= p[b];
            }
            kiln_st_close(&m);
        }
        unlink(path);
    }
    return 0;
}
