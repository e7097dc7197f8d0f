// The dispatch layer's contract: bad input gets KILN_E_* with a message naming the problem,
// selection picks the best row for the shape, the fallback runs where no fused kernel fits,
// batch dims split correctly, memory accounting and timers behave.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/kernel.h"
#include "backends/cpu/cpu_features.h"
#include "quant/synth/rng.h"
#include "tests/check.h"

static struct kiln_device *cpu;
static struct kiln_stream *s;
static struct kiln_buffer *owned[64];  // freed at the end, so LeakSanitizer sees a clean exit
static int n_owned;

static struct kiln_tensor alloc_tensor(enum kiln_type type, int64_t ne0, int64_t ne1, int64_t ne2) {
    struct kiln_buffer *b;
    const size_t size = kiln_row_size(type, ne0) * (size_t)(ne1 * ne2);
    if (n_owned == 64 || kiln_buffer_alloc(cpu, size, &b) != KILN_OK)
        abort();
    owned[n_owned++] = b;
    memset(kiln_buffer_host_ptr(b), 0, size);
    return kiln_tensor_make(b, 0, type, ne0, ne1, ne2, 1);
}

#define EXPECT_ERROR(call, status, text)                                                      \
    do {                                                                                      \
        enum kiln_status st_ = (call);                                                        \
        CHECK(st_ == (status) && strstr(kiln_last_error(), (text)) != NULL,                   \
              "got %s \"%s\", wanted %s mentioning \"%s\"", kiln_status_name(st_),            \
              kiln_last_error(), kiln_status_name(status), (text));                           \
    } while (0)

