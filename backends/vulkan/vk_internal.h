// The Vulkan backend's private declarations: the loader's function table, the device, memory
// blocks, streams and the shader registry. Only backends/vulkan/ includes this.
//
// The loader is opened with dlopen at run time (not linked), so a kiln binary built with Vulkan
// still starts on a machine without libvulkan.so.1 and reports the backend absent with why.
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "backends/backend_impl.h"
#include "backends/range_alloc.h"

// ---- the loader's functions (vk_loader.c) ----
#define KILN_VK_INSTANCE_FNS(X)                                                                   \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)          \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                             \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties)            \
    X(vkGetPhysicalDeviceMemoryProperties2) X(vkEnumerateDeviceExtensionProperties)               \
    X(vkCreateDevice) X(vkGetDeviceProcAddr)
#define KILN_VK_DEVICE_FNS(X)                                                                     \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkAllocateMemory) X(vkFreeMemory) X(vkMapMemory)    \
    X(vkUnmapMemory) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)        \
    X(vkBindBufferMemory) X(vkCreateShaderModule) X(vkDestroyShaderModule)                        \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) X(vkCreatePipelineLayout)      \
    X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline)                   \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets)              \
    X(vkUpdateDescriptorSets) X(vkCreateCommandPool) X(vkDestroyCommandPool)                      \
    X(vkAllocateCommandBuffers) X(vkResetCommandBuffer) X(vkBeginCommandBuffer)                   \
    X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants)  \
    X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdFillBuffer)                \
    X(vkCmdResetQueryPool) X(vkCmdWriteTimestamp) X(vkCreateQueryPool) X(vkDestroyQueryPool)      \
    X(vkGetQueryPoolResults) X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences)                \
    X(vkResetFences) X(vkQueueSubmit) X(vkDeviceWaitIdle)

struct kiln_vk_fns {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    PFN_vkCreateInstance vkCreateInstance;
    PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion;
    PFN_vkEnumerateInstanceLayerProperties vkEnumerateInstanceLayerProperties;
    PFN_vkCreateDebugUtilsMessengerEXT vkCreateDebugUtilsMessengerEXT;
    PFN_vkDestroyDebugUtilsMessengerEXT vkDestroyDebugUtilsMessengerEXT;
#define KILN_VK_DECLARE(name) PFN_##name name;
    KILN_VK_INSTANCE_FNS(KILN_VK_DECLARE)
    KILN_VK_DEVICE_FNS(KILN_VK_DECLARE)
#undef KILN_VK_DECLARE
};
extern struct kiln_vk_fns kiln_vk;

// Opens libvulkan.so.1 and loads the global functions; error = the backend is absent.
enum kiln_status kiln_vk_loader_open(void);
// Loads the instance-level functions (and the debug-utils ones when `debug`).
void kiln_vk_loader_instance(VkInstance instance, bool debug);
// Loads the device-level functions (one device table serves all devices: kiln's devices come
// from one loader and the dispatch goes through the device handle).
void kiln_vk_loader_device(VkDevice device);
void kiln_vk_loader_close(void);
// Keeps every library mapped now (loader, ICD, layers) until exit (vk_loader.c says why).
void kiln_vk_loader_pin(void);

// A failed Vulkan call as KILN_E_DEVICE: "vulkan: vkQueueSubmit failed: VK_ERROR_DEVICE_LOST".
enum kiln_status kiln_vk_fail(VkResult r, const char *call);
const char *kiln_vk_result_name(VkResult r);
#define KILN_VK_TRY(call)                                                                        \
    do {                                                                                          \
        VkResult kiln_vk_r_ = (call);                                                             \
        if (kiln_vk_r_ != VK_SUCCESS)                                                             \
            return kiln_vk_fail(kiln_vk_r_, #call);                                               \
    } while (0)

// ---- memory: blocks of device memory, each one VkBuffer, sub-allocated (vk_memory.c) ----
struct kiln_vk_block {
    struct kiln_pool_block base;  // first: the pool's view of it (backends/range_alloc.h)
    VkDeviceMemory memory;
    VkBuffer buffer;
    VkDeviceSize size;
};
// A kiln buffer's handle: a range of one block.
struct kiln_vk_alloc {
    struct kiln_vk_block *block;
    VkDeviceSize offset, size;
};

// A host-visible buffer of its own (staging, status words), mapped.
struct kiln_vk_host_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *map;
    bool coherent;
};

