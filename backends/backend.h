// kiln's dispatch layer, public side: devices, buffers, tensors, streams, timers, memory.
//
// A device is one CPU or GPU ("cpu", "cuda:0", "vulkan:0"). A buffer is memory owned by the
// device that allocated it. A tensor is a non-owning view into a buffer: type, ne[4] (element
// counts, ne[0] fastest-varying, as GGUF), nb[4] (byte strides), offset. A stream is an ordered
// queue on one device: ops are enqueued and may run asynchronously; kiln_stream_sync() waits.
// (CPU: ops run at once on a persistent thread pool. Vulkan: recorded into command buffers and
// submitted at sync. CUDA: a cudaStream.) Timers measure device time between two points of a
// stream. Nothing here exposes a CUDA or Vulkan type.
//
// Ops (matmul, attention, ...) are declared in ops.h; kernel tables in kernel.h.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/status.h"
#include "quant/format/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kiln_device;
struct kiln_buffer;
struct kiln_stream;
struct kiln_timer;

// ---- initialisation and the device list ----

struct kiln_init_options {
    int n_threads;        // CPU worker threads; 0 = one per physical core (hwloc)
    bool no_pin;          // do not pin CPU threads to cores
    const char *backends; // comma-separated backends to start ("cpu,vulkan"); NULL = all built
};

// Starts every built backend (missing drivers/devices make a backend absent, not an error).
// Safe to call once per process; kiln_shutdown() releases everything.
enum kiln_status kiln_init(const struct kiln_init_options *options);
void kiln_shutdown(void);

int kiln_device_count(void);
struct kiln_device *kiln_device_get(int index);
// By name ("cpu", "vulkan:0") or backend name ("vulkan" = its first device); NULL if none.
struct kiln_device *kiln_device_find(const char *name);

// Backends known to this build and whether they started ("absent: no Vulkan loader").
struct kiln_backend_status {
    const char *name;     // "cpu", "cuda", "vulkan"
    bool built;           // compiled into this binary
    bool available;       // started with at least one device
    char reason[160];     // why absent, when not available
};
int kiln_backend_status_count(void);
const struct kiln_backend_status *kiln_backend_status_get(int index);

struct kiln_device_info {
    char name[32];          // "cpu", "cuda:0"
    const char *backend;    // "cpu"
    char description[128];  // "Intel(R) Xeon(R) ...", "NVIDIA H100 80GB HBM3"
    char driver[64];        // driver/runtime version, "" for the CPU
    bool host_memory;       // buffers are host-addressable (kiln_buffer_host_ptr works)
    int n_threads;          // CPU: worker threads; GPUs: 0
    char details[384];      // backend-specific: API version, heaps, limits, features used
    bool emulated;          // a GPU API running on the host CPU (Mesa's lavapipe)
};
const struct kiln_device_info *kiln_device_info(const struct kiln_device *device);

struct kiln_memory_info {
    uint64_t total;      // device memory (host RAM for the CPU)
    uint64_t free;       // free as the driver/OS reports it
    bool free_known;     // false where the driver cannot tell
    uint64_t live;       // bytes kiln holds in buffers on this device now
    uint64_t peak;       // high-water mark of `live`
};
enum kiln_status kiln_device_memory(struct kiln_device *device, struct kiln_memory_info *out);
void kiln_device_reset_peak(struct kiln_device *device);

// ---- buffers ----

enum kiln_status kiln_buffer_alloc(struct kiln_device *device, size_t size, struct kiln_buffer **out);
// Frees a buffer (NULL is fine). No enqueued work may still use it: sync (or free) the streams
// that used it first — GPU streams run recorded work later.
void kiln_buffer_free(struct kiln_buffer *buffer);
size_t kiln_buffer_size(const struct kiln_buffer *buffer);
struct kiln_device *kiln_buffer_device(const struct kiln_buffer *buffer);
// Host address of the buffer's first byte; NULL for device memory the host cannot address.
void *kiln_buffer_host_ptr(const struct kiln_buffer *buffer);