static void bad_input(void) {
    struct kiln_tensor w = alloc_tensor(KILN_TYPE_Q4_0, 64, 8, 1);
    struct kiln_tensor x = alloc_tensor(KILN_TYPE_F32, 64, 2, 1);
    struct kiln_tensor y = alloc_tensor(KILN_TYPE_F32, 8, 2, 1);
    struct kiln_tensor x32 = alloc_tensor(KILN_TYPE_F32, 32, 2, 1);
    EXPECT_ERROR(kiln_matmul(s, &y, &w, &x32, NULL), KILN_E_INVALID, "k=32");
    struct kiln_tensor x16 = alloc_tensor(KILN_TYPE_F16, 64, 2, 1);
    EXPECT_ERROR(kiln_matmul(s, &y, &w, &x16, NULL), KILN_E_INVALID, "x must be f32");
    struct kiln_tensor y_wrong = alloc_tensor(KILN_TYPE_F32, 7, 2, 1);
    EXPECT_ERROR(kiln_matmul(s, &y_wrong, &w, &x, NULL), KILN_E_INVALID, "m=8");

    struct kiln_tensor small = y;   // a view larger than its buffer
    small.ne[1] = 3;
    EXPECT_ERROR(kiln_matmul(s, &small, &w, &x, NULL), KILN_E_INVALID, "buffer has");
    struct kiln_tensor odd = w;     // q4_0 rows must hold whole blocks
    odd.ne[0] = 48;
    EXPECT_ERROR(kiln_matmul(s, &y, &odd, &x, NULL), KILN_E_INVALID, "block size");
    struct kiln_tensor iq2 = alloc_tensor(KILN_TYPE_IQ2_XXS, 256, 8, 1);  // no dequantizer yet
    struct kiln_tensor x256 = alloc_tensor(KILN_TYPE_F32, 256, 2, 1);
    EXPECT_ERROR(kiln_matmul(s, &y, &iq2, &x256, NULL), KILN_E_UNSUPPORTED, "iq2_xxs");
    struct kiln_tensor neg = x;
    neg.ne[1] = 0;
    EXPECT_ERROR(kiln_matmul(s, &y, &w, &neg, NULL), KILN_E_INVALID, "ne[1] = 0");
    struct kiln_tensor bad_type = x;
    bad_type.type = (enum kiln_type)4;  // a removed ggml id
    EXPECT_ERROR(kiln_matmul(s, &y, &w, &bad_type, NULL), KILN_E_INVALID, "unknown type");

    // get_rows: ids outside the table
    struct kiln_tensor table = alloc_tensor(KILN_TYPE_F16, 16, 10, 1);
    struct kiln_tensor ids = alloc_tensor(KILN_TYPE_I32, 3, 1, 1);
    struct kiln_tensor rows = alloc_tensor(KILN_TYPE_F32, 16, 3, 1);
    ((int32_t *)kiln_buffer_host_ptr(ids.buffer))[1] = 10;
    EXPECT_ERROR(kiln_get_rows(s, &rows, &table, &ids), KILN_E_INVALID, "id 10 at index 1");
    ((int32_t *)kiln_buffer_host_ptr(ids.buffer))[1] = -1;
    EXPECT_ERROR(kiln_get_rows(s, &rows, &table, &ids), KILN_E_INVALID, "id -1");

    // attention: a causal query past the cache, mismatched heads, a K/V type kiln lacks
    struct kiln_tensor q = alloc_tensor(KILN_TYPE_F32, 64, 4, 4);
    struct kiln_tensor k = alloc_tensor(KILN_TYPE_F16, 64, 6, 2);
    struct kiln_tensor v = alloc_tensor(KILN_TYPE_F16, 64, 6, 2);
    struct kiln_tensor o = alloc_tensor(KILN_TYPE_F32, 64, 4, 4);
    struct kiln_attention_params p = { .scale = 0.125f, .pos0 = 3, .causal = true };
    EXPECT_ERROR(kiln_attention(s, &o, &q, &k, &v, &p, NULL), KILN_E_INVALID, "need 7 cached keys");
    p.pos0 = 2;
    CHECK(kiln_attention(s, &o, &q, &k, &v, &p, NULL) == KILN_OK, "pos0 2 fits: %s", kiln_last_error());
    struct kiln_tensor k3 = alloc_tensor(KILN_TYPE_F16, 64, 6, 3), v3 = alloc_tensor(KILN_TYPE_F16, 64, 6, 3);
    EXPECT_ERROR(kiln_attention(s, &o, &q, &k3, &v3, &p, NULL), KILN_E_INVALID, "multiple of 3");
    struct kiln_tensor kq = alloc_tensor(KILN_TYPE_Q8_0, 64, 6, 2), vq = alloc_tensor(KILN_TYPE_Q8_0, 64, 6, 2);
    EXPECT_ERROR(kiln_attention(s, &o, &q, &kq, &vq, &p, NULL), KILN_E_UNSUPPORTED, "f16 or f32");

    // rope: odd rotated dims; rmsnorm: weight of the wrong length
    struct kiln_tensor rx = alloc_tensor(KILN_TYPE_F32, 64, 2, 3);
    struct kiln_tensor pos = alloc_tensor(KILN_TYPE_I32, 3, 1, 1);
    struct kiln_rope_params rp = { .mode = KILN_ROPE_NORMAL, .n_dims = 63, .theta_base = 1e4f };
    EXPECT_ERROR(kiln_rope(s, &rx, &rx, &pos, &rp), KILN_E_INVALID, "n_dims = 63");
    struct kiln_tensor nw = alloc_tensor(KILN_TYPE_F32, 32, 1, 1);
    EXPECT_ERROR(kiln_rmsnorm(s, &rx, &rx, &nw, 1e-5f), KILN_E_INVALID, "weight must be [64]");

    // copy to a type kiln cannot write yet
    struct kiln_tensor src = alloc_tensor(KILN_TYPE_F32, 256, 1, 1), dst = alloc_tensor(KILN_TYPE_IQ2_XXS, 256, 1, 1);
    EXPECT_ERROR(kiln_copy(s, &dst, &src), KILN_E_UNSUPPORTED, "cannot write type iq2_xxs");

    // upload past the end of a buffer
    char bytes[16] = { 0 };
    EXPECT_ERROR(kiln_buffer_upload(s, x.buffer, kiln_buffer_size(x.buffer) - 8, bytes, 16),
                 KILN_E_INVALID, "outside");
    struct kiln_buffer *none;
    EXPECT_ERROR(kiln_buffer_alloc(cpu, 0, &none), KILN_E_INVALID, "0 bytes");
}

