// The CUDA backend's runtime glue (C, through the CUDA runtime API; the kernels live in
// kernels/<op>/*_cuda.cu behind backends/cuda/cuda_ops.h). The runtime is linked statically, so
// kiln starts on a machine without a driver and reports the backend absent with the reason.
//   memory   blocks of cudaMalloc'd memory sub-allocated by backends/range_alloc.c (no cudaMalloc
//            per tensor or per token); cudaMemGetInfo for free memory
//   streams  one cudaStream each; uploads through two pinned staging halves (the copy of one
//            overlaps the memcpy into the other), downloads through pinned memory; a mapped
//            pinned status word for get_rows' bad ids, checked at sync
//   timers   cudaEvents
// Every CUDA call is checked: failures are KILN_E_DEVICE with the call, file and line.
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_cublas.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/range_alloc.h"
#include "backends/split_k.h"

_Static_assert((int)KILN_CUDA_OP_COPY == (int)KILN_OP_COPY && (int)KILN_CUDA_OP_ROPE == (int)KILN_OP_ROPE &&
               (int)KILN_CUDA_OP_GET_ROWS == (int)KILN_OP_GET_ROWS && (int)KILN_CUDA_OP_MATMUL == (int)KILN_OP_MATMUL,
               "cuda_ops.h mirrors enum kiln_op_kind");

#define STAGING_HALF ((size_t)32 << 20)
#define BLOCK_BYTES ((size_t)256 << 20)
#define ALIGN 256

