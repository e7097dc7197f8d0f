// Device memory for the Vulkan backend: a sub-allocator over large blocks, so a model's
// hundreds of tensors do not each cost a vkAllocateMemory (drivers cap allocations at a few
// thousand, and each is slow). Each block is one VkDeviceMemory with one VkBuffer over all of
// it; a kiln buffer is a range of a block, bound to shaders as (block buffer, offset, range).
// The blocks and the ranges inside them: backends/range_alloc.c's pool (first fit, coalesced).
#include <stdio.h>
#include <stdlib.h>

#include "backends/vulkan/vk_internal.h"

#define ALIGN ((VkDeviceSize)256)  // >= every driver's minStorageBufferOffsetAlignment seen

static VkDeviceSize round_up(VkDeviceSize x, VkDeviceSize a) { return (x + a - 1) / a * a; }

// The pool's block callbacks (backends/range_alloc.h): one VkBuffer over one VkDeviceMemory.
static enum kiln_status block_new(void *ctx, uint64_t size, struct kiln_pool_block **out) {
    struct kiln_vk_device *vd = ctx;
    struct kiln_vk_block *b = calloc(1, sizeof *b);
    if (!b)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    const VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE };
    VkResult res = kiln_vk.vkCreateBuffer(vd->device, &bi, NULL, &b->buffer);
    if (res == VK_SUCCESS) {
        VkMemoryRequirements req;
        kiln_vk.vkGetBufferMemoryRequirements(vd->device, b->buffer, &req);
        const VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                          .allocationSize = req.size,
                                          .memoryTypeIndex = vd->device_type_index };
        res = kiln_vk.vkAllocateMemory(vd->device, &ai, NULL, &b->memory);
        if (res == VK_SUCCESS)
            res = kiln_vk.vkBindBufferMemory(vd->device, b->buffer, b->memory, 0);
    }
    if (res != VK_SUCCESS) {
        if (b->memory)
            kiln_vk.vkFreeMemory(vd->device, b->memory, NULL);
        if (b->buffer)
            kiln_vk.vkDestroyBuffer(vd->device, b->buffer, NULL);
        free(b);
        uint64_t total = 0, free_bytes = 0;
        bool known = false;
        kiln_vk_memory(&vd->dev, &total, &free_bytes, &known);
        if (res == VK_ERROR_OUT_OF_DEVICE_MEMORY || res == VK_ERROR_OUT_OF_HOST_MEMORY)
            return kiln_fail(KILN_E_NOMEM,
                             "%s: out of device memory allocating a %.1f MiB block (device %.1f MiB, "
                             "kiln holds %.1f MiB%s)", vd->dev.info.name, (double)size / 1048576.0,
                             (double)total / 1048576.0, (double)vd->dev.live_bytes / 1048576.0,
                             known ? "" : "; free memory unknown");
        return kiln_vk_fail(res, "vkAllocateMemory");
    }
    b->size = size;
    *out = &b->base;
    return KILN_OK;
}

static void block_free(void *ctx, struct kiln_pool_block *pb) {
    struct kiln_vk_device *vd = ctx;
    struct kiln_vk_block *b = (struct kiln_vk_block *)pb;
    kiln_vk.vkDestroyBuffer(vd->device, b->buffer, NULL);
    kiln_vk.vkFreeMemory(vd->device, b->memory, NULL);
    free(b);
}

void kiln_vk_pool_init(struct kiln_vk_device *vd, uint64_t block_size) {
    vd->pool = (struct kiln_block_pool){ .block_size = block_size, .ctx = vd, .block_new = block_new,
                                         .block_free = block_free };
}