// The best row wins per shape: gemv for n = 1, gemm for n >= 16, the fallback for types with no
// fused kernel (none on AVX2), the reference where the CPU lacks the ISA.
static void selection(void) {
    struct kiln_tensor w = alloc_tensor(KILN_TYPE_Q4_0, 64, 8, 1);
    struct kiln_tensor x1 = alloc_tensor(KILN_TYPE_F32, 64, 1, 1), y1 = alloc_tensor(KILN_TYPE_F32, 8, 1, 1);
    struct kiln_tensor x16 = alloc_tensor(KILN_TYPE_F32, 64, 16, 1), y16 = alloc_tensor(KILN_TYPE_F32, 8, 16, 1);
    struct kiln_path path;
    CHECK(kiln_matmul(s, &y1, &w, &x1, &path) == KILN_OK, "%s", kiln_last_error());
    const bool simd = kiln_cpu_has(KILN_CPU_X86_AVX2_SET) || kiln_cpu_has(KILN_CPU_NEON);
    // The highest x86 tier with rows for these shapes: AVX-512 has its own q4_0 GEMM (rows layout)
    // and q4_1 GEMV/GEMM; the q4_0 rows-layout GEMV stays the AVX2 one on every x86 tier. The
    // GEMMs of both tiers are the integer ones.
    const char *x86 = kiln_cpu_has(KILN_CPU_X86_AVX512_SET) ? "avx512" : "avx2", *gemm = "int.gemm";
    char want[64];
    if (kiln_cpu_has(KILN_CPU_X86_AVX2_SET)) {
        CHECK(strcmp(path.name, "matmul.q4_0.avx2.gemv") == 0, "n=1 ran %s", path.name);
        snprintf(want, sizeof want, "matmul.q4_0.%s.%s", x86, gemm);
        CHECK(kiln_matmul(s, &y16, &w, &x16, &path) == KILN_OK && strcmp(path.name, want) == 0,
              "n=16 ran %s, not %s", path.name, want);
    } else if (!simd) {
        CHECK(strcmp(path.name, "matmul.q4_0.ref") == 0, "without SIMD ran %s", path.name);
    }
    struct kiln_tensor w41 = alloc_tensor(KILN_TYPE_Q4_1, 64, 8, 1);
    CHECK(kiln_matmul(s, &y1, &w41, &x1, &path) == KILN_OK, "%s", kiln_last_error());
    // Every dequantizable type has fused rows (GEMV and GEMM) on AVX2, AVX-512 and NEON, so there
    // the fallback is never chosen; it is run directly (what kiln_op_run calls) to check its path
    // where an f32 GEMM above the reference exists for it (x86; NEON's f32 row is the plain one).
    if (kiln_cpu_has(KILN_CPU_X86_AVX2_SET)) {
        snprintf(want, sizeof want, "matmul.q4_1.%s.gemv", x86);
        CHECK(!path.fallback && strcmp(path.name, want) == 0, "q4_1 ran %s, not %s", path.name, want);
        snprintf(want, sizeof want, "matmul.q4_1.%s.%s", x86, gemm);
        CHECK(kiln_matmul(s, &y16, &w41, &x16, &path) == KILN_OK && strcmp(path.name, want) == 0,
              "q4_1 n=16 ran %s, not %s", path.name, want);
        struct kiln_op op = { .kind = KILN_OP_MATMUL, .n_src = 2, .dst = y1 };
        op.src[0] = w41;
        op.src[1] = x1;
        CHECK(kiln_matmul_fallback(s, &op, NULL, NULL, &path) == KILN_OK && path.fallback &&
                  strstr(path.name, "dequant.q4_1.f32") && strstr(path.name, "matmul.f32"),
              "the fallback ran %s", path.name);
    } else if (kiln_cpu_has(KILN_CPU_NEON)) {
        const char *arm = kiln_cpu_has(KILN_CPU_NEON | KILN_CPU_DOTPROD) ? "neon_dotprod" : "neon";
        snprintf(want, sizeof want, "matmul.q4_1.%s", arm);
        CHECK(!path.fallback && strcmp(path.name, want) == 0, "q4_1 ran %s, not %s", path.name, want);
    } else {
        CHECK(!path.fallback && strcmp(path.name, "matmul.q4_1.ref") == 0, "q4_1 ran %s", path.name);
    }
}