// ---- tensors: non-owning views ----

// How a tensor's bytes are arranged. ROWS is GGUF's (and every kernel's unless its table row
// says otherwise); the others are load-time rearrangements of weights for one device's kernels
// (quant/format/repack.h). Kernel rows name the layout of src[0] they read (kernel.h `w_layout`), so a
// kernel never sees a layout it was not written for.
enum kiln_layout {
    KILN_LAYOUT_ROWS = 0,
    KILN_LAYOUT_Q4_0_X8 = 1,  // Q4_0 in tiles of 8 rows (quant/format/repack.h); matmul weights only
    KILN_LAYOUT_Q8_0_X8 = 2,  // Q8_0 in tiles of 8 rows, codes offset by 128 (quant/format/repack.h)
    KILN_LAYOUT_Q4_K_X16 = 3, // Q4_K in tiles of 16 rows, one record per super-block (quant/format/repack.h)
    KILN_LAYOUT_Q6_K_X16 = 4, // Q6_K likewise
    KILN_LAYOUT_Q5_K_X16 = 5, // Q5_K likewise
    KILN_LAYOUT_Q2_K_X16 = 6, // Q2_K likewise
    KILN_LAYOUT_Q3_K_X16 = 7, // Q3_K likewise
};

struct kiln_tensor {
    enum kiln_type type;
    enum kiln_layout layout;   // KILN_LAYOUT_ROWS unless repacked (zero-initialised views are rows)
    int64_t ne[4];             // elements per dimension, ne[0] fastest
    size_t nb[4];              // byte stride per dimension (nb[0] = bytes per block)
    struct kiln_buffer *buffer;
    size_t offset;             // byte offset of element 0 in the buffer
};

// A contiguous tensor of up to 4 dims (unused dims = 1) at `offset` of `buffer`.
struct kiln_tensor kiln_tensor_make(struct kiln_buffer *buffer, size_t offset, enum kiln_type type,
                                    int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3);
// Bytes from the first to one past the last byte the view touches (0 if empty).
size_t kiln_tensor_span(const struct kiln_tensor *t);
int64_t kiln_tensor_nelements(const struct kiln_tensor *t);
int64_t kiln_tensor_nrows(const struct kiln_tensor *t);  // ne[1]*ne[2]*ne[3]
bool kiln_tensor_is_contiguous(const struct kiln_tensor *t);
// Checks a view is well-formed: known type, positive dims, ne[0] a whole number of blocks,
// nb[0] = bytes per block, and every byte inside the buffer. `what` names it in the message.
enum kiln_status kiln_tensor_validate(const struct kiln_tensor *t, const char *what);
// Host address of element (0, i1, i2, i3) for host-memory buffers.
void *kiln_tensor_row_ptr(const struct kiln_tensor *t, int64_t i1, int64_t i2, int64_t i3);
// Row r of the flattened rows (r over ne[1]*ne[2]*ne[3], ne[1] fastest).
void *kiln_tensor_row(const struct kiln_tensor *t, int64_t r);

// ---- streams and data movement ----

enum kiln_status kiln_stream_new(struct kiln_device *device, struct kiln_stream **out);
void kiln_stream_free(struct kiln_stream *stream);
enum kiln_status kiln_stream_sync(struct kiln_stream *stream);
struct kiln_device *kiln_stream_device(const struct kiln_stream *stream);

// Copies host bytes into a buffer, ordered after the work already on the stream. Returns when
// `src` may be reused.
enum kiln_status kiln_buffer_upload(struct kiln_stream *stream, struct kiln_buffer *buffer,
                                    size_t offset, const void *src, size_t size);
// Waits for the stream's work so far, then copies bytes out of a buffer into `dst`.
enum kiln_status kiln_buffer_download(struct kiln_stream *stream, struct kiln_buffer *buffer,
                                      size_t offset, void *dst, size_t size);