static enum kiln_status cuda_fail(cudaError_t e, const char *call, const char *file, int line) {
    return kiln_fail(e == cudaErrorMemoryAllocation ? KILN_E_NOMEM : KILN_E_DEVICE, "cuda: %s failed: %s (%s:%d)",
                     call, cudaGetErrorString(e), file, line);
}
#define CUDA_TRY(call)                                                                           \
    do {                                                                                          \
        cudaError_t kiln_cuda_e_ = (call);                                                        \
        if (kiln_cuda_e_ != cudaSuccess)                                                          \
            return cuda_fail(kiln_cuda_e_, #call, __FILE__, __LINE__);                            \
    } while (0)

struct cuda_block {
    struct kiln_pool_block base;  // first: the pool's view of it (backends/range_alloc.h)
    uint8_t *ptr;
};

struct cuda_alloc {
    struct cuda_block *block;
    uint64_t offset, size;
};

struct cuda_device {
    struct kiln_device dev;
    int ordinal;
    int sms;
    int cc_major;  // compute capability (the mma GEMM needs 8+: cp.async, ldmatrix)
    void *cublas;  // cuBLAS handle of the comparator, made on first use
    struct kiln_block_pool pool;  // device memory: cudaMalloc'd blocks, sub-allocated
};

struct cuda_stream {
    cudaStream_t s;
    void *staging[2];
    cudaEvent_t staged[2];
    int next_half;
    unsigned int *status_host, *status_dev;
    cudaGraphExec_t exec;   // the last captured graph, instantiated (updated in place when it fits)
};

static struct cuda_device *cdev(struct kiln_device *d) { return (struct cuda_device *)d; }
static struct cuda_stream *cstream(struct kiln_stream *s) { return s->ctx; }
static enum kiln_status use(struct kiln_device *d) {
    CUDA_TRY(cudaSetDevice(cdev(d)->ordinal));
    return KILN_OK;
}

// ---- memory ----

static enum kiln_status cuda_memory(struct kiln_device *d, uint64_t *total, uint64_t *free_bytes, bool *known) {
    KILN_TRY(use(d));
    size_t f = 0, t = 0;
    CUDA_TRY(cudaMemGetInfo(&f, &t));
    *total = t;
    *free_bytes = f;
    *known = true;
    return KILN_OK;
}

// The pool's block callbacks (backends/range_alloc.h): one cudaMalloc each.
static enum kiln_status block_new(void *ctx, uint64_t size, struct kiln_pool_block **out) {
    struct cuda_device *cd = ctx;
    struct cuda_block *b = calloc(1, sizeof *b);
    if (!b)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    const cudaError_t e = cudaMalloc((void **)&b->ptr, (size_t)size);
    if (e != cudaSuccess) {
        cudaGetLastError();  // clear the non-sticky allocation error
        free(b);
        size_t f = 0, t = 0;
        cudaMemGetInfo(&f, &t);
        return kiln_fail(KILN_E_NOMEM, "%s: out of device memory allocating %.1f MiB (%.1f MiB free of %.1f MiB, "
                         "kiln holds %.1f MiB)", cd->dev.info.name, (double)size / 1048576.0, (double)f / 1048576.0,
                         (double)t / 1048576.0, (double)cd->dev.live_bytes / 1048576.0);
    }
    *out = &b->base;
    return KILN_OK;
}

static void block_free(void *ctx, struct kiln_pool_block *pb) {
    cudaSetDevice(((struct cuda_device *)ctx)->ordinal);
    cudaFree(((struct cuda_block *)pb)->ptr);  // synchronizes with the device: no work still reads it
    free(pb);
}

static enum kiln_status cuda_buffer_alloc(struct kiln_device *d, size_t size, void **handle, void **host) {
    KILN_TRY(use(d));
    const uint64_t want = ((uint64_t)(size ? size : 1) + ALIGN - 1) / ALIGN * ALIGN;
    struct cuda_alloc *a = malloc(sizeof *a);
    if (!a)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    struct kiln_pool_block *b;
    uint64_t off = 0;
    const enum kiln_status st = kiln_pool_take(&cdev(d)->pool, want, &b, &off);
    if (st != KILN_OK) {
        free(a);
        return st;
    }
    *a = (struct cuda_alloc){ (struct cuda_block *)b, off, want };
    *handle = a;
    *host = NULL;
    return KILN_OK;
}

static void cuda_buffer_free(struct kiln_device *d, void *handle) {
    struct cuda_alloc *a = handle;
    kiln_pool_give(&cdev(d)->pool, &a->block->base, a->offset, a->size);
    free(a);
}

static uint8_t *dev_ptr(const struct kiln_buffer *b, size_t offset) {
    const struct cuda_alloc *a = b->handle;
    return a->block->ptr + a->offset + offset;
}

// ---- streams ----

static void cuda_stream_free(struct kiln_device *d, void *ctx) {
    struct cuda_stream *cs = ctx;
    if (!cs)
        return;
    cudaSetDevice(cdev(d)->ordinal);
    if (cs->s)
        cudaStreamSynchronize(cs->s);
    for (int i = 0; i < 2; i++) {
        if (cs->staging[i])
            cudaFreeHost(cs->staging[i]);
        if (cs->staged[i])
            cudaEventDestroy(cs->staged[i]);
    }
    if (cs->status_host)
        cudaFreeHost(cs->status_host);
    if (cs->exec)
        cudaGraphExecDestroy(cs->exec);
    if (cs->s)
        cudaStreamDestroy(cs->s);
    free(cs);
}

static enum kiln_status stream_init(struct cuda_stream *cs) {
    CUDA_TRY(cudaStreamCreateWithFlags(&cs->s, cudaStreamNonBlocking));
    for (int i = 0; i < 2; i++) {
        CUDA_TRY(cudaEventCreateWithFlags(&cs->staged[i], cudaEventDisableTiming));
        CUDA_TRY(cudaHostAlloc(&cs->staging[i], STAGING_HALF, cudaHostAllocDefault));
    }
    CUDA_TRY(cudaHostAlloc((void **)&cs->status_host, 16, cudaHostAllocMapped));
    memset(cs->status_host, 0, 16);
    CUDA_TRY(cudaHostGetDevicePointer((void **)&cs->status_dev, cs->status_host, 0));
    return KILN_OK;
}

static enum kiln_status cuda_stream_new(struct kiln_device *d, void **out) {
    KILN_TRY(use(d));
    struct cuda_stream *cs = calloc(1, sizeof *cs);
    if (!cs)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    const enum kiln_status st = stream_init(cs);
    if (st != KILN_OK) {
        cuda_stream_free(d, cs);
        return st;
    }
    *out = cs;
    return KILN_OK;
}

static enum kiln_status cuda_stream_sync(struct kiln_stream *s) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    const cudaError_t e = cudaStreamSynchronize(cs->s);
    if (e != cudaSuccess)
        return kiln_fail(KILN_E_DEVICE, "cuda: work on %s failed: %s (a kernel fault leaves the context unusable: "
                         "restart the process; compute-sanitizer names the kernel)", s->device->info.name,
                         cudaGetErrorString(e));
    if (cs->status_host[0]) {
        cs->status_host[0] = 0;
        return kiln_fail(KILN_E_INVALID, "get_rows: an id was outside the table (its row was written as zeros)");
    }
    return KILN_OK;
}

