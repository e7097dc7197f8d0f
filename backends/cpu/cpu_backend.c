// The CPU backend: one device ("cpu") with host memory, a persistent thread pool, streams that
// execute at once, and a monotonic-clock timer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "backends/backend_impl.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_kernel.h"
#include "kernels/common/prefetch.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cpu/topology.h"
#include "kernels/probe/probe.h"

struct cpu_device {
    struct kiln_device dev;
    struct kiln_pool *pool;
};

static struct kiln_pool *pool_of(const struct kiln_stream *s) {
    return ((struct cpu_device *)s->device)->pool;
}

static uint64_t meminfo_kb(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kb = 0;
    const size_t len = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            sscanf(line + len + 1, "%lu", &kb);
            break;
        }
    }
    fclose(f);
    return kb;
}

static enum kiln_status cpu_memory(struct kiln_device *dev, uint64_t *total, uint64_t *free_bytes,
                                   bool *free_known) {
    (void)dev;
    *total = meminfo_kb("MemTotal") * 1024;
    *free_bytes = meminfo_kb("MemAvailable") * 1024;
    *free_known = *free_bytes != 0;
    // KILN_CPU_MEMORY_BYTES caps what the CPU device reports, so the model loader's fit check
    // (bench/model/model.c) refuses models past it: the fuzzer's memory cap, or a share of a machine.
    static long long cap = -1;
    if (cap < 0) {
        const char *e = getenv("KILN_CPU_MEMORY_BYTES");
        cap = e ? atoll(e) : 0;
    }
    if (cap > 0) {
        *total = *total < (uint64_t)cap ? *total : (uint64_t)cap;
        *free_bytes = *free_known && *free_bytes < (uint64_t)cap ? *free_bytes : (uint64_t)cap;
        *free_known = true;
    }
    return KILN_OK;
}

// Buffers of 2 MiB and more are anonymous mappings aligned to 2 MiB and advised as huge pages.
// Why: a decode step streams every weight byte once; with 4 KiB pages a 7B model's 3.6 GiB is
// ~900k pages, and the page walks on TLB misses cost a measurable part of the memory bandwidth
// (Debian's default THP mode is "madvise", so malloc'd memory never gets huge pages). The
// roofline probe allocates through here too, so both sides of the decode fraction see the same
// pages. Smaller buffers use aligned_alloc. The handle records what to free.
#define HUGE_PAGE ((size_t)2 << 20)

struct cpu_buffer {
    void *data;
    size_t mapped;  // bytes mapped with mmap, 0 = aligned_alloc
};

static void *map_huge(size_t size, size_t *mapped) {
    size_t len = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw)  // trim the unaligned head and tail so the mapping is exactly [p, p + len)
        munmap(raw, (size_t)(p - raw));
    if (raw + len + HUGE_PAGE > p + len)
        munmap(p + len, (size_t)(raw + len + HUGE_PAGE - (p + len)));
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);  // advice only: without THP the pages are simply small
#endif
    *mapped = len;
    return p;
}

static enum kiln_status cpu_buffer_alloc(struct kiln_device *dev, size_t size, void **handle,
                                         void **host) {
    (void)dev;
    struct cpu_buffer *b = malloc(sizeof *b);
    if (!b)
        return kiln_fail(KILN_E_NOMEM, "cpu: cannot allocate a buffer record");
    b->mapped = 0;
    if (size >= HUGE_PAGE)
        b->data = map_huge(size, &b->mapped);
    else  // 64-byte alignment (a cache line) and a size rounded up to it, as aligned_alloc requires
        b->data = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!b->data) {
        free(b);
        return kiln_fail(KILN_E_NOMEM, "cpu: cannot allocate %zu bytes of host memory", size);
    }
    *handle = b;
    *host = b->data;
    return KILN_OK;
}

static void cpu_buffer_free(struct kiln_device *dev, void *handle) {
    (void)dev;
    struct cpu_buffer *b = handle;
    if (b->mapped)
        munmap(b->data, b->mapped);
    else
        free(b->data);
    free(b);
}

static enum kiln_status cpu_stream_new(struct kiln_device *dev, void **ctx) {
    (void)dev;
    *ctx = NULL;  // ops run at once: the stream needs no queue
    return KILN_OK;
}

