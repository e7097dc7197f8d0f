// `kiln info --json` and kiln.info(): the build, the CPU (hwloc, CPUID), every started device
// with its memory and kernel counts, and each backend's status with the reason it is absent.
#include "kiln_git_commit.h"
#include "api/info_json.h"

#include "backends/cpu/cpu_features.h"
#include "backends/kernel.h"

int kiln_usable_kernels(const struct kiln_device *dev) {
    int n = 0;
    for (int i = 0; i < kiln_kernel_count(dev); i++)
        n += kiln_kernel_usable(dev, kiln_kernel_get(dev, i));
    return n;
}

cJSON *kiln_info_to_json(const struct kiln_topology_info *t) {
    char feats[128];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", KILN_VERSION);
    cJSON_AddStringToObject(root, "git_commit", KILN_GIT_COMMIT);
    cJSON_AddStringToObject(root, "build_type", KILN_BUILD_TYPE);
    cJSON_AddStringToObject(root, "compiler", KILN_COMPILER);
    cJSON *cpu = cJSON_AddObjectToObject(root, "cpu");
    cJSON_AddStringToObject(cpu, "model", t->cpu_model);
    cJSON_AddNumberToObject(cpu, "packages", t->n_packages);
    cJSON_AddNumberToObject(cpu, "cores", t->n_cores);
    cJSON_AddNumberToObject(cpu, "logical_cpus", t->n_pus);
    cJSON_AddNumberToObject(cpu, "numa_nodes", t->n_numa > 0 ? t->n_numa : 1);
    cJSON_AddNumberToObject(cpu, "mhz", t->mhz);
    kiln_cpu_features_string(kiln_cpu_features(), feats, sizeof feats);
    cJSON_AddStringToObject(cpu, "isa_features", feats);
    cJSON *caches = cJSON_AddArrayToObject(cpu, "caches");
    for (int i = 0; i < t->n_caches; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", t->caches[i].type);
        cJSON_AddNumberToObject(c, "level", t->caches[i].level);
        cJSON_AddNumberToObject(c, "size", (double)t->caches[i].size);
        cJSON_AddNumberToObject(c, "num_sharing", t->caches[i].num_sharing);
        cJSON_AddNumberToObject(c, "count", t->caches[i].count);
        cJSON_AddItemToArray(caches, c);
    }
    cJSON *devs = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < kiln_device_count(); i++) {
        struct kiln_device *dev = kiln_device_get(i);
        const struct kiln_device_info *info = kiln_device_info(dev);
        struct kiln_memory_info mem;
        kiln_device_memory(dev, &mem);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", info->name);
        cJSON_AddStringToObject(d, "backend", info->backend);
        cJSON_AddStringToObject(d, "description", info->description);
        cJSON_AddStringToObject(d, "driver", info->driver);
        if (info->details[0])
            cJSON_AddStringToObject(d, "details", info->details);
        cJSON_AddNumberToObject(d, "memory_total", (double)mem.total);
        if (mem.free_known)
            cJSON_AddNumberToObject(d, "memory_free", (double)mem.free);
        cJSON_AddNumberToObject(d, "kiln_live_bytes", (double)mem.live);
        cJSON_AddNumberToObject(d, "kiln_peak_bytes", (double)mem.peak);
        cJSON_AddNumberToObject(d, "threads", info->n_threads);
        cJSON_AddNumberToObject(d, "kernels", kiln_kernel_count(dev));
        cJSON_AddNumberToObject(d, "kernels_usable", kiln_usable_kernels(dev));
        cJSON_AddItemToArray(devs, d);
    }
    cJSON *backends = cJSON_AddArrayToObject(root, "backends");
    for (int i = 0; i < kiln_backend_status_count(); i++) {
        const struct kiln_backend_status *st = kiln_backend_status_get(i);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "name", st->name);
        cJSON_AddBoolToObject(b, "built", st->built);
        cJSON_AddBoolToObject(b, "available", st->available);
        if (!st->available)
            cJSON_AddStringToObject(b, "reason", st->reason);
        cJSON_AddItemToArray(backends, b);
    }
    return root;
}

