// Vulkan streams: ops are recorded into one command buffer and submitted at sync (one submit per
// dispatch would cost more than most decode-step kernels). Between commands, a barrier is
// recorded only where the new command touches a range an earlier one of the same barrier
// interval wrote, or writes a range one of them read: the dependencies a stream has, no more.
// Descriptor sets come from pools the stream keeps and reuses after each sync (nothing is
// allocated per dispatch once warm). Uploads go through a host-visible staging buffer (the caller's
// memory is free again on return, as backend.h promises); a full staging buffer forces a submit.
// Timers are timestamp queries.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/vulkan/vk_internal.h"

#define STAGING_BYTES ((VkDeviceSize)64 << 20)
#define SETS_PER_POOL 128
#define MAX_HAZARDS 64

struct access {
    VkBuffer buffer;
    VkDeviceSize lo, hi;
    bool write;
};

struct vk_stream {
    struct kiln_vk_device *vd;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    bool recording;
    VkDescriptorPool *pools;
    int n_pools;
    VkDescriptorSet *sets;
    int n_sets, used_sets;
    struct kiln_vk_host_buffer staging;
    VkDeviceSize staged;
    struct kiln_vk_host_buffer status;  // uint[4]: get_rows' bad-id flag in word 0
    struct access hazards[MAX_HAZARDS];
    int n_hazards;
    int validation_seen;
};

static struct vk_stream *ctx_of(struct kiln_stream *s) { return s->ctx; }

static double timeout_seconds(void) {
    static double t = -1.0;  // read once: every sync asks
    if (t < 0) {
        const char *e = getenv("KILN_VULKAN_TIMEOUT");
        t = e && atof(e) > 0 ? atof(e) : 600.0;
    }
    return t;
}

enum kiln_status kiln_vk_stream_new(struct kiln_device *dev, void **out) {
    struct kiln_vk_device *vd = kiln_vk_dev(dev);
    struct vk_stream *vs = calloc(1, sizeof *vs);
    if (!vs)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    vs->vd = vd;
    vs->validation_seen = kiln_vk_validation_errors;
    const VkCommandPoolCreateInfo pi = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                         .queueFamilyIndex = vd->queue_family };
    VkResult r = kiln_vk.vkCreateCommandPool(vd->device, &pi, NULL, &vs->pool);
    if (r == VK_SUCCESS) {
        const VkCommandBufferAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                                 .commandPool = vs->pool,
                                                 .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                                 .commandBufferCount = 1 };
        r = kiln_vk.vkAllocateCommandBuffers(vd->device, &ai, &vs->cb);
    }
    if (r == VK_SUCCESS) {
        const VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
        r = kiln_vk.vkCreateFence(vd->device, &fi, NULL, &vs->fence);
    }
    if (r != VK_SUCCESS) {
        kiln_vk_stream_free(dev, vs);
        return kiln_vk_fail(r, "vkCreateCommandPool/vkCreateFence");
    }
    enum kiln_status st = kiln_vk_host_buffer_new(vd, 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &vs->status);
    if (st != KILN_OK) {
        kiln_vk_stream_free(dev, vs);
        return st;
    }
    memset(vs->status.map, 0, 16);
    *out = vs;
    return KILN_OK;
}

void kiln_vk_stream_free(struct kiln_device *dev, void *ctx) {
    struct vk_stream *vs = ctx;
    if (!vs)
        return;
    VkDevice d = kiln_vk_dev(dev)->device;
    if (vs->recording) {  // work recorded but never synced: run it so no resource is in flight
        kiln_vk.vkEndCommandBuffer(vs->cb);
        const VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                                  .pCommandBuffers = &vs->cb };
        if (kiln_vk.vkQueueSubmit(vs->vd->queue, 1, &si, vs->fence) == VK_SUCCESS)
            kiln_vk.vkWaitForFences(d, 1, &vs->fence, VK_TRUE, (uint64_t)(timeout_seconds() * 1e9));
    }
    for (int i = 0; i < vs->n_pools; i++)
        kiln_vk.vkDestroyDescriptorPool(d, vs->pools[i], NULL);
    free(vs->pools);
    free(vs->sets);
    kiln_vk_host_buffer_free(vs->vd, &vs->staging);
    kiln_vk_host_buffer_free(vs->vd, &vs->status);
    if (vs->fence)
        kiln_vk.vkDestroyFence(d, vs->fence, NULL);
    if (vs->pool)
        kiln_vk.vkDestroyCommandPool(d, vs->pool, NULL);  // frees the command buffer
    free(vs);
}

