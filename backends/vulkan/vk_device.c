// The Vulkan backend's start-up: the loader, one instance (with the Khronos validation layer
// when KILN_VULKAN_VALIDATION=1), and one kiln device ("vulkan:0", ...) per physical device that
// has a compute queue. Absent loader, no device, or a device that cannot be created: the backend
// (or that device) is absent with the reason, never an error for the rest of kiln.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/vk_internal.h"

_Atomic int kiln_vk_validation_errors;

static struct {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    int n_devices;
    uint32_t api_version;
} g;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT types,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                    void *user) {
    (void)types;
    (void)user;
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        kiln_vk_validation_errors++;
        fprintf(stderr, "kiln: vulkan validation error: %s\n", data->pMessage);
    } else if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        fprintf(stderr, "kiln: vulkan validation warning: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static bool layer_present(const char *name) {
    uint32_t n = 0;
    if (!kiln_vk.vkEnumerateInstanceLayerProperties || kiln_vk.vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS)
        return false;
    VkLayerProperties *p = calloc(n ? n : 1, sizeof *p);
    bool found = false;
    if (p && kiln_vk.vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(p[i].layerName, name) == 0;
    free(p);
    return found;
}

static enum kiln_status instance_new(void) {
    const char *v = getenv("KILN_VULKAN_VALIDATION");
    const bool validate = v && *v && strcmp(v, "0") != 0;
    const char *layer = "VK_LAYER_KHRONOS_validation";
    if (validate && !layer_present(layer))
        return kiln_fail(KILN_E_UNSUPPORTED, "KILN_VULKAN_VALIDATION is set but %s is not installed "
                         "(Debian: apt-get install vulkan-validationlayers)", layer);
    g.api_version = VK_API_VERSION_1_1;
    if (kiln_vk.vkEnumerateInstanceVersion)
        kiln_vk.vkEnumerateInstanceVersion(&g.api_version);
    if (g.api_version < VK_API_VERSION_1_1)
        return kiln_fail(KILN_E_UNSUPPORTED, "the Vulkan loader offers %u.%u; kiln needs 1.1 or later",
                         VK_API_VERSION_MAJOR(g.api_version), VK_API_VERSION_MINOR(g.api_version));
    if (g.api_version > VK_API_VERSION_1_3)
        g.api_version = VK_API_VERSION_1_3;
    const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "kiln",
                                    .pEngineName = "kiln", .apiVersion = g.api_version };
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    const VkInstanceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                                      .enabledLayerCount = validate ? 1 : 0, .ppEnabledLayerNames = &layer,
                                      .enabledExtensionCount = validate ? 1 : 0, .ppEnabledExtensionNames = &ext };
    VkResult r = kiln_vk.vkCreateInstance(&ci, NULL, &g.instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return kiln_fail(KILN_E_UNSUPPORTED, "no Vulkan driver (ICD) is installed (software: apt-get install mesa-vulkan-drivers)");
    if (r != VK_SUCCESS)
        return kiln_fail(KILN_E_UNSUPPORTED, "vkCreateInstance failed: %s", kiln_vk_result_name(r));
    kiln_vk_loader_instance(g.instance, validate);
    if (validate && kiln_vk.vkCreateDebugUtilsMessengerEXT) {
        const VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_validation };
        kiln_vk.vkCreateDebugUtilsMessengerEXT(g.instance, &mi, NULL, &g.messenger);
    }
    return KILN_OK;
}

static void instance_release(void) {
    if (g.n_devices > 0 || !g.instance)
        return;
    kiln_vk_loader_pin();  // before vkDestroyInstance unloads the ICD
    if (g.messenger && kiln_vk.vkDestroyDebugUtilsMessengerEXT)
        kiln_vk.vkDestroyDebugUtilsMessengerEXT(g.instance, g.messenger, NULL);
    kiln_vk.vkDestroyInstance(g.instance, NULL);
    g.instance = VK_NULL_HANDLE;
    g.messenger = VK_NULL_HANDLE;
    kiln_vk_loader_close();
}

