// First-fit allocation of byte ranges inside one block of device memory, for the GPU backends'
// sub-allocators (backends/vulkan/vk_memory.c, backends/cuda/cuda_backend.c): free ranges kept
// sorted by offset and coalesced on release. kiln allocates few, large buffers (weight arenas,
// the K/V cache, activations, scratch), so a list is enough.
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct kiln_range {
    uint64_t offset, size;
    struct kiln_range *next;
};

struct kiln_ranges {
    uint64_t size;
    struct kiln_range *free_list;
};

// All of [0, size) free; false if out of host memory.
bool kiln_ranges_init(struct kiln_ranges *r, uint64_t size);
void kiln_ranges_release(struct kiln_ranges *r);
// Takes `size` bytes (first fit); false if no free range is large enough.
bool kiln_ranges_take(struct kiln_ranges *r, uint64_t size, uint64_t *offset);
// Returns a range taken before.
void kiln_ranges_give(struct kiln_ranges *r, uint64_t offset, uint64_t size);
bool kiln_ranges_empty(const struct kiln_ranges *r);