static enum kiln_status begin(struct vk_stream *vs) {
    if (vs->recording)
        return KILN_OK;
    const VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                          .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
    KILN_VK_TRY(kiln_vk.vkBeginCommandBuffer(vs->cb, &bi));
    vs->recording = true;
    vs->n_hazards = 0;
    return KILN_OK;
}

static void barrier(struct vk_stream *vs) {
    const VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT };
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    kiln_vk.vkCmdPipelineBarrier(vs->cb, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
    vs->n_hazards = 0;
}

// Records the accesses of the next command, with a barrier first if it depends on an earlier one.
static void track(struct vk_stream *vs, const struct access *a, int n) {
    bool need = vs->n_hazards + n > MAX_HAZARDS;
    for (int i = 0; i < n && !need; i++) {
        for (int j = 0; j < vs->n_hazards && !need; j++) {
            const struct access *h = &vs->hazards[j];
            need = h->buffer == a[i].buffer && h->lo < a[i].hi && a[i].lo < h->hi && (h->write || a[i].write);
        }
    }
    if (need)
        barrier(vs);
    for (int i = 0; i < n; i++)
        vs->hazards[vs->n_hazards++] = a[i];
}

static enum kiln_status next_set(struct vk_stream *vs, VkDescriptorSet *out) {
    if (vs->used_sets == vs->n_sets) {
        VkDevice d = vs->vd->device;
        if (vs->n_sets == vs->n_pools * SETS_PER_POOL) {
            const VkDescriptorPoolSize size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                SETS_PER_POOL * KILN_VK_BINDINGS };
            const VkDescriptorPoolCreateInfo pi = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                                    .maxSets = SETS_PER_POOL, .poolSizeCount = 1,
                                                    .pPoolSizes = &size };
            VkDescriptorPool *pools = realloc(vs->pools, (size_t)(vs->n_pools + 1) * sizeof *pools);
            if (!pools)
                return kiln_fail(KILN_E_NOMEM, "out of host memory");
            vs->pools = pools;
            KILN_VK_TRY(kiln_vk.vkCreateDescriptorPool(d, &pi, NULL, &vs->pools[vs->n_pools]));
            vs->n_pools++;
        }
        VkDescriptorSet *sets = realloc(vs->sets, (size_t)(vs->n_sets + 1) * sizeof *sets);
        if (!sets)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        vs->sets = sets;
        const VkDescriptorSetAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                                 .descriptorPool = vs->pools[vs->n_pools - 1],
                                                 .descriptorSetCount = 1,
                                                 .pSetLayouts = &vs->vd->set_layout };
        KILN_VK_TRY(kiln_vk.vkAllocateDescriptorSets(d, &ai, &vs->sets[vs->n_sets]));
        vs->n_sets++;
    }
    *out = vs->sets[vs->used_sets++];
    return KILN_OK;
}

