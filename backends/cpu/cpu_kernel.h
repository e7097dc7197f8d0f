// How CPU kernels plug into the CPU backend.
//
// A CPU kernel row's `impl` points to a struct kiln_cpu_kernel. The backend asks it for a
// workspace size, runs `prepare` on every pool thread (e.g. quantizing activations to Q8_0),
// then `compute` on every thread; each call gets its thread index and the thread count and
// does its share. Kernels never allocate and never see the pool.
#pragma once

#include <stdint.h>

#include "backends/kernel.h"

struct kiln_cpu_kernel {
    size_t (*workspace)(const struct kiln_op *op, int nth);                  // (optional)
    void (*prepare)(const struct kiln_op *op, void *ws, int ith, int nth);   // (optional)
    void (*compute)(const struct kiln_op *op, void *ws, int ith, int nth);
};

// [*lo, *hi): thread ith's share of n items, in contiguous chunks (the first n % nth get one more).
static inline void kiln_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi) {
    const int64_t base = n / nth, rem = n % nth;
    *lo = ith * base + (ith < rem ? ith : rem);
    *hi = *lo + base + (ith < rem ? 1 : 0);
}

// Host pointer to row (i1, i2, i3) of a tensor in CPU memory.
#define KILN_ROW(t, i1, i2, i3) kiln_tensor_row_ptr((t), (i1), (i2), (i3))

// The CPU backend's kernel table (cpu_kernels.c).
extern const struct kiln_kernel kiln_cpu_kernels[];
extern const int kiln_cpu_kernel_count;
