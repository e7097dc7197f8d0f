// The kiln ops memo (bench/check/opcheck_inputs.h) saves time and must decide nothing: a check
// run with its inputs and references taken from the memo gives bit for bit the result of one
// that made them (on a data-sensitive line: the fallback's NMSE on q4_K, with x rounding absent,
// so every input and the reference count), another seed gives another result, and the memo's
// own rules hold (exact-key hits, misses, the byte cap, clear).
#include <string.h>

#include "bench/check/opcheck.h"
#include "bench/check/opcheck_inputs.h"
#include "tests/check.h"

static struct kiln_check_result run(struct kiln_stream *s, const struct kiln_check_case *c,
                                    uint64_t seed) {
    struct kiln_check_result r;
    const enum kiln_status st = kiln_check_run(s, NULL, c, seed, &r);  // NULL: the fallback
    CHECK(st == KILN_OK && r.ran, "the check ran (%s)", st == KILN_OK ? r.note : kiln_last_error());
    return r;
}

static void test_results_unchanged(struct kiln_stream *s) {
    const struct kiln_check_case cases[] = {
        { .op = KILN_OP_MATMUL, .m = 33, .n = 1, .k = 512, .src_type = KILN_TYPE_Q4_K,
          .dst_type = KILN_TYPE_F32 },
        { .op = KILN_OP_MATMUL, .m = 40, .n = 17, .k = 256, .src_type = KILN_TYPE_Q6_K,
          .dst_type = KILN_TYPE_F32, .strided = true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kiln_memo_clear();
        const struct kiln_check_result made = run(s, &cases[i], 11);     // memo empty: made
        const struct kiln_check_result kept = run(s, &cases[i], 11);     // from the memo
        const struct kiln_check_result other = run(s, &cases[i], 12);
        kiln_memo_clear();
        const struct kiln_check_result again = run(s, &cases[i], 11);    // made again
        CHECK(made.nmse > 0.0 && made.pass, "case %zu: a data-sensitive, passing line (nmse %g)",
              i, made.nmse);
        CHECK(memcmp(&made.nmse, &kept.nmse, sizeof made.nmse) == 0 &&
                  memcmp(&made.worst_row, &kept.worst_row, sizeof made.worst_row) == 0 &&
                  memcmp(&made.max_abs_err, &kept.max_abs_err, sizeof made.max_abs_err) == 0,
              "case %zu: memo hit gives the same result (%.17g vs %.17g)", i, made.nmse, kept.nmse);
        CHECK(made.nmse == again.nmse, "case %zu: made twice, the same (%.17g vs %.17g)", i,
              made.nmse, again.nmse);
        CHECK(other.nmse != made.nmse, "case %zu: another seed, other inputs (%g)", i, other.nmse);
    }
    kiln_memo_clear();
}

static void test_memo_rules(void) {
    kiln_memo_clear();
    const uint8_t *bytes;
    size_t size;
    uint64_t extra;
    const char key_a[] = "key a", key_b[] = "key b";
    const int payload[3] = { 1, 2, 3 };
    CHECK(!kiln_memo_find(key_a, sizeof key_a, &bytes, &size, &extra), "an empty memo misses");
    kiln_memo_keep(key_a, sizeof key_a, payload, sizeof payload, 42);
    CHECK(kiln_memo_find(key_a, sizeof key_a, &bytes, &size, &extra) && size == sizeof payload &&
              memcmp(bytes, payload, size) == 0 && extra == 42,
          "a kept entry is found with its bytes and extra");
    CHECK(!kiln_memo_find(key_b, sizeof key_b, &bytes, &size, &extra), "another key misses");
    CHECK(!kiln_memo_find(key_a, sizeof key_a - 1, &bytes, &size, &extra),
          "a key that is a prefix misses");
    // Over the cap: refused before anything is read from `payload` (only its size is used).
    kiln_memo_keep(key_b, sizeof key_b, payload, (size_t)300 << 20, 0);
    CHECK(!kiln_memo_find(key_b, sizeof key_b, &bytes, &size, &extra), "over 256 MiB: not kept");
    kiln_memo_clear();
    CHECK(!kiln_memo_find(key_a, sizeof key_a, &bytes, &size, &extra), "clear forgets");
}

int main(void) {
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK)
        return 1;
    struct kiln_stream *s;
    CHECK(kiln_stream_new(kiln_device_find("cpu"), &s) == KILN_OK, "%s", kiln_last_error());
    test_memo_rules();
    test_results_unchanged(s);
    kiln_stream_free(s);
    kiln_shutdown();
    return test_finish("test_opcheck_memo");
}