static void cpu_stream_free(struct kiln_device *dev, void *ctx) {
    (void)dev;
    (void)ctx;
}

static enum kiln_status cpu_stream_sync(struct kiln_stream *s) {
    (void)s;
    return KILN_OK;
}

static enum kiln_status cpu_upload(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                   const void *src, size_t size) {
    (void)s;
    memcpy((char *)b->host + offset, src, size);
    return KILN_OK;
}

static enum kiln_status cpu_download(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                     void *dst, size_t size) {
    (void)s;
    memcpy(dst, (const char *)b->host + offset, size);
    return KILN_OK;
}

struct launch_ctx {
    const struct kiln_cpu_kernel *k;
    const struct kiln_op *op;
    void *ws;
};

static void run_prepare(void *arg, int ith, int nth) {
    struct launch_ctx *c = arg;
    c->k->prepare(c->op, c->ws, ith, nth);
}

static void run_compute(void *arg, int ith, int nth) {
    struct launch_ctx *c = arg;
    c->k->compute(c->op, c->ws, ith, nth);
}

static enum kiln_status cpu_launch(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                   const struct kiln_op *op) {
    struct kiln_pool *pool = pool_of(s);
    const int nth = kiln_pool_size(pool);
    struct launch_ctx c = { .k = kernel->impl, .op = op, .ws = NULL };
    const size_t ws_size = c.k->workspace ? c.k->workspace(op, nth) : 0;
    if (ws_size) {
        struct kiln_buffer *ws;
        KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_KERNEL, ws_size, &ws));
        c.ws = ws->host;
    }
    if (c.k->prepare)
        kiln_pool_run(pool, run_prepare, &c);
    kiln_pool_run(pool, run_compute, &c);
    return KILN_OK;
}

// ---- roofline probes: each thread takes its share of the bytes (or of the FMA work) ----

struct probe_ctx {
    enum kiln_probe_kind kind;
    const float *src;
    float *dst;
    size_t n;           // floats
    uint64_t reps;      // compute-probe repetitions per thread
    const struct kiln_probe_compute *compute;  // FMA or int8
    bool avx2;
};

static void run_probe(void *arg, int ith, int nth) {
    struct probe_ctx *c = arg;
    int64_t lo, hi;
    kiln_split((int64_t)c->n, ith, nth, &lo, &hi);
    float result = 0.0f;
    switch (c->kind) {
    case KILN_PROBE_READ:
        result = c->avx2 ? kiln_probe_read_avx2(c->src + lo, (size_t)(hi - lo))
                         : kiln_probe_read_ref(c->src + lo, (size_t)(hi - lo));
        break;
    case KILN_PROBE_COPY:
        if (c->avx2)
            kiln_probe_copy_avx2(c->dst + lo, c->src + lo, (size_t)(hi - lo));
        else
            kiln_probe_copy_ref(c->dst + lo, c->src + lo, (size_t)(hi - lo));
        return;
    case KILN_PROBE_FMA:
    case KILN_PROBE_INT8:
        result = c->compute->run(c->reps);
        break;
    case KILN_PROBE_TENSOR:  // refused by cpu_probe before any thread runs
        return;
    }
    c->dst[ith % 16] = result;  // keeps the work observable; b holds >= 64 bytes
}

static enum kiln_status cpu_probe(struct kiln_stream *s, enum kiln_probe_kind kind,
                                  struct kiln_buffer *a, struct kiln_buffer *b, size_t bytes,
                                  double flops, double *flops_done) {
    struct kiln_pool *pool = pool_of(s);
    const int nth = kiln_pool_size(pool);
    struct probe_ctx c = { .kind = kind, .src = a ? a->host : NULL, .dst = b->host,
                           .n = bytes / sizeof(float), .avx2 = kiln_probe_has_avx2() };
    if (kind == KILN_PROBE_TENSOR)
        return kiln_fail(KILN_E_UNSUPPORTED, "cpu: no matrix unit probe (AMX is not used by kiln)");
    if (kind == KILN_PROBE_FMA || kind == KILN_PROBE_INT8) {
        c.compute = kind == KILN_PROBE_FMA ? kiln_probe_fma_select() : kiln_probe_int8_select();
        if (!c.compute)
            return kiln_fail(KILN_E_UNSUPPORTED, "cpu: no int8 dot-product instructions (AVX2 or Armv8.2 dotprod) to probe");
        const double per_rep = c.compute->ops_per_rep;
        c.reps = (uint64_t)(flops / nth / per_rep) + 1;
        *flops_done = (double)c.reps * per_rep * nth;
    }
    kiln_pool_run(pool, run_probe, &c);
    return KILN_OK;
}