enum kiln_status kiln_vk_dispatch(struct kiln_stream *s, VkPipeline pipeline,
                                  const struct kiln_vk_binding *bindings[KILN_VK_BINDINGS],
                                  const void *push, size_t push_size, uint32_t groups, uint32_t z) {
    struct vk_stream *vs = ctx_of(s);
    struct kiln_vk_device *vd = vs->vd;
    if (groups == 0 || z == 0)
        return KILN_OK;
    KILN_TRY(begin(vs));
    VkDescriptorSet set;
    KILN_TRY(next_set(vs, &set));
    VkDescriptorBufferInfo infos[KILN_VK_BINDINGS];
    VkWriteDescriptorSet writes[KILN_VK_BINDINGS];
    struct access acc[KILN_VK_BINDINGS];
    int n_acc = 0;
    for (int i = 0; i < KILN_VK_BINDINGS; i++) {
        const struct kiln_vk_binding *b = bindings[i];
        infos[i] = b ? (VkDescriptorBufferInfo){ b->buffer, b->offset, b->range }
                     : (VkDescriptorBufferInfo){ vd->dummy.buffer, 0, VK_WHOLE_SIZE };
        writes[i] = (VkWriteDescriptorSet){ .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                            .dstSet = set, .dstBinding = (uint32_t)i,
                                            .descriptorCount = 1,
                                            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                            .pBufferInfo = &infos[i] };
        if (b)
            acc[n_acc++] = (struct access){ b->buffer, b->offset, b->offset + b->range, b->write };
    }
    kiln_vk.vkUpdateDescriptorSets(vd->device, KILN_VK_BINDINGS, writes, 0, NULL);
    track(vs, acc, n_acc);
    kiln_vk.vkCmdBindPipeline(vs->cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    kiln_vk.vkCmdBindDescriptorSets(vs->cb, VK_PIPELINE_BIND_POINT_COMPUTE, vd->pipeline_layout, 0, 1,
                                    &set, 0, NULL);
    if (push_size)
        kiln_vk.vkCmdPushConstants(vs->cb, vd->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                   (uint32_t)push_size, push);
    // More than 65535 groups (the smallest maxComputeWorkGroupCount allowed) spread over y.
    const uint32_t gx = groups > 65535 ? 65535 : groups;
    const uint32_t gy = (groups + gx - 1) / gx;
    kiln_vk.vkCmdDispatch(vs->cb, gx, gy, z);
    return KILN_OK;
}

void kiln_vk_status_binding(struct kiln_stream *s, struct kiln_vk_binding *out) {
    struct vk_stream *vs = ctx_of(s);
    *out = (struct kiln_vk_binding){ vs->status.buffer, 0, 16, true };
}

enum kiln_status kiln_vk_copy(struct kiln_stream *s, const struct kiln_vk_binding *src,
                              const struct kiln_vk_binding *dst) {
    struct vk_stream *vs = ctx_of(s);
    KILN_TRY(begin(vs));
    const struct access acc[2] = { { src->buffer, src->offset, src->offset + src->range, false },
                                   { dst->buffer, dst->offset, dst->offset + dst->range, true } };
    track(vs, acc, 2);
    const VkBufferCopy region = { src->offset, dst->offset, src->range };
    kiln_vk.vkCmdCopyBuffer(vs->cb, src->buffer, dst->buffer, 1, &region);
    return KILN_OK;
}

// Submits what was recorded and waits for it; then checks the stream's status word and the
// validation-layer count.
static enum kiln_status flush(struct vk_stream *vs) {
    if (!vs->recording)
        return KILN_OK;
    VkDevice d = vs->vd->device;
    vs->recording = false;
    vs->used_sets = 0;
    vs->staged = 0;
    KILN_VK_TRY(kiln_vk.vkEndCommandBuffer(vs->cb));
    const VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                              .pCommandBuffers = &vs->cb };
    KILN_VK_TRY(kiln_vk.vkQueueSubmit(vs->vd->queue, 1, &si, vs->fence));
    const double limit = timeout_seconds();
    VkResult r = kiln_vk.vkWaitForFences(d, 1, &vs->fence, VK_TRUE, (uint64_t)(limit * 1e9));
    if (r == VK_TIMEOUT)
        return kiln_fail(KILN_E_DEVICE, "%s: the submitted work did not finish in %.0f s "
                         "(a hung device? KILN_VULKAN_TIMEOUT sets the limit)", vs->vd->dev.info.name, limit);
    KILN_VK_TRY(r);
    KILN_VK_TRY(kiln_vk.vkResetFences(d, 1, &vs->fence));
    KILN_VK_TRY(kiln_vk.vkResetCommandBuffer(vs->cb, 0));
    return KILN_OK;
}

enum kiln_status kiln_vk_stream_sync(struct kiln_stream *s) {
    struct vk_stream *vs = ctx_of(s);
    KILN_TRY(flush(vs));
    uint32_t *status = vs->status.map;
    if (status[0]) {
        status[0] = 0;
        return kiln_fail(KILN_E_INVALID, "get_rows: an id was outside the table (its row was written as zeros)");
    }
    const int seen = kiln_vk_validation_errors;
    if (seen != vs->validation_seen) {
        const int n = seen - vs->validation_seen;
        vs->validation_seen = seen;
        return kiln_fail(KILN_E_DEVICE, "vulkan: the validation layer reported %d error%s (printed above)",
                         n, n == 1 ? "" : "s");
    }
    return KILN_OK;
}

static enum kiln_status ensure_staging(struct vk_stream *vs) {
    if (vs->staging.buffer)
        return KILN_OK;
    return kiln_vk_host_buffer_new(vs->vd, STAGING_BYTES,
                                   VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                   &vs->staging);
}

enum kiln_status kiln_vk_upload(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                const void *src, size_t size) {
    struct vk_stream *vs = ctx_of(s);
    const struct kiln_vk_alloc *a = b->handle;
    KILN_TRY(ensure_staging(vs));
    const uint8_t *p = src;
    while (size) {
        if (vs->staged >= vs->staging.size)
            KILN_TRY(flush(vs));  // staging full: run what is recorded, then reuse it
        const size_t chunk = size < vs->staging.size - vs->staged ? size : (size_t)(vs->staging.size - vs->staged);
        memcpy((uint8_t *)vs->staging.map + vs->staged, p, chunk);
        KILN_TRY(begin(vs));
        const VkDeviceSize dst = a->offset + offset;
        const struct access acc = { a->block->buffer, dst, dst + chunk, true };
        track(vs, &acc, 1);
        const VkBufferCopy region = { vs->staged, dst, chunk };
        kiln_vk.vkCmdCopyBuffer(vs->cb, vs->staging.buffer, a->block->buffer, 1, &region);
        vs->staged += (chunk + 15) & ~(VkDeviceSize)15;
        p += chunk;
        offset += chunk;
        size -= chunk;
    }
    return KILN_OK;
}

