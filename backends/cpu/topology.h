// The machine's CPU topology from hwloc: cores, caches, NUMA nodes, memory; and binding of
// threads to physical cores. Loaded once per process.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kiln_cache_info {
    int level;            // 1, 2, 3
    const char *type;     // "Data", "Instruction", "Unified" (Google Benchmark's words)
    uint64_t size;        // bytes of one instance
    int num_sharing;      // logical CPUs sharing one instance
    int count;            // instances on the machine
};

struct kiln_topology_info {
    int n_pus;            // logical CPUs
    int n_cores;          // physical cores
    int n_packages;
    int n_numa;
    uint64_t total_memory;
    char cpu_model[128];
    double mhz;           // nominal frequency from /proc/cpuinfo (0 if unknown)
    struct kiln_cache_info caches[8];
    int n_caches;
    uint64_t llc_bytes;   // last-level cache, all instances together
    char hwloc_version[16];
};

// The topology (loaded on first use). Never NULL after KILN_OK.
enum kiln_status kiln_topology_get(const struct kiln_topology_info **out);

// Binds the calling thread to physical core `core` (modulo the core count).
enum kiln_status kiln_topology_bind_thread(int core);

#ifdef __cplusplus
}
#endif
