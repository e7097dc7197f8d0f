// The device registry and the generic wrappers around each backend's iface: buffer accounting
// (live/peak bytes), streams with scratch, timers. This is the only file that knows which
// backends were built (KILN_HAVE_CUDA / KILN_HAVE_VULKAN).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"

#define MAX_DEVICES 16

static struct kiln_device *devices[MAX_DEVICES];
static int n_devices;
static struct kiln_backend_status backend_status[3];
static int n_backend_status;
static bool initialised;

enum kiln_status kiln_device_add(struct kiln_device *device) {
    if (n_devices == MAX_DEVICES)
        return kiln_fail(KILN_E_UNSUPPORTED, "too many devices (kiln handles %d)", MAX_DEVICES);
    devices[n_devices++] = device;
    return KILN_OK;
}

static bool wanted(const struct kiln_init_options *o, const char *name) {
    if (!o || !o->backends || !*o->backends)
        return true;
    const size_t len = strlen(name);
    for (const char *p = o->backends; *p;) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (end ? 1 : 0);
    }
    return false;
}

typedef enum kiln_status (*backend_init_fn)(const struct kiln_init_options *);

static void start_backend(const struct kiln_init_options *o, const char *name, backend_init_fn init,
                          const char *not_built_reason) {
    struct kiln_backend_status *st = &backend_status[n_backend_status++];
    memset(st, 0, sizeof *st);
    st->name = name;
    st->built = init != NULL;
    if (!init) {
        snprintf(st->reason, sizeof st->reason, "%s", not_built_reason);
        return;
    }
    if (!wanted(o, name)) {
        snprintf(st->reason, sizeof st->reason, "not requested (--backend)");
        return;
    }
    const int before = n_devices;
    enum kiln_status s = init(o);
    if (s != KILN_OK)
        snprintf(st->reason, sizeof st->reason, "%s", kiln_last_error());
    else if (n_devices == before)
        snprintf(st->reason, sizeof st->reason, "no device found");
    else
        st->available = true;
}

enum kiln_status kiln_init(const struct kiln_init_options *options) {
    if (initialised)
        return KILN_OK;
    struct kiln_init_options defaults = { 0 };
    if (!options)
        options = &defaults;
    if (options->n_threads < 0)
        return kiln_fail(KILN_E_INVALID, "threads must be >= 0 (0 = one per physical core), got %d",
                         options->n_threads);
    start_backend(options, "cpu", kiln_cpu_backend_init, "");
#ifdef KILN_HAVE_CUDA
    start_backend(options, "cuda", kiln_cuda_backend_init, "");
#else
    start_backend(options, "cuda", NULL, "not built: " KILN_CUDA_ABSENT_REASON);
#endif
#ifdef KILN_HAVE_VULKAN
    start_backend(options, "vulkan", kiln_vulkan_backend_init, "");
#else
    start_backend(options, "vulkan", NULL, "not built: " KILN_VULKAN_ABSENT_REASON);
#endif
    initialised = true;
    if (n_devices == 0)
        return kiln_fail(KILN_E_UNSUPPORTED, "no device started (backends: %s)",
                         options->backends ? options->backends : "all");
    kiln_clear_error();
    return KILN_OK;
}

void kiln_shutdown(void) {
    for (int i = 0; i < n_devices; i++) {
        if (devices[i]->iface->device_free)
            devices[i]->iface->device_free(devices[i]);
    }
    n_devices = 0;
    n_backend_status = 0;
    initialised = false;
}

int kiln_device_count(void) { return n_devices; }

struct kiln_device *kiln_device_get(int index) {
    return index >= 0 && index < n_devices ? devices[index] : NULL;
}

struct kiln_device *kiln_device_find(const char *name) {
    for (int i = 0; i < n_devices; i++) {
        if (strcmp(devices[i]->info.name, name) == 0 || strcmp(devices[i]->info.backend, name) == 0)
            return devices[i];
    }
    return NULL;
}

int kiln_backend_status_count(void) { return n_backend_status; }

const struct kiln_backend_status *kiln_backend_status_get(int index) {
    return index >= 0 && index < n_backend_status ? &backend_status[index] : NULL;
}

const struct kiln_device_info *kiln_device_info(const struct kiln_device *device) {
    return &device->info;
}

enum kiln_status kiln_device_memory(struct kiln_device *device, struct kiln_memory_info *out) {
    memset(out, 0, sizeof *out);
    KILN_TRY(device->iface->memory(device, &out->total, &out->free, &out->free_known));
    out->live = atomic_load(&device->live_bytes);
    out->peak = atomic_load(&device->peak_bytes);
    return KILN_OK;
}

void kiln_device_reset_peak(struct kiln_device *device) {
    atomic_store(&device->peak_bytes, atomic_load(&device->live_bytes));
}

