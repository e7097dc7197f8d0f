// The Vulkan loader, opened at run time: libvulkan.so.1 through dlopen, then every function
// kiln calls through vkGetInstanceProcAddr / vkGetDeviceProcAddr (what volk does). Linking the
// loader instead would make the kiln binary fail to start where no loader is installed.
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

#include "backends/vulkan/vk_internal.h"

struct kiln_vk_fns kiln_vk;
static void *library;

enum kiln_status kiln_vk_loader_open(void) {
    if (library)
        return KILN_OK;
    library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library)
        library = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!library)
        return kiln_fail(KILN_E_UNSUPPORTED, "no Vulkan loader (libvulkan.so.1; Debian: apt-get install libvulkan1)");
    kiln_vk.vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(library, "vkGetInstanceProcAddr");
    if (!kiln_vk.vkGetInstanceProcAddr) {
        dlclose(library);
        library = NULL;
        return kiln_fail(KILN_E_UNSUPPORTED, "the Vulkan loader has no vkGetInstanceProcAddr");
    }
#define GLOBAL(name) kiln_vk.name = (PFN_##name)kiln_vk.vkGetInstanceProcAddr(NULL, #name);
    GLOBAL(vkCreateInstance)
    GLOBAL(vkEnumerateInstanceVersion)
    GLOBAL(vkEnumerateInstanceLayerProperties)
#undef GLOBAL
    if (!kiln_vk.vkCreateInstance)
        return kiln_fail(KILN_E_UNSUPPORTED, "the Vulkan loader has no vkCreateInstance");
    return KILN_OK;
}

void kiln_vk_loader_instance(VkInstance instance, bool debug) {
#define INSTANCE(name) kiln_vk.name = (PFN_##name)kiln_vk.vkGetInstanceProcAddr(instance, #name);
    KILN_VK_INSTANCE_FNS(INSTANCE)
#undef INSTANCE
    if (debug) {
        kiln_vk.vkCreateDebugUtilsMessengerEXT = (PFN_vkCreateDebugUtilsMessengerEXT)
            kiln_vk.vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT");
        kiln_vk.vkDestroyDebugUtilsMessengerEXT = (PFN_vkDestroyDebugUtilsMessengerEXT)
            kiln_vk.vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT");
    }
}

void kiln_vk_loader_device(VkDevice device) {
#define DEVICE(name) kiln_vk.name = (PFN_##name)kiln_vk.vkGetDeviceProcAddr(device, #name);
    KILN_VK_DEVICE_FNS(DEVICE)
#undef DEVICE
}

// Marks every shared object mapped now (the loader, the ICD such as Mesa's lavapipe and the LLVM
// it links, layers) RTLD_NODELETE, so no later dlclose (ours, or the loader's own at
// vkDestroyInstance) unmaps it before exit. Why: LeakSanitizer reports at exit, and a leak inside
// a library that was unloaded by then has a stack of "<unknown module>" frames, which no
// suppression can name (tests/sanitizer/lsan.supp names these libraries). Unmapping a Vulkan
// driver at exit saves nothing, and a driver's own exit handlers expect to stay mapped anyway.
static int pin_object(struct dl_phdr_info *info, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    if (info->dlpi_name && info->dlpi_name[0]) {
        void *h = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        if (h)
            dlclose(h);  // drops the reference taken here; the NODELETE mark stays
    }
    return 0;
}

void kiln_vk_loader_pin(void) { dl_iterate_phdr(pin_object, NULL); }

void kiln_vk_loader_close(void) {
    if (library) {
        kiln_vk_loader_pin();  // whatever a failed vkCreateInstance loaded, too
        dlclose(library);
    }
    library = NULL;
}

const char *kiln_vk_result_name(VkResult r) {
    switch (r) {
#define NAME(x) case x: return #x;
    NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_INCOMPLETE)
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY) NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME(VK_ERROR_INITIALIZATION_FAILED) NAME(VK_ERROR_DEVICE_LOST)
    NAME(VK_ERROR_MEMORY_MAP_FAILED) NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT) NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER) NAME(VK_ERROR_TOO_MANY_OBJECTS)
    NAME(VK_ERROR_FORMAT_NOT_SUPPORTED) NAME(VK_ERROR_FRAGMENTED_POOL)
    NAME(VK_ERROR_OUT_OF_POOL_MEMORY) NAME(VK_ERROR_UNKNOWN)
#undef NAME
    default: return "VkResult (unknown code)";
    }
}

enum kiln_status kiln_vk_fail(VkResult r, const char *call) {
    char name[64];
    const char *paren = call;
    size_t n = 0;
    while (paren[n] && paren[n] != '(' && n + 1 < sizeof name) {  // "kiln_vk.vkFoo(" -> "vkFoo"
        name[n] = paren[n];
        n++;
    }
    name[n] = 0;
    const char *short_name = name;
    for (const char *p = name; *p; p++)
        if (*p == '.')
            short_name = p + 1;
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return kiln_fail(KILN_E_NOMEM, "vulkan: %s failed: %s", short_name, kiln_vk_result_name(r));
    return kiln_fail(KILN_E_DEVICE, "vulkan: %s failed: %s%s", short_name, kiln_vk_result_name(r),
                     r == VK_ERROR_DEVICE_LOST ? " (the device was lost: its work since the last sync is gone)" : "");
}
