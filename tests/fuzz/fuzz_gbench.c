// libFuzzer target: the Google Benchmark JSON reader behind `kiln compare` and `kiln plot`
// (bench/report/gbench_read.c) on arbitrary bytes. Seeds: tests/data/*.json (valid files of kiln's
// and of other tools, and the malformed ones the compare tests use).
#include <stdint.h>
#include <unistd.h>

#include "bench/report/gbench_read.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/kiln-fuzz-gb-XXXXXX.json";
    if (kiln_fuzz_input_file(data, size, path, 5)) {
        struct kiln_gb_file f;
        if (kiln_gb_load(path, &f) == KILN_OK)
            kiln_gb_free(&f);
        unlink(path);
    }
    return 0;
}
