// Test helper for the Python oracles: converts raw little-endian data on stdin to stdout.
//   quant_dump quantize TYPE COLS    f32 rows in, TYPE rows out (kiln's reference quantizer)
//   quant_dump dequantize TYPE COLS  TYPE rows in, f32 rows out
// Not a user tool (kiln convert is); it exposes exactly the functions under test.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/format/types.h"

static void *read_all(size_t *size) {
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    *size = n;
    return buf;
}

int main(int argc, char **argv) {
    enum kiln_type type;
    const long cols = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
    if (argc != 4 || !kiln_type_from_name(argv[2], &type) || cols <= 0 ||
        cols % kiln_type_block_size(type)) {
        fprintf(stderr, "usage: quant_dump quantize|dequantize TYPE COLS < in > out\n");
        return 2;
    }
    const struct kiln_type_traits *t = kiln_type_traits(type);
    const bool quantize = strcmp(argv[1], "quantize") == 0;
    if (quantize ? !t->from_float : !t->to_float) {
        fprintf(stderr, "quant_dump: kiln cannot %s %s\n", argv[1], t->name);
        return 1;
    }
    size_t size;
    char *in = read_all(&size);
    const size_t row_in = quantize ? (size_t)cols * 4 : kiln_row_size(type, cols);
    const size_t row_out = quantize ? kiln_row_size(type, cols) : (size_t)cols * 4;
    if (!in || size % row_in) {
        fprintf(stderr, "quant_dump: input is not a whole number of %zu-byte rows\n", row_in);
        return 1;
    }
    char *out = malloc(row_out);
    for (size_t r = 0; r < size / row_in; r++) {
        if (quantize)
            t->from_float((const float *)(in + r * row_in), out, cols);
        else
            t->to_float(in + r * row_in, (float *)out, cols);
        fwrite(out, 1, row_out, stdout);
    }
    free(out);
    free(in);
    return 0;
}