enum kiln_status kiln_vk_download(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                  void *dst, size_t size) {
    struct vk_stream *vs = ctx_of(s);
    const struct kiln_vk_alloc *a = b->handle;
    KILN_TRY(ensure_staging(vs));
    uint8_t *p = dst;
    while (size) {
        KILN_TRY(flush(vs));  // earlier work, and the staging buffer free again
        const size_t chunk = size < vs->staging.size ? size : (size_t)vs->staging.size;
        KILN_TRY(begin(vs));
        const VkDeviceSize from = a->offset + offset;
        const struct access acc = { a->block->buffer, from, from + chunk, false };
        track(vs, &acc, 1);
        const VkBufferCopy region = { from, 0, chunk };
        kiln_vk.vkCmdCopyBuffer(vs->cb, a->block->buffer, vs->staging.buffer, 1, &region);
        const VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                     .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                     .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
        kiln_vk.vkCmdPipelineBarrier(vs->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                                     0, 1, &mb, 0, NULL, 0, NULL);
        KILN_TRY(flush(vs));
        memcpy(p, vs->staging.map, chunk);
        p += chunk;
        offset += chunk;
        size -= chunk;
    }
    return kiln_vk_stream_sync(s);  // reports a get_rows flag or validation errors of that work
}

// ---- timers: two timestamp queries, or the host clock where the queue has no timestamps ----
struct vk_timer {
    VkQueryPool pool;
    struct timespec host[2];
};

enum kiln_status kiln_vk_timer_new(struct kiln_stream *s, void **out) {
    struct vk_stream *vs = ctx_of(s);
    struct vk_timer *t = calloc(1, sizeof *t);
    if (!t)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    if (vs->vd->timestamp_bits) {
        const VkQueryPoolCreateInfo qi = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                           .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2 };
        VkResult r = kiln_vk.vkCreateQueryPool(vs->vd->device, &qi, NULL, &t->pool);
        if (r != VK_SUCCESS) {
            free(t);
            return kiln_vk_fail(r, "vkCreateQueryPool");
        }
    }
    *out = t;
    return KILN_OK;
}

void kiln_vk_timer_free(struct kiln_stream *s, void *ctx) {
    struct vk_timer *t = ctx;
    if (t->pool)
        kiln_vk.vkDestroyQueryPool(ctx_of(s)->vd->device, t->pool, NULL);
    free(t);
}

enum kiln_status kiln_vk_timer_record(struct kiln_stream *s, void *ctx, bool stop) {
    struct vk_stream *vs = ctx_of(s);
    struct vk_timer *t = ctx;
    if (!t->pool) {  // host clock: everything before this point must have run
        KILN_TRY(flush(vs));
        clock_gettime(CLOCK_MONOTONIC, &t->host[stop]);
        return KILN_OK;
    }
    KILN_TRY(begin(vs));
    if (!stop)
        kiln_vk.vkCmdResetQueryPool(vs->cb, t->pool, 0, 2);
    kiln_vk.vkCmdWriteTimestamp(vs->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t->pool, stop ? 1 : 0);
    return KILN_OK;
}

enum kiln_status kiln_vk_timer_elapsed(struct kiln_stream *s, void *ctx, double *seconds) {
    struct vk_stream *vs = ctx_of(s);
    struct vk_timer *t = ctx;
    if (!t->pool) {
        *seconds = (double)(t->host[1].tv_sec - t->host[0].tv_sec) +
                   1e-9 * (double)(t->host[1].tv_nsec - t->host[0].tv_nsec);
        return KILN_OK;
    }
    uint64_t ts[2];
    KILN_VK_TRY(kiln_vk.vkGetQueryPoolResults(vs->vd->device, t->pool, 0, 2, sizeof ts, ts, sizeof ts[0],
                                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    const uint32_t bits = vs->vd->timestamp_bits;
    const uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    const uint64_t ticks = (ts[1] - ts[0]) & mask;
    *seconds = (double)ticks * (double)vs->vd->props.limits.timestampPeriod * 1e-9;
    return KILN_OK;
}