static enum kiln_status cuda_upload(struct kiln_stream *s, struct kiln_buffer *b, size_t offset, const void *src,
                                   size_t size) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    const uint8_t *p = src;
    while (size) {
        const int h = cs->next_half;
        const size_t chunk = size < STAGING_HALF ? size : STAGING_HALF;
        CUDA_TRY(cudaEventSynchronize(cs->staged[h]));  // the last copy out of this half is done
        memcpy(cs->staging[h], p, chunk);
        CUDA_TRY(cudaMemcpyAsync(dev_ptr(b, offset), cs->staging[h], chunk, cudaMemcpyHostToDevice, cs->s));
        CUDA_TRY(cudaEventRecord(cs->staged[h], cs->s));
        cs->next_half ^= 1;
        p += chunk;
        offset += chunk;
        size -= chunk;
    }
    return KILN_OK;
}

static enum kiln_status cuda_download(struct kiln_stream *s, struct kiln_buffer *b, size_t offset, void *dst,
                                     size_t size) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    uint8_t *p = dst;
    while (size) {
        const size_t chunk = size < STAGING_HALF ? size : STAGING_HALF;
        CUDA_TRY(cudaMemcpyAsync(cs->staging[0], dev_ptr(b, offset), chunk, cudaMemcpyDeviceToHost, cs->s));
        KILN_TRY(cuda_stream_sync(s));
        memcpy(p, cs->staging[0], chunk);
        p += chunk;
        offset += chunk;
        size -= chunk;
    }
    return cuda_stream_sync(s);
}

// ---- launch ----

static struct kiln_cuda_view view_of(const struct kiln_tensor *t) {
    struct kiln_cuda_view v = { .data = t->buffer ? dev_ptr(t->buffer, t->offset) : NULL, .type = (int)t->type };
    for (int d = 0; d < 4; d++) {
        v.ne[d] = t->ne[d];
        v.nb[d] = (int64_t)t->nb[d];
    }
    return v;
}

// The cuBLAS comparator: x to f16 in the stream's scratch (kiln's own convert kernel), then
// cublasGemmEx with f32 accumulation into y. 2-D f16 W with contiguous rows only.
static enum kiln_status launch_cublas(struct kiln_stream *s, const struct kiln_op *op) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    struct kiln_buffer *scratch;
    KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_KERNEL, (size_t)(x->ne[0] * x->ne[1]) * 2, &scratch));
    struct kiln_tensor xh = kiln_tensor_make(scratch, 0, KILN_TYPE_F16, x->ne[0], x->ne[1], 1, 1);
    struct kiln_cuda_op conv = { .kind = KILN_CUDA_OP_COPY, .dst = view_of(&xh), .src = { view_of(x) }, .n_src = 1 };
    const char *name = "?";
    const int e = kiln_cuda_launch(&conv, cstream(s)->s, &name);
    if (e != 0)
        return kiln_fail(KILN_E_DEVICE, "cuda: launching %s for the cuBLAS comparator failed: %s", name,
                         cudaGetErrorString((cudaError_t)e));
    return kiln_cuda_cublas_gemm(&cdev(s->device)->cublas, cstream(s)->s, (int)w->ne[1], (int)x->ne[1], (int)w->ne[0],
                                 dev_ptr(w->buffer, w->offset), (int)(w->nb[1] / 2), dev_ptr(scratch, 0),
                                 (int)x->ne[0], (float *)dev_ptr(y->buffer, y->offset), (int)(y->nb[1] / 4));
}