// ---- shaders and pipelines (vk_shaders.c, vk_pipeline.c) ----
enum kiln_vk_shader {
    KILN_VK_MATMUL_GEMV,
    KILN_VK_MATMUL_GEMV16,  // the same with 16/8-bit storage loads (kernels/matmul/matmul_gemv.comp)
    KILN_VK_MATMUL_GEMM,
    KILN_VK_ATTENTION,
    KILN_VK_ATTENTION_COMBINE,
    KILN_VK_DEQUANT,
    KILN_VK_COPY_QUANT,
    KILN_VK_RMSNORM,
    KILN_VK_ROPE,
    KILN_VK_BINARY,
    KILN_VK_GET_ROWS,
    KILN_VK_PROBE,
    KILN_VK_SHADER_COUNT
};
struct kiln_vk_shader_code {
    const char *name;
    const uint32_t *words;
    size_t bytes;
    uint32_t workgroup;   // spec constant 0
};
extern const struct kiln_vk_shader_code kiln_vk_shaders[KILN_VK_SHADER_COUNT];

struct kiln_vk_pipeline {
    enum kiln_vk_shader shader;
    uint32_t type, dst_type;
    VkPipeline pipeline;
};

#define KILN_VK_BINDINGS 4
#define KILN_VK_PUSH_BYTES 128

struct kiln_vk_device {
    struct kiln_device dev;      // first: kiln's handle
    VkInstance instance;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    uint32_t timestamp_bits;     // 0: no timestamps on this queue (timers use the host clock)
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t device_type_index;  // memory type of device buffers
    uint32_t host_type_index;    // host-visible memory type of staging buffers
    bool host_coherent;
    bool has_budget;             // VK_EXT_memory_budget
    bool has_subgroup_arith;     // the device has subgroup arithmetic in compute shaders
    bool subgroup_arith;         // ... and kiln uses it (not under KILN_VULKAN_PORTABLE)
    bool fp16, int8, storage16, storage8, coopmat;
    bool narrow_loads;           // storage16 && storage8 enabled: matmul_gemv16 is used
    uint32_t subgroup_size;
    VkDeviceSize max_range;      // maxStorageBufferRange
    VkDeviceSize offset_align;   // minStorageBufferOffsetAlignment
    VkDeviceSize max_alloc;      // maxMemoryAllocationSize
    struct kiln_block_pool pool;  // device memory: blocks sub-allocated (vk_memory.c)
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout pipeline_layout;
    VkShaderModule modules[KILN_VK_SHADER_COUNT];
    struct kiln_vk_pipeline *pipelines;
    int n_pipelines, cap_pipelines;
    struct kiln_vk_host_buffer dummy;  // bound to unused bindings
    struct {                           // rope's per-pair angle tables (vk_launch.c)
        int32_t n_dims;
        float theta_base;
        bool has_freq_factors;
        float freq_factors[KILN_ROPE_MAX_PAIRS];
        struct kiln_buffer *table;
    } rope_tables[8];
    int n_rope_tables;
    char details[384];
};

static inline struct kiln_vk_device *kiln_vk_dev(struct kiln_device *d) {
    return (struct kiln_vk_device *)d;
}