// Batch dims: x [k, n, 3] equals three separate matmuls.
static void batches(void) {
    struct kiln_rng rng = kiln_rng_seed(7);
    struct kiln_tensor w = alloc_tensor(KILN_TYPE_F32, 40, 5, 1);
    struct kiln_tensor x = alloc_tensor(KILN_TYPE_F32, 40, 2, 3), y = alloc_tensor(KILN_TYPE_F32, 5, 2, 3);
    kiln_rng_fill_normal(&rng, kiln_buffer_host_ptr(w.buffer), 40 * 5, 1.0f);
    kiln_rng_fill_normal(&rng, kiln_buffer_host_ptr(x.buffer), 40 * 6, 1.0f);
    CHECK(kiln_matmul(s, &y, &w, &x, NULL) == KILN_OK, "%s", kiln_last_error());
    const float *W = kiln_buffer_host_ptr(w.buffer), *X = kiln_buffer_host_ptr(x.buffer);
    const float *Y = kiln_buffer_host_ptr(y.buffer);
    double worst = 0;
    for (int b = 0; b < 6; b++) {
        for (int i = 0; i < 5; i++) {
            double ref = 0;
            for (int l = 0; l < 40; l++)
                ref += (double)W[i * 40 + l] * X[b * 40 + l];
            worst = fmax(worst, fabs(ref - Y[b * 5 + i]));
        }
    }
    CHECK(worst < 1e-4, "batched matmul differs by %g", worst);
}

static void memory_and_timers(void) {
    struct kiln_memory_info before, during, after;
    kiln_device_memory(cpu, &before);
    struct kiln_buffer *b;
    CHECK(kiln_buffer_alloc(cpu, 1 << 20, &b) == KILN_OK, "%s", kiln_last_error());
    kiln_device_memory(cpu, &during);
    kiln_buffer_free(b);
    kiln_device_memory(cpu, &after);
    CHECK(during.live == before.live + (1 << 20), "live grows by the allocation");
    CHECK(after.live == before.live && after.peak >= during.live, "live shrinks, peak stays");
    CHECK(before.total > 0 && before.free_known, "the CPU reports total and free memory");

    struct kiln_timer *t;
    double seconds = -1;
    CHECK(kiln_timer_new(s, &t) == KILN_OK, "%s", kiln_last_error());
    EXPECT_ERROR(kiln_timer_elapsed(t, &seconds), KILN_E_INVALID, "before start and stop");
    kiln_timer_start(t);
    kiln_timer_stop(t);
    kiln_stream_sync(s);
    CHECK(kiln_timer_elapsed(t, &seconds) == KILN_OK && seconds >= 0 && seconds < 1, "elapsed %g", seconds);
    kiln_timer_free(t);
}

int main(void) {
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK) {
        fprintf(stderr, "kiln_init: %s\n", kiln_last_error());
        return 1;
    }
    cpu = kiln_device_find("cpu");
    CHECK(cpu != NULL, "the CPU device exists");
    CHECK(kiln_stream_new(cpu, &s) == KILN_OK, "%s", kiln_last_error());
    bad_input();
    selection();
    batches();
    memory_and_timers();
    for (int i = 0; i < n_owned; i++)
        kiln_buffer_free(owned[i]);
    kiln_stream_free(s);
    kiln_shutdown();
    return test_finish("test_dispatch");
}