static enum kiln_status cuda_launch(struct kiln_stream *s, const struct kiln_kernel *kernel, const struct kiln_op *op) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    if (op->kind == KILN_OP_MATMUL && (intptr_t)kernel->impl == KILN_CUDA_CUBLAS)
        return launch_cublas(s, op);
    struct kiln_cuda_op o = { .kind = (int)op->kind, .dst = view_of(&op->dst), .n_src = op->n_src,
                              .status = cs->status_dev };
    for (int i = 0; i < op->n_src; i++)
        o.src[i] = view_of(&op->src[i]);
    if (op->kind == KILN_OP_MATMUL) {
        o.variant = (int)(intptr_t)kernel->impl;
        if (o.variant == KILN_CUDA_MMA && cdev(s->device)->cc_major < 8)
            return kiln_fail(KILN_E_UNSUPPORTED, "cuda mma: needs compute capability 8.0+ (cp.async, ldmatrix)");
        const enum kiln_type wt = op->src[0].type;
        static int no_dp4a = -1;  // read once, not per launch
        if (no_dp4a < 0)
            no_dp4a = getenv("KILN_CUDA_NO_DP4A") != NULL;
        if (o.variant == KILN_CUDA_GEMV && (wt == KILN_TYPE_Q4_0 || wt == KILN_TYPE_Q8_0) && !no_dp4a) {
            struct kiln_buffer *scratch;  // x as int8 blocks for the dp4a GEMV
            const int64_t columns = op->src[1].ne[1] * op->src[1].ne[2] * op->src[1].ne[3];
            KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_KERNEL, kiln_cuda_dp4a_scratch(op->src[0].ne[0], columns), &scratch));
            o.scratch = (float *)dev_ptr(scratch, 0);
        }
    }
    if (op->kind == KILN_OP_ATTENTION) {
        o.scale = op->params.attention.scale;
        o.pos0 = op->params.attention.pos0;
        o.causal = op->params.attention.causal;
        o.variant = (int)(intptr_t)kernel->impl;
        if (o.variant == KILN_CUDA_ATT_FA2 && cdev(s->device)->cc_major < 8)
            return kiln_fail(KILN_E_UNSUPPORTED, "cuda fa2 attention: needs compute capability 8.0+ (cp.async, ldmatrix)");
    }
    if (op->kind == KILN_OP_ATTENTION && o.variant != KILN_CUDA_ATT_FA2) {  // flash and decode split long caches
        const uint32_t rows = (uint32_t)(op->src[0].ne[1] * op->src[0].ne[2]);
        uint32_t chunk = 0;
        const uint32_t splits = kiln_attention_splits(rows, (uint32_t)op->src[1].ne[1], 2u * (uint32_t)cdev(s->device)->sms, &chunk);
        if (splits > 1) {  // split-K partials in the stream's scratch (attention_cuda.cu v2)
            struct kiln_buffer *scratch;
            KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_KERNEL, (size_t)splits * rows * (size_t)(op->src[0].ne[0] + 2) * 4,
                                         &scratch));
            o.splits = (int)splits;
            o.chunk = (int)chunk;
            o.scratch = (float *)dev_ptr(scratch, 0);
        }
    } else if (op->kind == KILN_OP_RMSNORM) {
        o.eps = op->params.rmsnorm.eps;
    } else if (op->kind == KILN_OP_ROPE) {
        o.rope_mode = (int)op->params.rope.mode;
        o.rope_dims = op->params.rope.n_dims;
        o.theta_base = op->params.rope.theta_base;
        for (int i = 0; i < 128; i++)
            o.rope_ff.f[i] = op->params.rope.has_freq_factors && i < op->params.rope.n_dims / 2
                           ? op->params.rope.freq_factors[i] : 1.0f;
    }
    const char *name = "?";
    const int e = kiln_cuda_launch(&o, cs->s, &name);
    if (e != 0)
        return kiln_fail(KILN_E_DEVICE, "cuda: launching %s for %s on %s failed: %s", name, kiln_op_name(op->kind),
                         s->device->info.name, cudaGetErrorString((cudaError_t)e));
    return KILN_OK;
}

// ---- graph capture: a decode step's launches replayed as one graph ----
// Each step is captured anew (its kernels' arguments change: K/V length, cache offsets); when
// the graph has the same shape as the last one, cudaGraphExecUpdate patches the instantiated
// graph's parameters instead of instantiating again, which is what makes this cheaper than
// launching every kernel (llama.cpp's approach before it learned to patch nodes itself).

static enum kiln_status cuda_capture_begin(struct kiln_stream *s) {
    KILN_TRY(use(s->device));
    // Relaxed: a scratch buffer that must grow mid-capture may need a cudaMalloc (registry.c).
    CUDA_TRY(cudaStreamBeginCapture(cstream(s)->s, cudaStreamCaptureModeRelaxed));
    return KILN_OK;
}

