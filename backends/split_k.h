// Split-K for decode attention (flash-decoding), shared by the GPU backends: how many chunks of
// keys to cut a (query, head) row's keys into when there are too few rows to fill the device.
#pragma once

#include <stdint.h>
#include <stdlib.h>

// rows = n_q * H; busy_rows = rows that already fill the device. Returns the split count (1 = no
// split) and in *chunk the keys per split: at least 192 (whole 64-key tiles), at most 32 splits.
// KILN_NO_SPLITK turns it off, to test and compare the one-pass path.
static inline uint32_t kiln_attention_splits(uint32_t rows, uint32_t n_kv, uint32_t busy_rows, uint32_t *chunk) {
    static int disabled = -1;  // read once: this runs for every attention launch
    if (disabled < 0)
        disabled = getenv("KILN_NO_SPLITK") != NULL;
    *chunk = 0;
    if (rows >= busy_rows || n_kv < 256 || disabled)
        return 1;
    uint32_t splits = (n_kv + 255) / 256 < 32 ? (n_kv + 255) / 256 : 32;
    *chunk = ((n_kv + splits - 1) / splits + 63) / 64 * 64;
    if (*chunk < 192)
        *chunk = 192;
    splits = (n_kv + *chunk - 1) / *chunk;
    if (splits < 2)
        *chunk = 0;
    return splits < 2 ? 1 : splits;
}
