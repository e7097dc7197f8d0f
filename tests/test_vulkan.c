// The Vulkan backend's runtime, beyond what `kiln ops` covers with small shapes:
//   - uploads and downloads larger than the staging buffer, at odd offsets;
//   - tensors larger than maxStorageBufferRange (lavapipe: 128 MiB): matmul, get_rows and
//     dequant split them into windows and must agree with the CPU;
//   - a get_rows id outside the table: zeros, and KILN_E_INVALID at sync (then the stream is fine);
//   - a buffer larger than maxMemoryAllocationSize: a clear error with the sizes;
//   - timers measure something;
//   - the validation-layer hook: a deliberately invalid descriptor must turn into an error at
//     sync, so the CI run under the layer can fail (skipped where the layer is not installed).
// Exits 77 (skipped) where no Vulkan device is present.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ops.h"
#include "backends/vulkan/vk_internal.h"
#include "quant/synth/rng.h"
#include "quant/format/fp16.h"
#include "check.h"

static struct kiln_device *cpu, *vk;
static struct kiln_stream *cs, *vs;

static struct kiln_buffer *alloc_or_die(struct kiln_device *d, size_t n) {
    struct kiln_buffer *b;
    if (kiln_buffer_alloc(d, n, &b) != KILN_OK) {
        fprintf(stderr, "alloc %zu on %s: %s\n", n, kiln_device_info(d)->name, kiln_last_error());
        exit(1);
    }
    return b;
}

static void test_round_trip(void) {
    const size_t n = (size_t)150 << 20, off = 1234567;  // > 64 MiB staging, > 128 MiB range
    uint8_t *src = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)(i * 2654435761u >> 13);
    struct kiln_buffer *b = alloc_or_die(vk, n + off);
    CHECK(kiln_buffer_upload(vs, b, off, src, n) == KILN_OK, "%s", kiln_last_error());
    memset(back, 0, n);
    CHECK(kiln_buffer_download(vs, b, off, back, n) == KILN_OK, "%s", kiln_last_error());
    CHECK(memcmp(src, back, n) == 0, "%s", kiln_last_error());
    kiln_buffer_free(b);
    free(src);
    free(back);
}

// W f16 [k, m] of 139 MB: one binding cannot hold it. Returns max |vk - cpu| / max |cpu|.
static double rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return num / den;
}