// ---- buffers ----

enum kiln_status kiln_buffer_alloc(struct kiln_device *device, size_t size, struct kiln_buffer **out) {
    *out = NULL;
    if (size == 0)
        return kiln_fail(KILN_E_INVALID, "%s: cannot allocate a buffer of 0 bytes", device->info.name);
    struct kiln_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    enum kiln_status s = device->iface->buffer_alloc(device, size, &b->handle, &b->host);
    if (s != KILN_OK) {
        free(b);
        return s;
    }
    b->device = device;
    b->size = size;
    const uint64_t live = atomic_fetch_add(&device->live_bytes, size) + size;
    uint64_t peak = atomic_load(&device->peak_bytes);
    while (live > peak && !atomic_compare_exchange_weak(&device->peak_bytes, &peak, live)) {
    }
    *out = b;
    return KILN_OK;
}

void kiln_buffer_free(struct kiln_buffer *buffer) {
    if (!buffer)
        return;
    buffer->device->iface->buffer_free(buffer->device, buffer->handle);
    atomic_fetch_sub(&buffer->device->live_bytes, buffer->size);
    free(buffer);
}

size_t kiln_buffer_size(const struct kiln_buffer *buffer) { return buffer->size; }
struct kiln_device *kiln_buffer_device(const struct kiln_buffer *buffer) { return buffer->device; }
void *kiln_buffer_host_ptr(const struct kiln_buffer *buffer) { return buffer->host; }

// ---- streams ----

enum kiln_status kiln_stream_new(struct kiln_device *device, struct kiln_stream **out) {
    *out = NULL;
    struct kiln_stream *s = calloc(1, sizeof *s);
    if (!s)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    s->device = device;
    enum kiln_status st = device->iface->stream_new(device, &s->ctx);
    if (st != KILN_OK) {
        free(s);
        return st;
    }
    *out = s;
    return KILN_OK;
}

static void free_retired(struct kiln_stream *stream) {
    for (int i = 0; i < stream->n_retired; i++)
        kiln_buffer_free(stream->retired[i]);
    stream->n_retired = 0;
}

void kiln_stream_free(struct kiln_stream *stream) {
    if (!stream)
        return;
    if (stream->capturing)
        stream->device->iface->capture_end(stream, false);
    stream->device->iface->stream_sync(stream);
    free_retired(stream);
    for (int i = 0; i < KILN_SCRATCH_COUNT; i++)
        kiln_buffer_free(stream->scratch[i]);
    stream->device->iface->stream_free(stream->device, stream->ctx);
    free(stream);
}

enum kiln_status kiln_stream_sync(struct kiln_stream *stream) {
    if (stream->capturing)
        return kiln_fail(KILN_E_INVALID, "stream sync during a graph capture (end the capture first)");
    const enum kiln_status st = stream->device->iface->stream_sync(stream);
    free_retired(stream);  // the work that used them has finished (or failed)
    return st;
}

struct kiln_device *kiln_stream_device(const struct kiln_stream *stream) { return stream->device; }

bool kiln_stream_can_capture(const struct kiln_stream *stream) {
    return stream->device->iface->capture_begin && stream->device->iface->capture_end;
}

enum kiln_status kiln_stream_capture_begin(struct kiln_stream *stream) {
    if (!kiln_stream_can_capture(stream))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s has no graph capture", stream->device->info.name);
    KILN_TRY(stream->device->iface->capture_begin(stream));
    stream->capturing = true;
    return KILN_OK;
}

enum kiln_status kiln_stream_capture_end(struct kiln_stream *stream, bool run) {
    if (!kiln_stream_can_capture(stream))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s has no graph capture", stream->device->info.name);
    stream->capturing = false;
    return stream->device->iface->capture_end(stream, run);
}

enum kiln_status kiln_stream_scratch(struct kiln_stream *s, enum kiln_scratch_slot slot, size_t size,
                                     struct kiln_buffer **out) {
    struct kiln_buffer *b = s->scratch[slot];
    if (!b || b->size < size) {
        // Grow geometrically so a sequence of growing requests allocates O(log n) times.
        const size_t want = b && b->size * 2 > size ? b->size * 2 : size;
        if (b && s->capturing) {  // no sync possible: keep the old one for the captured work
            if (s->n_retired == (int)(sizeof s->retired / sizeof s->retired[0]))
                return kiln_fail(KILN_E_NOMEM, "scratch grew too often during one graph capture");
            s->retired[s->n_retired++] = b;
            s->scratch[slot] = NULL;
        } else if (b) {
            KILN_TRY(kiln_stream_sync(s));  // in-flight work may still read the old scratch
            kiln_buffer_free(b);
            s->scratch[slot] = NULL;
        }
        KILN_TRY(kiln_buffer_alloc(s->device, want ? want : 64, &s->scratch[slot]));
    }
    *out = s->scratch[slot];
    return KILN_OK;
}