static enum kiln_status cuda_capture_end(struct kiln_stream *s, bool run) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    cudaGraph_t graph = NULL;
    CUDA_TRY(cudaStreamEndCapture(cs->s, &graph));
    if (!run) {
        cudaGraphDestroy(graph);
        return KILN_OK;
    }
    enum kiln_status st = KILN_OK;
    cudaGraphExecUpdateResultInfo info;
    if (!cs->exec || cudaGraphExecUpdate(cs->exec, graph, &info) != cudaSuccess) {
        cudaGetLastError();  // a failed update is not an error: instantiate this graph instead
        if (cs->exec)
            cudaGraphExecDestroy(cs->exec);
        cs->exec = NULL;
        const cudaError_t e = cudaGraphInstantiate(&cs->exec, graph, 0);
        if (e != cudaSuccess)
            st = cuda_fail(e, "cudaGraphInstantiate", __FILE__, __LINE__);
    }
    if (st == KILN_OK) {
        const cudaError_t e = cudaGraphLaunch(cs->exec, cs->s);
        if (e != cudaSuccess)
            st = cuda_fail(e, "cudaGraphLaunch", __FILE__, __LINE__);
    }
    cudaGraphDestroy(graph);
    return st;
}

// ---- timers ----

struct cuda_timer {
    cudaEvent_t ev[2];
};

static enum kiln_status cuda_timer_new(struct kiln_stream *s, void **out) {
    KILN_TRY(use(s->device));
    struct cuda_timer *t = calloc(1, sizeof *t);
    if (!t)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    if (cudaEventCreate(&t->ev[0]) != cudaSuccess || cudaEventCreate(&t->ev[1]) != cudaSuccess) {
        free(t);
        return kiln_fail(KILN_E_DEVICE, "cuda: cudaEventCreate failed");
    }
    *out = t;
    return KILN_OK;
}

static void cuda_timer_free(struct kiln_stream *s, void *ctx) {
    (void)s;
    struct cuda_timer *t = ctx;
    cudaEventDestroy(t->ev[0]);
    cudaEventDestroy(t->ev[1]);
    free(t);
}

static enum kiln_status cuda_timer_record(struct kiln_stream *s, void *ctx, bool stop) {
    CUDA_TRY(cudaEventRecord(((struct cuda_timer *)ctx)->ev[stop], cstream(s)->s));
    return KILN_OK;
}

static enum kiln_status cuda_timer_elapsed(struct kiln_stream *s, void *ctx, double *seconds) {
    (void)s;
    struct cuda_timer *t = ctx;
    float ms = 0.0f;
    CUDA_TRY(cudaEventElapsedTime(&ms, t->ev[0], t->ev[1]));
    *seconds = ms * 1e-3;
    return KILN_OK;
}

// ---- roofline probes ----

static enum kiln_status cuda_probe(struct kiln_stream *s, enum kiln_probe_kind kind, struct kiln_buffer *a,
                                  struct kiln_buffer *b, size_t bytes, double flops, double *flops_done) {
    struct cuda_stream *cs = cstream(s);
    KILN_TRY(use(s->device));
    int e = 0;
    if (kind == KILN_PROBE_INT8)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda: no int8 roofline probe yet");
    if (kind == KILN_PROBE_TENSOR && cdev(s->device)->cc_major < 8)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda: the mma.sync probe needs compute capability 8.0+");
    if (kind == KILN_PROBE_COPY) {
        CUDA_TRY(cudaMemcpyAsync(dev_ptr(b, 0), dev_ptr(a, 0), bytes, cudaMemcpyDeviceToDevice, cs->s));
        return KILN_OK;
    }
    if (kind == KILN_PROBE_READ) {
        e = kiln_cuda_probe_read(dev_ptr(a, 0), dev_ptr(b, 0), bytes, cs->s);
    } else {  // FMA or tensor chains (probe_cuda.cu): enough iterations for about `flops`
        const bool tensor = kind == KILN_PROBE_TENSOR;
        const unsigned int blocks = (unsigned int)cdev(s->device)->sms * 8;
        const double per_iter = (double)blocks * KILN_CUDA_FMA_THREADS *
                                (tensor ? KILN_CUDA_MMA_FLOPS_PER_ITER : KILN_CUDA_FMA_FLOPS_PER_ITER);
        const unsigned int iters = (unsigned int)(flops / per_iter) + 1;
        *flops_done = (double)iters * per_iter;
        e = tensor ? kiln_cuda_probe_mma(dev_ptr(b, 0), iters, blocks, cs->s)
                   : kiln_cuda_probe_fma(dev_ptr(b, 0), iters, blocks, cs->s);
    }
    if (e != 0)
        return kiln_fail(KILN_E_DEVICE, "cuda: launching a roofline probe failed: %s", cudaGetErrorString((cudaError_t)e));
    return KILN_OK;
}