static void test_large_tensors(void) {
    const int64_t k = 4096, m = 17000, n = 2;
    const size_t wbytes = (size_t)(k * m) * 2;
    kiln_half *w = malloc(wbytes);
    float *x = malloc((size_t)(k * n) * 4), *tmp = malloc((size_t)k * 4);
    struct kiln_rng rng = kiln_rng_seed(7);
    for (int64_t r = 0; r < m; r++) {
        kiln_rng_fill_normal(&rng, tmp, k, 1.0f);
        kiln_f32_to_f16_row(tmp, w + r * k, k);
    }
    kiln_rng_fill_normal(&rng, x, k * n, 1.0f);
    struct kiln_buffer *cw = alloc_or_die(cpu, wbytes), *vw = alloc_or_die(vk, wbytes);
    struct kiln_buffer *cx = alloc_or_die(cpu, (size_t)(k * n) * 4), *vx = alloc_or_die(vk, (size_t)(k * n) * 4);
    struct kiln_buffer *cy = alloc_or_die(cpu, (size_t)(m * n) * 4), *vy = alloc_or_die(vk, (size_t)(m * n) * 4);
    memcpy(kiln_buffer_host_ptr(cw), w, wbytes);
    memcpy(kiln_buffer_host_ptr(cx), x, (size_t)(k * n) * 4);
    CHECK(kiln_buffer_upload(vs, vw, 0, w, wbytes) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_buffer_upload(vs, vx, 0, x, (size_t)(k * n) * 4) == KILN_OK, "%s", kiln_last_error());

    // matmul: y = x . W^T, split over W's rows
    struct kiln_tensor tw = kiln_tensor_make(cw, 0, KILN_TYPE_F16, k, m, 1, 1);
    struct kiln_tensor tx = kiln_tensor_make(cx, 0, KILN_TYPE_F32, k, n, 1, 1);
    struct kiln_tensor ty = kiln_tensor_make(cy, 0, KILN_TYPE_F32, m, n, 1, 1);
    CHECK(kiln_matmul(cs, &ty, &tw, &tx, NULL) == KILN_OK, "%s", kiln_last_error());
    struct kiln_tensor vtw = kiln_tensor_make(vw, 0, KILN_TYPE_F16, k, m, 1, 1);
    struct kiln_tensor vtx = kiln_tensor_make(vx, 0, KILN_TYPE_F32, k, n, 1, 1);
    struct kiln_tensor vty = kiln_tensor_make(vy, 0, KILN_TYPE_F32, m, n, 1, 1);
    struct kiln_timer *timer;
    CHECK(kiln_timer_new(vs, &timer) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_timer_start(timer) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_matmul(vs, &vty, &vtw, &vtx, NULL) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_timer_stop(timer) == KILN_OK, "%s", kiln_last_error());
    float *got = malloc((size_t)(m * n) * 4);
    CHECK(kiln_buffer_download(vs, vy, 0, got, (size_t)(m * n) * 4) == KILN_OK, "%s", kiln_last_error());
    double secs = 0;
    CHECK(kiln_timer_elapsed(timer, &secs) == KILN_OK, "%s", kiln_last_error());
    CHECK(secs > 0 && secs < 600, "%s", kiln_last_error());
    kiln_timer_free(timer);
    const double e = rel_err(got, kiln_buffer_host_ptr(cy), (size_t)(m * n));
    printf("  matmul f16 W of %.0f MiB (> maxStorageBufferRange): rel err %.2e, %.3f s\n",
           (double)wbytes / 1048576.0, e, secs);
    CHECK(e < 1e-5, "%s", kiln_last_error());

    // get_rows from the same 139 MB table, rows at both ends
    const int32_t ids[4] = { 0, 16999, 8500, 16384 };
    struct kiln_buffer *cid = alloc_or_die(cpu, 16), *vid = alloc_or_die(vk, 16);
    memcpy(kiln_buffer_host_ptr(cid), ids, 16);
    CHECK(kiln_buffer_upload(vs, vid, 0, ids, 16) == KILN_OK, "%s", kiln_last_error());
    struct kiln_buffer *cr = alloc_or_die(cpu, (size_t)(4 * k) * 4), *vr = alloc_or_die(vk, (size_t)(4 * k) * 4);
    struct kiln_tensor tid = kiln_tensor_make(cid, 0, KILN_TYPE_I32, 4, 1, 1, 1);
    struct kiln_tensor vtid = kiln_tensor_make(vid, 0, KILN_TYPE_I32, 4, 1, 1, 1);
    struct kiln_tensor tr = kiln_tensor_make(cr, 0, KILN_TYPE_F32, k, 4, 1, 1);
    struct kiln_tensor vtr = kiln_tensor_make(vr, 0, KILN_TYPE_F32, k, 4, 1, 1);
    CHECK(kiln_get_rows(cs, &tr, &tw, &tid) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_get_rows(vs, &vtr, &vtw, &vtid) == KILN_OK, "%s", kiln_last_error());
    float *rows = malloc((size_t)(4 * k) * 4);
    CHECK(kiln_buffer_download(vs, vr, 0, rows, (size_t)(4 * k) * 4) == KILN_OK, "%s", kiln_last_error());
    CHECK(memcmp(rows, kiln_buffer_host_ptr(cr), (size_t)(4 * k) * 4) == 0, "%s", kiln_last_error());

    // a bad id: zeros for its row, KILN_E_INVALID at the next sync, and the stream still works
    const int32_t bad[4] = { 1, 17000, 2, -5 };
    CHECK(kiln_buffer_upload(vs, vid, 0, bad, 16) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_get_rows(vs, &vtr, &vtw, &vtid) == KILN_OK, "%s", kiln_last_error());
    const enum kiln_status st = kiln_stream_sync(vs);
    CHECK(st == KILN_E_INVALID && strstr(kiln_last_error(), "outside the table"), "%s", kiln_last_error());
    CHECK(kiln_stream_sync(vs) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_buffer_download(vs, vr, 0, rows, (size_t)(4 * k) * 4) == KILN_OK, "%s", kiln_last_error());
    CHECK(rows[k] == 0.0f && rows[3 * k + 7] == 0.0f && rows[0] == kiln_f16_to_f32(w[k]), "%s", kiln_last_error());

    // dequant of the whole table to f32 (278 MB out): windows of rows on both sides
    struct kiln_buffer *vd = alloc_or_die(vk, (size_t)(k * m) * 4);
    struct kiln_tensor vtd = kiln_tensor_make(vd, 0, KILN_TYPE_F32, k, m, 1, 1);
    CHECK(kiln_dequant(vs, &vtd, &vtw, NULL) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_buffer_download(vs, vd, (size_t)(16999 * k) * 4, rows, (size_t)k * 4) == KILN_OK, "%s", kiln_last_error());
    bool same = true;
    for (int64_t i = 0; i < k; i++)
        same &= rows[i] == kiln_f16_to_f32(w[16999 * k + i]);
    CHECK(same, "%s", kiln_last_error());

    kiln_buffer_free(vd);
    kiln_buffer_free(cw), kiln_buffer_free(vw), kiln_buffer_free(cx), kiln_buffer_free(vx);
    kiln_buffer_free(cy), kiln_buffer_free(vy), kiln_buffer_free(cid), kiln_buffer_free(vid);
    kiln_buffer_free(cr), kiln_buffer_free(vr);
    free(w), free(x), free(tmp), free(got), free(rows);
}