// vk_memory.c
enum kiln_status kiln_vk_buffer_alloc(struct kiln_device *dev, size_t size, void **handle, void **host);
void kiln_vk_buffer_free(struct kiln_device *dev, void *handle);
void kiln_vk_pool_init(struct kiln_vk_device *vd, uint64_t block_size);
enum kiln_status kiln_vk_host_buffer_new(struct kiln_vk_device *vd, VkDeviceSize size,
                                         VkBufferUsageFlags usage, struct kiln_vk_host_buffer *out);
void kiln_vk_host_buffer_free(struct kiln_vk_device *vd, struct kiln_vk_host_buffer *b);
enum kiln_status kiln_vk_memory(struct kiln_device *dev, uint64_t *total, uint64_t *free_bytes,
                                bool *free_known);

// vk_pipeline.c
enum kiln_status kiln_vk_pipeline_layout_new(struct kiln_vk_device *vd);
enum kiln_status kiln_vk_pipeline_get(struct kiln_vk_device *vd, enum kiln_vk_shader shader,
                                      uint32_t type, uint32_t dst_type, VkPipeline *out);
void kiln_vk_pipelines_free(struct kiln_vk_device *vd);

// ---- streams (vk_stream.c) ----
// One binding of a dispatch: a range of a VkBuffer; `write` marks the destination.
struct kiln_vk_binding {
    VkBuffer buffer;
    VkDeviceSize offset, range;
    bool write;
};

// Binds tensor t: an aligned offset into its block's VkBuffer, and in *base the byte offset of
// the view's first byte inside the binding. `span` bytes from the view start are covered.
// KILN_E_UNSUPPORTED if the range exceeds maxStorageBufferRange.
enum kiln_status kiln_vk_bind_tensor(struct kiln_vk_device *vd, const struct kiln_tensor *t,
                                     size_t start, size_t span, bool write,
                                     struct kiln_vk_binding *out, uint32_t *base);

// Records one dispatch: pipeline, up to 4 bindings (NULL = unused), push constants, groups
// (spread over x and y when above 65535; the shaders use group_index()), z = batch.
enum kiln_status kiln_vk_dispatch(struct kiln_stream *s, VkPipeline pipeline,
                                  const struct kiln_vk_binding *bindings[KILN_VK_BINDINGS],
                                  const void *push, size_t push_size, uint32_t groups, uint32_t z);

// The stream's status word (get_rows' bad-id flag), as a binding.
void kiln_vk_status_binding(struct kiln_stream *s, struct kiln_vk_binding *out);
// Records a buffer copy (probe); src and dst are block ranges.
enum kiln_status kiln_vk_copy(struct kiln_stream *s, const struct kiln_vk_binding *src,
                              const struct kiln_vk_binding *dst);

enum kiln_status kiln_vk_stream_new(struct kiln_device *dev, void **ctx);
void kiln_vk_stream_free(struct kiln_device *dev, void *ctx);
enum kiln_status kiln_vk_stream_sync(struct kiln_stream *s);
enum kiln_status kiln_vk_upload(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                const void *src, size_t size);
enum kiln_status kiln_vk_download(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                  void *dst, size_t size);
enum kiln_status kiln_vk_timer_new(struct kiln_stream *s, void **ctx);
void kiln_vk_timer_free(struct kiln_stream *s, void *ctx);
enum kiln_status kiln_vk_timer_record(struct kiln_stream *s, void *ctx, bool stop);
enum kiln_status kiln_vk_timer_elapsed(struct kiln_stream *s, void *ctx, double *seconds);

// ---- kernels (vk_kernels.c, vk_launch.c) ----
extern const struct kiln_kernel kiln_vk_kernels[];
extern const int kiln_vk_kernel_count;
enum kiln_status kiln_vk_launch(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_op *op);
enum kiln_status kiln_vk_probe(struct kiln_stream *s, enum kiln_probe_kind kind,
                               struct kiln_buffer *a, struct kiln_buffer *b, size_t bytes,
                               double flops, double *flops_done);

// Validation-layer messages counted since start (KILN_VULKAN_VALIDATION=1).
extern _Atomic int kiln_vk_validation_errors;
