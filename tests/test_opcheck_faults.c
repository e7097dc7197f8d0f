// The checker must be able to fail. A fake device (the CPU's memory and streams, its own kernel
// table) carries deliberately broken matmul kernels; kiln_check_run must reject each one for the
// right reason, and accept a correct kernel on the same device.
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cpu/cpu_kernel.h"
#include "bench/opcheck.h"
#include "kernels/matmul/matmul.h"
#include "tests/check.h"

enum fault { GOOD, WRITE_PAST_END, WRITE_INTO_GAP, SKIP_ONE, NOISY };

static void reference(const struct kiln_op *op) {
    const size_t ws_size = kiln_matmul_ref.workspace(op, 1);
    void *ws = malloc(ws_size);
    kiln_matmul_ref.compute(op, ws, 0, 1);
    free(ws);
}

static void faulty(const struct kiln_op *op, enum fault f) {
    reference(op);
    const struct kiln_tensor *y = &op->dst;
    const int64_t m = y->ne[0], n = y->ne[1];
    float *last = KILN_ROW(y, n - 1, 0, 0);
    float *first = KILN_ROW(y, 0, 0, 0);
    switch (f) {
    case GOOD: break;
    case WRITE_PAST_END: last[m] = 1.0f; break;     // one float after the view
    case WRITE_INTO_GAP: first[m] = 1.0f; break;    // into the padding after row 0
    case SKIP_ONE: memset(first, 0xFF, sizeof(float)); break;  // "forgot" an element: NaN
    case NOISY:
        for (int64_t j = 0; j < n; j++)
            ((float *)KILN_ROW(y, j, 0, 0))[j % m] *= 1.001f;
        break;
    }
}

#define FAULT_KERNEL(name, f)                                                               \
    static void name##_compute(const struct kiln_op *op, void *ws, int ith, int nth) {      \
        (void)ws; (void)ith; (void)nth;                                                     \
        faulty(op, f);                                                                      \
    }                                                                                       \
    static const struct kiln_cpu_kernel name = { .compute = name##_compute };
FAULT_KERNEL(k_good, GOOD)
FAULT_KERNEL(k_past_end, WRITE_PAST_END)
FAULT_KERNEL(k_into_gap, WRITE_INTO_GAP)
FAULT_KERNEL(k_skip_one, SKIP_ONE)
FAULT_KERNEL(k_noisy, NOISY)

#define ROW(impl_) { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_F32, .src1_type = KILN_TYPE_F32, \
                     .dst_type = KILN_TYPE_F32, .tier = KILN_TIER_SIMD, .isa = #impl_, .impl = &impl_ }
static const struct kiln_kernel table[] = { ROW(k_good), ROW(k_past_end), ROW(k_into_gap),
                                            ROW(k_skip_one), ROW(k_noisy) };

static enum kiln_status fake_launch(struct kiln_stream *s, const struct kiln_kernel *k,
                                    const struct kiln_op *op) {
    (void)s;
    ((const struct kiln_cpu_kernel *)k->impl)->compute(op, NULL, 0, 1);
    return KILN_OK;
}

int main(void) {
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK)
        return 1;
    struct kiln_device *cpu = kiln_device_find("cpu");
    static struct kiln_device_iface iface;
    iface = *cpu->iface;
    iface.launch = fake_launch;
    iface.device_free = NULL;
    static struct kiln_device fake;
    fake.iface = &iface;
    snprintf(fake.info.name, sizeof fake.info.name, "fake");
    fake.info.backend = "fake";
    fake.info.host_memory = true;
    fake.kernels = table;
    fake.n_kernels = (int)(sizeof table / sizeof table[0]);
    CHECK(kiln_device_add(&fake) == KILN_OK, "%s", kiln_last_error());

    struct kiln_stream *s;
    CHECK(kiln_stream_new(&fake, &s) == KILN_OK, "%s", kiln_last_error());
    const struct kiln_check_case plain = { .op = KILN_OP_MATMUL, .m = 9, .n = 3, .k = 40,
                                           .src_type = KILN_TYPE_F32, .dst_type = KILN_TYPE_F32 };
    struct kiln_check_case strided = plain;
    strided.strided = true;
    struct kiln_check_result r;

    CHECK(kiln_check_run(s, &table[0], &plain, 1, &r) == KILN_OK && r.ran && r.pass,
          "a correct kernel passes: %s", r.note);
    CHECK(kiln_check_run(s, &table[0], &strided, 1, &r) == KILN_OK && r.pass,
          "a correct kernel passes strided: %s", r.note);
    CHECK(kiln_check_run(s, &table[1], &plain, 1, &r) == KILN_OK && !r.pass && !r.guards_ok,
          "writing past the end is caught (%s)", r.note);
    CHECK(kiln_check_run(s, &table[2], &strided, 1, &r) == KILN_OK && !r.pass && !r.guards_ok,
          "writing into the row gap is caught (%s)", r.note);
    CHECK(kiln_check_run(s, &table[3], &plain, 1, &r) == KILN_OK && !r.pass && strstr(r.note, "NaN"),
          "an unwritten element is caught (%s)", r.note);
    CHECK(kiln_check_run(s, &table[4], &plain, 1, &r) == KILN_OK && !r.pass && r.guards_ok &&
          r.nmse > r.ceiling, "a 0.1%% error is above the f32 ceiling (nmse %g)", r.nmse);

    kiln_stream_free(s);
    kiln_shutdown();
    return test_finish("test_opcheck_faults");
}