// ---- weight layouts (enum kiln_layout) ----

// The layout `device` wants for a matmul weight of this type and shape [k, m]: a repacked one
// where its kernel table has usable matmul rows (GEMV and GEMM) for it and the shape fits,
// else KILN_LAYOUT_ROWS. KILN_NO_REPACK=1 in the environment keeps rows everywhere (A/B runs).
enum kiln_layout kiln_weight_layout(const struct kiln_device *device, enum kiln_type type, int64_t k,
                                    int64_t m);
// KILN_OK if `t` (type, shape, strides) can be stored in `layout`, else KILN_E_UNSUPPORTED
// saying why (repacked layouts need whole contiguous tiles of rows).
enum kiln_status kiln_layout_fits(enum kiln_layout layout, const struct kiln_tensor *t);
// "x8" / "x16" for the repacked layouts, "" for rows: the suffix kernel names and reports give a type.
const char *kiln_layout_suffix(enum kiln_layout layout);
// Uploads a weight given in GGUF row order (`rows`, the bytes of dst's rows) into dst's buffer
// range, rearranged into dst->layout on the way (in chunks through a host buffer).
enum kiln_status kiln_weight_upload(struct kiln_stream *stream, const struct kiln_tensor *dst,
                                    const void *rows);

// Graph capture (CUDA graphs; absent elsewhere): between begin and end the stream's ops are
// recorded, not run; end(run = true) then launches them as one graph — a decode step's few
// hundred small kernels for one launch. No sync, upload or download may happen in between.
bool kiln_stream_can_capture(const struct kiln_stream *stream);
enum kiln_status kiln_stream_capture_begin(struct kiln_stream *stream);
enum kiln_status kiln_stream_capture_end(struct kiln_stream *stream, bool run);

// ---- timers: device time between two points of a stream ----

enum kiln_status kiln_timer_new(struct kiln_stream *stream, struct kiln_timer **out);
void kiln_timer_free(struct kiln_timer *timer);
enum kiln_status kiln_timer_start(struct kiln_timer *timer);
enum kiln_status kiln_timer_stop(struct kiln_timer *timer);
// Seconds between start and stop; the stream must have been synced after stop.
enum kiln_status kiln_timer_elapsed(struct kiln_timer *timer, double *seconds);

// ---- roofline probes: the kernels that measure a device's ceilings ----

enum kiln_probe_kind {
    KILN_PROBE_READ,  // read `bytes` of buffer a (f32), store a checksum in b
    KILN_PROBE_COPY,  // copy `bytes` from a to b (traffic: 2 x bytes)
    KILN_PROBE_FMA,   // about `flops` floating-point operations of FMAs on registers
    KILN_PROBE_INT8,  // about `flops` integer operations of int8 dot products on registers (2 per
                      // multiply-add); KILN_E_UNSUPPORTED where the device has no such probe
    KILN_PROBE_TENSOR,  // about `flops` f16 x f16 -> f32 matrix-unit operations (CUDA mma.sync);
                        // KILN_E_UNSUPPORTED where the device has none (CPU, Vulkan today)
};
#define KILN_PROBE_COUNT 5

// What a compute probe issues on this device ("avx512 zmm vfmadd231ps"); NULL if unknown.
const char *kiln_probe_isa(struct kiln_device *dev, enum kiln_probe_kind kind);

// Enqueues a probe on the stream; time it with a timer like any op. KILN_E_UNSUPPORTED if the
// device has no probes. *flops_done receives the exact FLOP count of an FMA probe.
enum kiln_status kiln_probe(struct kiln_stream *s, enum kiln_probe_kind kind, struct kiln_buffer *a,
                            struct kiln_buffer *b, size_t bytes, double flops, double *flops_done);

#ifdef __cplusplus
}
#endif
