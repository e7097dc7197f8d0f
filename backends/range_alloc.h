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

// A pool of device-memory blocks, each sub-allocated by its ranges: the GPU backends' buffer
// allocator. The backend makes and frees the blocks (callbacks; a backend's block struct starts
// with struct kiln_pool_block); the pool picks a block with room (first fit), makes a new one
// of block_size (or, if that fails, of just the size asked) when none has, and gives an empty
// block back unless it is the last one.
#include "backends/status.h"

struct kiln_pool_block {
    struct kiln_ranges ranges;
    struct kiln_pool_block *next;
};

struct kiln_block_pool {
    uint64_t block_size;
    void *ctx;
    // Makes a block of `size` bytes (its ranges are the pool's to set up); a message on failure.
    enum kiln_status (*block_new)(void *ctx, uint64_t size, struct kiln_pool_block **out);
    void (*block_free)(void *ctx, struct kiln_pool_block *block);
    struct kiln_pool_block *blocks;
};

enum kiln_status kiln_pool_take(struct kiln_block_pool *p, uint64_t size, struct kiln_pool_block **block,
                                uint64_t *offset);
void kiln_pool_give(struct kiln_block_pool *p, struct kiln_pool_block *block, uint64_t offset, uint64_t size);
void kiln_pool_release(struct kiln_block_pool *p);