static bool has_extension(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    kiln_vk.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL);
    VkExtensionProperties *p = calloc(n ? n : 1, sizeof *p);
    bool found = false;
    if (p && kiln_vk.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

// Memory types: device buffers in the largest device-local heap; staging in host-visible,
// coherent memory (cached where offered: downloads read it).
static bool pick_memory(struct kiln_vk_device *vd) {
    const VkPhysicalDeviceMemoryProperties *m = &vd->mem_props;
    int best = -1, host = -1;
    for (uint32_t i = 0; i < m->memoryTypeCount; i++) {
        const VkMemoryPropertyFlags f = m->memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
            (best < 0 || m->memoryHeaps[m->memoryTypes[i].heapIndex].size >
                             m->memoryHeaps[m->memoryTypes[best].heapIndex].size))
            best = (int)i;
        const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        if ((f & want) == want && (host < 0 || (f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT)))
            host = (int)i;
    }
    if (best < 0 || host < 0)
        return false;
    vd->device_type_index = (uint32_t)best;
    vd->host_type_index = (uint32_t)host;
    vd->host_coherent = true;
    return true;
}

static void query_features(struct kiln_vk_device *vd) {
    VkPhysicalDeviceSubgroupProperties sub = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES };
    VkPhysicalDeviceMaintenance3Properties m3 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                  .pNext = &sub };
    VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3 };
    kiln_vk.vkGetPhysicalDeviceProperties2(vd->phys, &p2);
    vd->subgroup_size = sub.subgroupSize;
    // KILN_VULKAN_PORTABLE=1 uses none of the optional features: the paths for devices without
    // them get tested on a device that has them.
    const bool portable = getenv("KILN_VULKAN_PORTABLE") != NULL;
    vd->has_subgroup_arith = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    vd->subgroup_arith = vd->has_subgroup_arith && !portable;
    vd->max_alloc = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : ((VkDeviceSize)1 << 30);

    VkPhysicalDevice16BitStorageFeatures s16 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES };
    VkPhysicalDeviceShaderFloat16Int8Features f16 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
                                                      .pNext = &s16 };
    VkPhysicalDevice8BitStorageFeatures s8 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
                                               .pNext = &f16 };
    VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s8 };
    kiln_vk.vkGetPhysicalDeviceFeatures2(vd->phys, &f2);
    vd->storage16 = s16.storageBuffer16BitAccess;
    vd->storage8 = s8.storageBuffer8BitAccess;
    vd->fp16 = f16.shaderFloat16;
    vd->int8 = f16.shaderInt8;
    vd->narrow_loads = vd->storage16 && vd->storage8 && !portable;
    vd->coopmat = has_extension(vd->phys, "VK_KHR_cooperative_matrix");
    vd->has_budget = has_extension(vd->phys, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
}

static void describe(struct kiln_vk_device *vd) {
    const VkPhysicalDeviceLimits *l = &vd->props.limits;
    size_t n = 0;
    char *d = vd->details;
    const size_t cap = sizeof vd->details;
    n += (size_t)snprintf(d + n, cap - n, "Vulkan %u.%u; heaps:", VK_API_VERSION_MAJOR(vd->props.apiVersion),
                          VK_API_VERSION_MINOR(vd->props.apiVersion));
    for (uint32_t i = 0; i < vd->mem_props.memoryHeapCount && n < cap; i++)
        n += (size_t)snprintf(d + n, cap - n, " %.1f GiB%s", (double)vd->mem_props.memoryHeaps[i].size / 1073741824.0,
                              vd->mem_props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT ? " (device-local)" : "");
    if (n < cap)
        n += (size_t)snprintf(d + n, cap - n,
                              "; maxStorageBufferRange %.0f MiB, shared %u KiB, subgroup %u; device has:%s%s%s%s%s; "
                              "used: %s, %s; cooperative matrix %s (GEMM uses the tiled path: no coopmat "
                              "shader yet); memory budget %s",
                              (double)l->maxStorageBufferRange / 1048576.0, l->maxComputeSharedMemorySize / 1024,
                              vd->subgroup_size, vd->has_subgroup_arith ? " subgroup-arithmetic" : "",
                              vd->fp16 ? " fp16" : "", vd->int8 ? " int8" : "", vd->storage16 ? " storage16" : "",
                              vd->storage8 ? " storage8" : "",
                              vd->subgroup_arith ? "subgroup reductions" : "shared-memory reductions",
                              vd->narrow_loads ? "16/8-bit storage loads in GEMV" : "32-bit loads in GEMV",
                              vd->coopmat ? "present" : "absent", vd->has_budget ? "yes" : "no");
}

