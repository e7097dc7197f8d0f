// kiln info: what this machine and build offer: devices, CPU features, topology, memory, and
// the reason for every backend that is absent. `--json` prints the same as one JSON object.
#include "kiln_git_commit.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_features.h"
#include "backends/kernel.h"
#include "backends/cpu/topology.h"
#include "api/info_json.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln info [--json] [--threads N] [--backend LIST]\n"
           "\n"
           "Prints the devices kiln can use (CPU, CUDA, Vulkan), the CPU's instruction sets,\n"
           "cores, caches and NUMA nodes (from hwloc), memory per device, and for each backend\n"
           "that is absent the reason (not built, no driver, no device).\n"
           "\n"
           "  --json          one JSON object instead of text\n"
           "  --threads N     CPU worker threads (default: one per physical core)\n"
           "  --backend LIST  start only these backends (cpu,cuda,vulkan)\n");
}

static void human_bytes(uint64_t b, char *buf, size_t size) {
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void print_text(const struct kiln_topology_info *t) {
    char feats[128], a[32], b[32];
    printf("kiln %s (%s, %s, %s)\n\n", KILN_VERSION, KILN_GIT_COMMIT, KILN_BUILD_TYPE, KILN_COMPILER);
    printf("CPU: %s\n", t->cpu_model);
    printf("  topology: %d package(s), %d physical cores, %d logical CPUs, %d NUMA node(s)\n",
           t->n_packages, t->n_cores, t->n_pus, t->n_numa > 0 ? t->n_numa : 1);
    if (t->mhz > 0)
        printf("  clock: %.0f MHz (nominal, /proc/cpuinfo)\n", t->mhz);
    kiln_cpu_features_string(kiln_cpu_features(), feats, sizeof feats);
    printf("  ISA features: %s\n", feats);
    char why[128];
    const int prefetch = kiln_cpu_default_prefetch(why, sizeof why);
    printf("  float GEMV software prefetch: %s (%s)\n", prefetch ? "on" : "off", why);
    for (int i = 0; i < t->n_caches; i++) {
        const struct kiln_cache_info *c = &t->caches[i];
        human_bytes(c->size, a, sizeof a);
        printf("  L%d %-11s %9s x %d (shared by %d CPU%s)\n", c->level, c->type, a, c->count,
               c->num_sharing, c->num_sharing == 1 ? "" : "s");
    }
    printf("\ndevices:\n");
    for (int i = 0; i < kiln_device_count(); i++) {
        struct kiln_device *dev = kiln_device_get(i);
        const struct kiln_device_info *info = kiln_device_info(dev);
        struct kiln_memory_info mem;
        kiln_device_memory(dev, &mem);
        human_bytes(mem.total, a, sizeof a);
        human_bytes(mem.free, b, sizeof b);
        printf("  %-9s %s\n", info->name, info->description);
        printf("            memory %s total, %s free%s; kernels %d (%d usable here)", a,
               mem.free_known ? b : "?", mem.free_known ? "" : " (unknown)",
               kiln_kernel_count(dev), kiln_usable_kernels(dev));
        if (info->n_threads)
            printf("; %d thread%s", info->n_threads, info->n_threads == 1 ? "" : "s");
        if (info->driver[0])
            printf("; driver %s", info->driver);
        printf("\n");
        if (info->details[0])
            printf("            %s\n", info->details);
    }
    printf("\nbackends:\n");
    for (int i = 0; i < kiln_backend_status_count(); i++) {
        const struct kiln_backend_status *st = kiln_backend_status_get(i);
        printf("  %-9s %s%s%s\n", st->name, st->available ? "available" : "absent",
               st->available ? "" : ": ", st->available ? "" : st->reason);
    }
}

int kiln_cmd_info(int argc, char **argv) {
    struct kiln_common_options o = { 0 };
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return KILN_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        if (!kiln_common_option_or_usage("info", argc, argv, &i, &o))
            return KILN_EXIT_USAGE;
    }
    o.init.backends = o.backends;
    const struct kiln_topology_info *t;
    if (kiln_topology_get(&t) != KILN_OK || !kiln_start("info", &o)) {
        fprintf(stderr, "kiln info: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    if (json) {
        cJSON *root = kiln_info_to_json(t);
        char *text = cJSON_Print(root);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(root);
    } else {
        print_text(t);
    }
    kiln_shutdown();
    return KILN_EXIT_OK;
}
