// hwloc-backed topology (topology.h).
#include "backends/cpu/topology.h"

#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static hwloc_topology_t topo;
static struct kiln_topology_info info;
static enum kiln_status load_status = KILN_OK;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static double read_mhz(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[256];
    double mhz = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon && sscanf(colon + 1, "%lf", &mhz) == 1)
                break;
        }
    }
    fclose(f);
    return mhz;
}

static void add_caches(void) {
    static const hwloc_obj_type_t types[] = {
        HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
        HWLOC_OBJ_L4CACHE,
    };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const int n = hwloc_get_nbobjs_by_type(topo, types[t]);
        if (n <= 0 || info.n_caches == 8)
            continue;
        hwloc_obj_t obj = hwloc_get_obj_by_type(topo, types[t], 0);
        struct kiln_cache_info *c = &info.caches[info.n_caches++];
        c->level = (int)obj->attr->cache.depth;
        c->type = obj->attr->cache.type == HWLOC_OBJ_CACHE_DATA          ? "Data"
                  : obj->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "Instruction"
                                                                         : "Unified";
        c->size = obj->attr->cache.size;
        c->num_sharing = hwloc_bitmap_weight(obj->cpuset);
        c->count = n;
        if (c->type[0] != 'I')
            info.llc_bytes = c->size * (uint64_t)n;  // caches are visited from L1 up
    }
}

static void load(void) {
    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
        load_status = KILN_E_DEVICE;
        snprintf(load_error, sizeof load_error, "hwloc could not read the CPU topology");
        return;
    }
    info.n_pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    info.n_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (info.n_cores <= 0)
        info.n_cores = info.n_pus;
    info.n_packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    info.n_numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    info.total_memory = root->total_memory;
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    snprintf(info.cpu_model, sizeof info.cpu_model, "%s", model ? model : "unknown CPU");
    info.mhz = read_mhz();
    unsigned v = hwloc_get_api_version();
    snprintf(info.hwloc_version, sizeof info.hwloc_version, "%u.%u.%u", v >> 16, (v >> 8) & 0xff,
             v & 0xff);
    add_caches();
}

enum kiln_status kiln_topology_get(const struct kiln_topology_info **out) {
    pthread_once(&once, load);
    if (load_status != KILN_OK)
        return kiln_fail(load_status, "%s", load_error);
    *out = &info;
    return KILN_OK;
}

enum kiln_status kiln_topology_bind_thread(int core) {
    const struct kiln_topology_info *t;
    KILN_TRY(kiln_topology_get(&t));
    hwloc_obj_t obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)(core % t->n_cores));
    if (!obj)
        obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)(core % t->n_pus));
    if (!obj)
        return kiln_fail(KILN_E_DEVICE, "hwloc: no core %d to bind to", core);
    hwloc_cpuset_t set = hwloc_bitmap_dup(obj->cpuset);
    hwloc_bitmap_singlify(set);  // one PU of the core: no migration between its hyperthreads
    const int rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
    if (rc != 0)
        return kiln_fail(KILN_E_DEVICE, "hwloc: cannot bind a thread to core %d", core);
    return KILN_OK;
}