static enum kiln_status check_range(const struct kiln_stream *s, const struct kiln_buffer *b,
                                    size_t offset, size_t size, const char *what) {
    if (b->device != s->device)
        return kiln_fail(KILN_E_INVALID, "%s: buffer lives on %s, stream on %s", what,
                         b->device->info.name, s->device->info.name);
    if (offset > b->size || size > b->size - offset)
        return kiln_fail(KILN_E_INVALID, "%s: bytes [%zu, %zu) outside the %zu-byte buffer", what,
                         offset, offset + size, b->size);
    return KILN_OK;
}

enum kiln_status kiln_buffer_upload(struct kiln_stream *stream, struct kiln_buffer *buffer,
                                    size_t offset, const void *src, size_t size) {
    // A captured graph replays kernels, not host copies: an upload recorded into one would
    // read `src` at replay time, long after the caller reused it (and a download would write
    // host memory the caller already read). Refused, as sync is.
    if (stream->capturing)
        return kiln_fail(KILN_E_INVALID, "upload during a graph capture (upload before "
                         "kiln_stream_capture_begin, or after the capture ends)");
    KILN_TRY(check_range(stream, buffer, offset, size, "upload"));
    return size ? stream->device->iface->upload(stream, buffer, offset, src, size) : KILN_OK;
}

enum kiln_status kiln_buffer_download(struct kiln_stream *stream, struct kiln_buffer *buffer,
                                      size_t offset, void *dst, size_t size) {
    if (stream->capturing)
        return kiln_fail(KILN_E_INVALID, "download during a graph capture (download after "
                         "the capture ends)");
    KILN_TRY(check_range(stream, buffer, offset, size, "download"));
    return size ? stream->device->iface->download(stream, buffer, offset, dst, size) : KILN_OK;
}

// ---- timers ----

enum kiln_status kiln_timer_new(struct kiln_stream *stream, struct kiln_timer **out) {
    *out = NULL;
    struct kiln_timer *t = calloc(1, sizeof *t);
    if (!t)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    t->stream = stream;
    enum kiln_status s = stream->device->iface->timer_new(stream, &t->ctx);
    if (s != KILN_OK) {
        free(t);
        return s;
    }
    *out = t;
    return KILN_OK;
}

void kiln_timer_free(struct kiln_timer *timer) {
    if (!timer)
        return;
    timer->stream->device->iface->timer_free(timer->stream, timer->ctx);
    free(timer);
}

enum kiln_status kiln_timer_start(struct kiln_timer *timer) {
    timer->started = true;
    timer->stopped = false;
    return timer->stream->device->iface->timer_record(timer->stream, timer->ctx, false);
}

enum kiln_status kiln_timer_stop(struct kiln_timer *timer) {
    if (!timer->started)
        return kiln_fail(KILN_E_INVALID, "timer stopped before it was started");
    timer->stopped = true;
    return timer->stream->device->iface->timer_record(timer->stream, timer->ctx, true);
}

enum kiln_status kiln_timer_elapsed(struct kiln_timer *timer, double *seconds) {
    if (!timer->started || !timer->stopped)
        return kiln_fail(KILN_E_INVALID, "timer read before start and stop were recorded");
    return timer->stream->device->iface->timer_elapsed(timer->stream, timer->ctx, seconds);
}

// ---- probes ----

const char *kiln_probe_isa(struct kiln_device *dev, enum kiln_probe_kind kind) {
    return dev && dev->iface->probe_isa ? dev->iface->probe_isa(dev, kind) : NULL;
}

enum kiln_status kiln_probe(struct kiln_stream *s, enum kiln_probe_kind kind, struct kiln_buffer *a,
                            struct kiln_buffer *b, size_t bytes, double flops, double *flops_done) {
    if (!s->device->iface->probe)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s has no roofline probes", s->device->info.name);
    if (kind != KILN_PROBE_FMA && kind != KILN_PROBE_INT8 && kind != KILN_PROBE_TENSOR) {
        KILN_TRY(check_range(s, a, 0, bytes, "probe source"));
        KILN_TRY(check_range(s, b, 0, kind == KILN_PROBE_COPY ? bytes : 64, "probe destination"));
    } else {
        KILN_TRY(check_range(s, b, 0, 64, "probe destination"));
    }
    double done = 0.0;
    KILN_TRY(s->device->iface->probe(s, kind, a, b, bytes, flops, &done));
    if (flops_done)
        *flops_done = done;
    return KILN_OK;
}