static void test_too_large(void) {
    struct kiln_buffer *b = NULL;
    const enum kiln_status st = kiln_buffer_alloc(vk, (size_t)1 << 45, &b);  // 32 TiB
    CHECK(st != KILN_OK && b == NULL, "%s", kiln_last_error());
    CHECK(strstr(kiln_last_error(), "MiB") != NULL, "%s", kiln_last_error());
    printf("  32 TiB buffer: %s\n", kiln_last_error());
}

// An invalid descriptor (a range past its buffer's end) on a binding the kernel never reads:
// harmless to run, but the validation layer must report it and sync must fail.
static void test_validation_hook(void) {
    if (!getenv("KILN_VULKAN_VALIDATION")) {
        printf("  validation hook: skipped (KILN_VULKAN_VALIDATION not set for this run)\n");
        return;
    }
    struct kiln_vk_device *d = kiln_vk_dev(vk);
    struct kiln_buffer *src = alloc_or_die(vk, 1024), *dst = alloc_or_die(vk, 1024);
    struct kiln_tensor ts = kiln_tensor_make(src, 0, KILN_TYPE_F32, 16, 1, 1, 1);
    struct kiln_tensor td = kiln_tensor_make(dst, 0, KILN_TYPE_F32, 16, 1, 1, 1);
    struct kiln_vk_binding bs, bd, bad;
    uint32_t base;
    CHECK(kiln_vk_bind_tensor(d, &ts, 0, 64, false, &bs, &base) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_vk_bind_tensor(d, &td, 0, 64, true, &bd, &base) == KILN_OK, "%s", kiln_last_error());
    bad = bs;
    bad.offset = 0;
    bad.range = ((struct kiln_vk_alloc *)src->handle)->block->size + 4096;  // past the VkBuffer's end
    VkPipeline p;
    CHECK(kiln_vk_pipeline_get(d, KILN_VK_DEQUANT, KILN_TYPE_F32, KILN_TYPE_F32, &p) == KILN_OK, "%s", kiln_last_error());
    const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bs, NULL, &bad, &bd };
    const uint32_t pc[12] = { 0, 64, 64, 64, 0, 64, 64, 64, 16, 1, 1, 1 };
    const int before = kiln_vk_validation_errors;
    CHECK(kiln_vk_dispatch(vs, p, b, pc, sizeof pc, 1, 1) == KILN_OK, "%s", kiln_last_error());
    const enum kiln_status st = kiln_stream_sync(vs);
    printf("  validation hook: %d error(s) reported, sync says: %s\n", kiln_vk_validation_errors - before,
           kiln_last_error());
    CHECK(kiln_vk_validation_errors > before, "%s", kiln_last_error());
    CHECK(st == KILN_E_DEVICE && strstr(kiln_last_error(), "validation layer"), "%s", kiln_last_error());
    CHECK(kiln_stream_sync(vs) == KILN_OK, "%s", kiln_last_error());
    kiln_buffer_free(src);
    kiln_buffer_free(dst);
}

int main(void) {
    struct kiln_init_options o = { .n_threads = 0, .backends = "cpu,vulkan" };
    if (kiln_init(&o) != KILN_OK) {
        fprintf(stderr, "kiln_init: %s\n", kiln_last_error());
        return 1;
    }
    cpu = kiln_device_find("cpu");
    vk = kiln_device_find("vulkan");
    if (!vk) {
        printf("SKIP: no Vulkan device (%s)\n", kiln_backend_status_get(2)->reason);
        kiln_shutdown();
        return 77;
    }
    CHECK(kiln_stream_new(cpu, &cs) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_stream_new(vk, &vs) == KILN_OK, "%s", kiln_last_error());
    printf("%s: %s\n", kiln_device_info(vk)->name, kiln_device_info(vk)->description);
    test_round_trip();
    test_large_tensors();
    test_too_large();
    test_validation_hook();
    kiln_stream_free(cs);
    kiln_stream_free(vs);
    kiln_shutdown();
    return test_finish("test_vulkan");
}