enum kiln_status kiln_vk_buffer_alloc(struct kiln_device *dev, size_t size, void **handle, void **host) {
    struct kiln_vk_device *vd = kiln_vk_dev(dev);
    const VkDeviceSize want = round_up(size ? size : 1, ALIGN);
    if (want > vd->max_alloc)
        return kiln_fail(KILN_E_UNSUPPORTED,
                         "%s: a %.1f MiB buffer is larger than this device's largest allocation "
                         "(maxMemoryAllocationSize %.1f MiB); allocate it in pieces",
                         dev->info.name, (double)size / 1048576.0, (double)vd->max_alloc / 1048576.0);
    struct kiln_vk_alloc *a = malloc(sizeof *a);
    if (!a)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    struct kiln_pool_block *b;
    uint64_t offset = 0;
    const enum kiln_status st = kiln_pool_take(&vd->pool, want, &b, &offset);
    if (st != KILN_OK) {
        free(a);
        return st;
    }
    *a = (struct kiln_vk_alloc){ (struct kiln_vk_block *)b, offset, want };
    *handle = a;
    *host = NULL;
    return KILN_OK;
}

void kiln_vk_buffer_free(struct kiln_device *dev, void *handle) {
    struct kiln_vk_alloc *a = handle;
    kiln_pool_give(&kiln_vk_dev(dev)->pool, &a->block->base, a->offset, a->size);
    free(a);
}

enum kiln_status kiln_vk_host_buffer_new(struct kiln_vk_device *vd, VkDeviceSize size,
                                         VkBufferUsageFlags usage, struct kiln_vk_host_buffer *out) {
    *out = (struct kiln_vk_host_buffer){ 0 };
    const VkBufferCreateInfo bi = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                                    .usage = usage, .sharingMode = VK_SHARING_MODE_EXCLUSIVE };
    KILN_VK_TRY(kiln_vk.vkCreateBuffer(vd->device, &bi, NULL, &out->buffer));
    VkMemoryRequirements req;
    kiln_vk.vkGetBufferMemoryRequirements(vd->device, out->buffer, &req);
    const VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                      .allocationSize = req.size,
                                      .memoryTypeIndex = vd->host_type_index };
    VkResult r = kiln_vk.vkAllocateMemory(vd->device, &ai, NULL, &out->memory);
    if (r == VK_SUCCESS)
        r = kiln_vk.vkBindBufferMemory(vd->device, out->buffer, out->memory, 0);
    if (r == VK_SUCCESS)
        r = kiln_vk.vkMapMemory(vd->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map);
    if (r != VK_SUCCESS) {
        kiln_vk_host_buffer_free(vd, out);
        return kiln_vk_fail(r, "vkAllocateMemory (host-visible)");
    }
    out->size = size;
    out->coherent = vd->host_coherent;
    return KILN_OK;
}

void kiln_vk_host_buffer_free(struct kiln_vk_device *vd, struct kiln_vk_host_buffer *b) {
    if (b->buffer)
        kiln_vk.vkDestroyBuffer(vd->device, b->buffer, NULL);
    if (b->memory)
        kiln_vk.vkFreeMemory(vd->device, b->memory, NULL);  // unmaps implicitly
    *b = (struct kiln_vk_host_buffer){ 0 };
}

// Total: the device-local heap. Free: VK_EXT_memory_budget's budget minus usage where present.
enum kiln_status kiln_vk_memory(struct kiln_device *dev, uint64_t *total, uint64_t *free_bytes,
                                bool *free_known) {
    struct kiln_vk_device *vd = kiln_vk_dev(dev);
    const uint32_t heap = vd->mem_props.memoryTypes[vd->device_type_index].heapIndex;
    *total = vd->mem_props.memoryHeaps[heap].size;
    *free_bytes = 0;
    *free_known = false;
    if (vd->has_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT };
        VkPhysicalDeviceMemoryProperties2 p2 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, .pNext = &budget };
        kiln_vk.vkGetPhysicalDeviceMemoryProperties2(vd->phys, &p2);
        const VkDeviceSize b = budget.heapBudget[heap], u = budget.heapUsage[heap];
        *free_bytes = b > u ? b - u : 0;
        *free_known = b > 0;
    }
    return KILN_OK;
}
