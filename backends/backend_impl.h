// kiln's dispatch layer, private side: the vtable each backend implements and the structs
// behind the public handles. Only backends/ includes this.
//
// A backend provides devices; each device has an iface (below), a kernel table, and a context.
// Slots marked (optional) may be NULL; the generic wrapper in registry.c supplies the default.
#pragma once

#include <stdatomic.h>

#include "backends/backend.h"
#include "backends/kernel.h"

#define KILN_BACKEND_API_VERSION 1

struct kiln_device_iface {
    // Total and free memory as the driver/OS reports it.
    enum kiln_status (*memory)(struct kiln_device *dev, uint64_t *total, uint64_t *free_bytes,
                               bool *free_known);
    // Allocates `size` bytes; *handle is the backend's, *host the host address or NULL.
    enum kiln_status (*buffer_alloc)(struct kiln_device *dev, size_t size, void **handle,
                                     void **host);
    void (*buffer_free)(struct kiln_device *dev, void *handle);

    enum kiln_status (*stream_new)(struct kiln_device *dev, void **ctx);
    void (*stream_free)(struct kiln_device *dev, void *ctx);
    enum kiln_status (*stream_sync)(struct kiln_stream *s);

    enum kiln_status (*upload)(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                               const void *src, size_t size);
    enum kiln_status (*download)(struct kiln_stream *s, struct kiln_buffer *b, size_t offset,
                                 void *dst, size_t size);

    // Enqueues a validated op with one of this device's kernel rows.
    enum kiln_status (*launch)(struct kiln_stream *s, const struct kiln_kernel *kernel,
                               const struct kiln_op *op);

    enum kiln_status (*timer_new)(struct kiln_stream *s, void **ctx);
    void (*timer_free)(struct kiln_stream *s, void *ctx);
    enum kiln_status (*timer_record)(struct kiln_stream *s, void *ctx, bool stop);
    enum kiln_status (*timer_elapsed)(struct kiln_stream *s, void *ctx, double *seconds);

    // (optional) Enqueues a roofline probe (backend.h); *flops_done = the FLOPs it will do.
    enum kiln_status (*probe)(struct kiln_stream *s, enum kiln_probe_kind kind,
                              struct kiln_buffer *a, struct kiln_buffer *b, size_t bytes,
                              double flops, double *flops_done);
    // (optional) What a compute probe issues (kiln_probe_isa).
    const char *(*probe_isa)(struct kiln_device *dev, enum kiln_probe_kind kind);

    // (optional) Graph capture (CUDA graphs): capture_begin records the stream's following
    // ops instead of running them; capture_end(run) stops recording and, if `run`, replays
    // them as one graph (updating the previous one's executable when the shape is the same).
    enum kiln_status (*capture_begin)(struct kiln_stream *s);
    enum kiln_status (*capture_end)(struct kiln_stream *s, bool run);

    // Releases the device context at shutdown.
    void (*device_free)(struct kiln_device *dev);
};

struct kiln_device {
    const struct kiln_device_iface *iface;
    struct kiln_device_info info;
    const struct kiln_kernel *kernels;
    int n_kernels;
    uint32_t cpu_features;      // features CPU rows are checked against (0 on GPUs)
    _Atomic uint64_t live_bytes;
    _Atomic uint64_t peak_bytes;
    void *ctx;
};

struct kiln_buffer {
    struct kiln_device *device;
    size_t size;
    void *handle;
    void *host;
};

// Scratch buffers a stream keeps for the dispatch layer, grown on demand.
enum kiln_scratch_slot {
    KILN_SCRATCH_KERNEL,    // a kernel's workspace (quantized activations, partial sums)
    KILN_SCRATCH_FALLBACK,  // dequantized weight chunks of the matmul fallback
    KILN_SCRATCH_COUNT
};

struct kiln_stream {
    struct kiln_device *device;
    void *ctx;
    struct kiln_buffer *scratch[KILN_SCRATCH_COUNT];
    // While a graph is being captured the stream cannot sync, so a scratch buffer that must
    // grow is retired (kept alive for the captured work) and freed at the next sync.
    bool capturing;
    struct kiln_buffer *retired[8];
    int n_retired;
};

struct kiln_timer {
    struct kiln_stream *stream;
    void *ctx;
    bool started, stopped;
};

// A scratch buffer of at least `size` bytes for this stream (syncs before replacing one).
enum kiln_status kiln_stream_scratch(struct kiln_stream *s, enum kiln_scratch_slot slot,
                                     size_t size, struct kiln_buffer **out);

// Backend entry points, called by kiln_init. Each appends its devices with kiln_device_add()
// or returns an error whose message says why the backend is absent.
enum kiln_status kiln_cpu_backend_init(const struct kiln_init_options *options);
#ifdef KILN_HAVE_CUDA
enum kiln_status kiln_cuda_backend_init(const struct kiln_init_options *options);
#endif
#ifdef KILN_HAVE_VULKAN
enum kiln_status kiln_vulkan_backend_init(const struct kiln_init_options *options);
#endif

// Registers a device (the registry owns it from then on).
enum kiln_status kiln_device_add(struct kiln_device *device);
