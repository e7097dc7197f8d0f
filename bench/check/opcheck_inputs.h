// A memo for `kiln ops` (opcheck_inputs.c): the random inputs of a check and the references'
// outputs on them, kept by key for the rest of the run. Making them is most of a check's time:
// N(0, sigma) by Box-Muller, then the type's reference quantizer (the K-quant and IQ4 scale
// searches cost far more than any kernel on these shapes), then the single-threaded reference
// and, for rows that round x, the rounding-aware one; perf on `kiln ops --backend cpu` put
// them at about 85% of the run. Every line of one op and type (the reference row, each SIMD
// row, the fallback) is seeded alike (cmd_ops.c), so they ask for the same tensors: the memo
// hands back the bytes (and generator state) that making them again would give.
#ifndef KILN_BENCH_CHECK_OPCHECK_INPUTS_H
#define KILN_BENCH_CHECK_OPCHECK_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Finds the entry made under key[0..key_size): its bytes (valid until kiln_memo_clear), their
// size, and the caller's 64-bit extra (a generator state, a bound's bits).
bool kiln_memo_find(const void *key, size_t key_size, const uint8_t **bytes, size_t *size,
                    uint64_t *extra);

// Keeps a copy of bytes[0..size) under the key. Keeps nothing when the memo is full (256 MiB)
// or memory is short: the memo only saves time, it never decides a result.
void kiln_memo_keep(const void *key, size_t key_size, const void *bytes, size_t size,
                    uint64_t extra);

// Frees everything held (kiln ops calls it when done).
void kiln_memo_clear(void);

#endif