static void device_destroy(struct kiln_vk_device *vd) {
    if (vd->device) {
        kiln_vk.vkDeviceWaitIdle(vd->device);
        for (int i = 0; i < vd->n_rope_tables; i++)
            kiln_buffer_free(vd->rope_tables[i].table);
        kiln_vk_pipelines_free(vd);
        if (vd->pipeline_layout)
            kiln_vk.vkDestroyPipelineLayout(vd->device, vd->pipeline_layout, NULL);
        if (vd->set_layout)
            kiln_vk.vkDestroyDescriptorSetLayout(vd->device, vd->set_layout, NULL);
        kiln_vk_host_buffer_free(vd, &vd->dummy);
        kiln_pool_release(&vd->pool);
        kiln_vk.vkDestroyDevice(vd->device, NULL);
    }
    free(vd);
}

// The registry's shutdown: the last device out releases the instance and the loader.
static void device_free(struct kiln_device *dev) {
    device_destroy(kiln_vk_dev(dev));
    g.n_devices--;
    instance_release();
}

static const struct kiln_device_iface vk_iface = {
    .memory = kiln_vk_memory,
    .buffer_alloc = kiln_vk_buffer_alloc,
    .buffer_free = kiln_vk_buffer_free,
    .stream_new = kiln_vk_stream_new,
    .stream_free = kiln_vk_stream_free,
    .stream_sync = kiln_vk_stream_sync,
    .upload = kiln_vk_upload,
    .download = kiln_vk_download,
    .launch = kiln_vk_launch,
    .timer_new = kiln_vk_timer_new,
    .timer_free = kiln_vk_timer_free,
    .timer_record = kiln_vk_timer_record,
    .timer_elapsed = kiln_vk_timer_elapsed,
    .probe = kiln_vk_probe,
    .device_free = device_free,
};