static const char *cpu_probe_isa(struct kiln_device *dev, enum kiln_probe_kind kind) {
    (void)dev;
    const struct kiln_probe_compute *p = kind == KILN_PROBE_FMA ? kiln_probe_fma_select()
                                         : kind == KILN_PROBE_INT8 ? kiln_probe_int8_select() : NULL;
    return p ? p->isa : NULL;
}

struct cpu_timer {
    struct timespec t[2];
};

static enum kiln_status cpu_timer_new(struct kiln_stream *s, void **ctx) {
    (void)s;
    *ctx = calloc(1, sizeof(struct cpu_timer));
    return *ctx ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of host memory");
}

static void cpu_timer_free(struct kiln_stream *s, void *ctx) {
    (void)s;
    free(ctx);
}

static enum kiln_status cpu_timer_record(struct kiln_stream *s, void *ctx, bool stop) {
    (void)s;
    clock_gettime(CLOCK_MONOTONIC, &((struct cpu_timer *)ctx)->t[stop]);
    return KILN_OK;
}

static enum kiln_status cpu_timer_elapsed(struct kiln_stream *s, void *ctx, double *seconds) {
    (void)s;
    const struct cpu_timer *t = ctx;
    *seconds = (double)(t->t[1].tv_sec - t->t[0].tv_sec) + 1e-9 * (double)(t->t[1].tv_nsec - t->t[0].tv_nsec);
    return KILN_OK;
}

static void cpu_device_free(struct kiln_device *dev) {
    struct cpu_device *cd = (struct cpu_device *)dev;
    kiln_pool_free(cd->pool);
    free(cd);
}

static const struct kiln_device_iface cpu_iface = {
    .memory = cpu_memory,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .stream_new = cpu_stream_new,
    .stream_free = cpu_stream_free,
    .stream_sync = cpu_stream_sync,
    .upload = cpu_upload,
    .download = cpu_download,
    .launch = cpu_launch,
    .timer_new = cpu_timer_new,
    .timer_free = cpu_timer_free,
    .timer_record = cpu_timer_record,
    .timer_elapsed = cpu_timer_elapsed,
    .probe = cpu_probe,
    .probe_isa = cpu_probe_isa,
    .device_free = cpu_device_free,
};

enum kiln_status kiln_cpu_backend_init(const struct kiln_init_options *options) {
    const struct kiln_topology_info *topo;
    KILN_TRY(kiln_topology_get(&topo));
    struct cpu_device *cd = calloc(1, sizeof *cd);
    if (!cd)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    const int n = options->n_threads > 0 ? options->n_threads : topo->n_cores;
    enum kiln_status s = kiln_pool_new(n, !options->no_pin && n <= topo->n_cores, &cd->pool);
    if (s != KILN_OK) {
        free(cd);
        return s;
    }
    struct kiln_device *d = &cd->dev;
    d->iface = &cpu_iface;
    snprintf(d->info.name, sizeof d->info.name, "cpu");
    d->info.backend = "cpu";
    snprintf(d->info.description, sizeof d->info.description, "%s", topo->cpu_model);
    d->info.host_memory = true;
    d->info.n_threads = n;
    d->kernels = kiln_cpu_kernels;
    d->n_kernels = kiln_cpu_kernel_count;
    d->cpu_features = kiln_cpu_features();
    char why[128];
    kiln_cpu_prefetch_on = kiln_cpu_default_prefetch(why, sizeof why);
    s = kiln_device_add(d);
    if (s != KILN_OK)
        cpu_device_free(d);
    return s;
}