static const char *cuda_probe_isa(struct kiln_device *dev, enum kiln_probe_kind kind) {
    (void)dev;
    return kind == KILN_PROBE_FMA ? "cuda f32 fmaf" : kind == KILN_PROBE_TENSOR ? "mma.sync m16n8k16 f16->f32" : NULL;
}

// ---- devices ----

static void cuda_device_free(struct kiln_device *d) {
    struct cuda_device *cd = cdev(d);
    cudaSetDevice(cd->ordinal);
    kiln_cuda_cublas_destroy(cd->cublas);
    kiln_pool_release(&cd->pool);
    free(cd);
}

static const struct kiln_device_iface cuda_iface = {
    .memory = cuda_memory,
    .buffer_alloc = cuda_buffer_alloc,
    .buffer_free = cuda_buffer_free,
    .stream_new = cuda_stream_new,
    .stream_free = cuda_stream_free,
    .stream_sync = cuda_stream_sync,
    .upload = cuda_upload,
    .download = cuda_download,
    .launch = cuda_launch,
    .timer_new = cuda_timer_new,
    .timer_free = cuda_timer_free,
    .timer_record = cuda_timer_record,
    .timer_elapsed = cuda_timer_elapsed,
    .probe = cuda_probe,
    .probe_isa = cuda_probe_isa,
    .capture_begin = cuda_capture_begin,
    .capture_end = cuda_capture_end,
    .device_free = cuda_device_free,
};

extern const struct kiln_kernel kiln_cuda_kernels[];
extern const int kiln_cuda_kernel_count;

enum kiln_status kiln_cuda_backend_init(const struct kiln_init_options *options) {
    (void)options;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return kiln_fail(KILN_E_UNSUPPORTED, "no usable CUDA driver or device (%s)", cudaGetErrorString(e));
    }
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    char skipped[160] = "";
    int added = 0;
    for (int i = 0; i < n; i++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess || cudaSetDevice(i) != cudaSuccess)
            continue;
        if (kiln_cuda_check_image() != 0) {
            cudaGetLastError();
            snprintf(skipped, sizeof skipped, "%.40s is sm_%d%d; this kiln was built for CUDA architectures %s "
                     "(rebuild with -DKILN_CUDA_ARCHS=%d%d)", p.name, p.major, p.minor, KILN_CUDA_ARCHS_STRING,
                     p.major, p.minor);
            continue;
        }
        struct cuda_device *cd = calloc(1, sizeof *cd);
        if (!cd)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        cd->ordinal = i;
        cd->sms = p.multiProcessorCount;
        cd->cc_major = p.major;
        cd->pool = (struct kiln_block_pool){ .block_size = BLOCK_BYTES, .ctx = cd, .block_new = block_new,
                                             .block_free = block_free };
        struct kiln_device *d = &cd->dev;
        d->iface = &cuda_iface;
        snprintf(d->info.name, sizeof d->info.name, "cuda:%d", added);
        d->info.backend = "cuda";
        snprintf(d->info.description, sizeof d->info.description, "%.120s", p.name);
        snprintf(d->info.driver, sizeof d->info.driver, "driver %d.%d, runtime %d.%d", drv / 1000, drv % 1000 / 10,
                 rt / 1000, rt % 1000 / 10);
        snprintf(d->info.details, sizeof d->info.details,
                 "sm_%d%d, %d SMs, %.1f GiB, L2 %.0f MiB, %d-bit memory bus; built for %s; kernels: gemv "
                 "(fused dequant; dp4a for Q4_0/Q8_0), mma (mma.sync f16 tensor cores, cp.async), gemm_tc "
                 "(WMMA), gemm (f32 SIMT), flash-style attention",
                 p.major, p.minor, p.multiProcessorCount, (double)p.totalGlobalMem / 1073741824.0,
                 (double)p.l2CacheSize / 1048576.0, p.memoryBusWidth, KILN_CUDA_ARCHS_STRING);
        d->info.host_memory = false;
        d->kernels = kiln_cuda_kernels;
        d->n_kernels = kiln_cuda_kernel_count;
        const enum kiln_status st = kiln_device_add(d);
        if (st != KILN_OK) {
            free(cd);
            return st;
        }
        added++;
    }
    if (added == 0)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s", skipped[0] ? skipped : "no CUDA device found");
    return KILN_OK;
}