// Creates kiln device number `index` on `phys`; KILN_E_UNSUPPORTED (with why) to skip it.
static enum kiln_status device_new(VkPhysicalDevice phys, int index) {
    struct kiln_vk_device *vd = calloc(1, sizeof *vd);
    if (!vd)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    vd->instance = g.instance;
    vd->phys = phys;
    kiln_vk.vkGetPhysicalDeviceProperties(phys, &vd->props);
    kiln_vk.vkGetPhysicalDeviceMemoryProperties(phys, &vd->mem_props);
    if (vd->props.apiVersion < VK_API_VERSION_1_1) {
        device_destroy(vd);
        return kiln_fail(KILN_E_UNSUPPORTED, "Vulkan 1.1 is needed");
    }
    uint32_t nq = 0;
    kiln_vk.vkGetPhysicalDeviceQueueFamilyProperties(phys, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    nq = nq > 16 ? 16 : nq;
    kiln_vk.vkGetPhysicalDeviceQueueFamilyProperties(phys, &nq, qf);
    int family = -1;
    for (uint32_t i = 0; i < nq; i++) {  // prefer a compute queue without graphics (async compute)
        if (!(qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
            continue;
        if (family < 0 || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            family = (int)i;
    }
    if (family < 0 || !pick_memory(vd)) {
        device_destroy(vd);
        return kiln_fail(KILN_E_UNSUPPORTED, family < 0 ? "no compute queue" : "no usable memory types");
    }
    vd->queue_family = (uint32_t)family;
    vd->timestamp_bits = qf[family].timestampValidBits;
    query_features(vd);
    vd->max_range = vd->props.limits.maxStorageBufferRange;
    vd->offset_align = vd->props.limits.minStorageBufferOffsetAlignment;
    kiln_vk_pool_init(vd, vd->max_alloc < ((VkDeviceSize)256 << 20) ? vd->max_alloc : ((VkDeviceSize)256 << 20));

    const float priority = 1.0f;
    const VkDeviceQueueCreateInfo qi = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                         .queueFamilyIndex = vd->queue_family, .queueCount = 1,
                                         .pQueuePriorities = &priority };
    const char *ext = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    // The features the kernels' SPIR-V declares (StorageBuffer16BitAccess, StorageBuffer8BitAccess).
    VkPhysicalDevice8BitStorageFeatures s8 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
                                               .storageBuffer8BitAccess = VK_TRUE };
    VkPhysicalDevice16BitStorageFeatures s16 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                 .pNext = &s8, .storageBuffer16BitAccess = VK_TRUE };
    const VkDeviceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                    .pNext = vd->narrow_loads ? &s16 : NULL, .queueCreateInfoCount = 1,
                                    .pQueueCreateInfos = &qi, .enabledExtensionCount = vd->has_budget ? 1 : 0,
                                    .ppEnabledExtensionNames = &ext };
    VkResult r = kiln_vk.vkCreateDevice(phys, &ci, NULL, &vd->device);
    if (r != VK_SUCCESS) {
        device_destroy(vd);
        return kiln_fail(KILN_E_UNSUPPORTED, "vkCreateDevice failed: %s", kiln_vk_result_name(r));
    }
    kiln_vk_loader_device(vd->device);
    kiln_vk.vkGetDeviceQueue(vd->device, vd->queue_family, 0, &vd->queue);
    enum kiln_status st = kiln_vk_pipeline_layout_new(vd);
    if (st == KILN_OK)
        st = kiln_vk_host_buffer_new(vd, 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &vd->dummy);
    if (st != KILN_OK) {
        device_destroy(vd);
        return st;
    }
    struct kiln_device *d = &vd->dev;
    d->iface = &vk_iface;
    snprintf(d->info.name, sizeof d->info.name, "vulkan:%d", index);
    d->info.backend = "vulkan";
    snprintf(d->info.description, sizeof d->info.description, "%.120s", vd->props.deviceName);
    VkPhysicalDeviceDriverProperties drv = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES };
    if (vd->props.apiVersion >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv };
        kiln_vk.vkGetPhysicalDeviceProperties2(phys, &p2);
    }
    if (drv.driverName[0])
        snprintf(d->info.driver, sizeof d->info.driver, "%.24s %.36s", drv.driverName, drv.driverInfo);
    else
        snprintf(d->info.driver, sizeof d->info.driver, "driver version 0x%x", vd->props.driverVersion);
    d->info.host_memory = false;
    d->info.emulated = vd->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    describe(vd);
    snprintf(d->info.details, sizeof d->info.details, "%s", vd->details);
    d->kernels = kiln_vk_kernels;
    d->n_kernels = kiln_vk_kernel_count;
    st = kiln_device_add(d);
    if (st != KILN_OK)
        device_destroy(vd);
    else
        g.n_devices++;
    return st;
}

enum kiln_status kiln_vulkan_backend_init(const struct kiln_init_options *options) {
    (void)options;
    KILN_TRY(kiln_vk_loader_open());
    enum kiln_status st = instance_new();
    if (st != KILN_OK) {
        kiln_vk_loader_close();
        return st;
    }
    uint32_t n = 0;
    kiln_vk.vkEnumeratePhysicalDevices(g.instance, &n, NULL);
    VkPhysicalDevice phys[8];
    n = n > 8 ? 8 : n;
    if (n)
        kiln_vk.vkEnumeratePhysicalDevices(g.instance, &n, phys);
    char skipped[160] = "";
    int added = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (device_new(phys[i], added) == KILN_OK)
            added++;
        else
            snprintf(skipped, sizeof skipped, "a device was skipped: %s", kiln_last_error());
    }
    if (added == 0) {
        instance_release();
        return kiln_fail(KILN_E_UNSUPPORTED, "%s", n == 0 ? "no Vulkan device found" : skipped);
    }
    return KILN_OK;
}
