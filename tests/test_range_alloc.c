// backends/range_alloc.c: first fit, coalescing on release in any order, exhaustion; and the
// block pool the GPU backends allocate through, with host-memory blocks standing in for device
// memory (a new block when none has room, a smaller one when the usual size fails, empty blocks
// given back except the last).
#include <stdlib.h>
#include <string.h>

#include "backends/range_alloc.h"
#include "check.h"

struct fake { int live, made; uint64_t fail_above; };

static enum kiln_status fake_new(void *ctx, uint64_t size, struct kiln_pool_block **out) {
    struct fake *f = ctx;
    if (size > f->fail_above)
        return kiln_fail(KILN_E_NOMEM, "fake: %llu bytes refused", (unsigned long long)size);
    *out = calloc(1, sizeof **out);
    f->live++;
    f->made++;
    return KILN_OK;
}

static void fake_free(void *ctx, struct kiln_pool_block *b) {
    ((struct fake *)ctx)->live--;
    free(b);
}

static void test_pool(void) {
    struct fake f = { 0, 0, 2000 };
    struct kiln_block_pool p = { .block_size = 1000, .ctx = &f, .block_new = fake_new, .block_free = fake_free };
    struct kiln_pool_block *a, *b, *c;
    uint64_t oa, ob, oc;
    CHECK(kiln_pool_take(&p, 100, &a, &oa) == KILN_OK && oa == 0 && f.live == 1, "first block");
    CHECK(kiln_pool_take(&p, 950, &b, &ob) == KILN_OK && b != a && f.live == 2, "no room: a second block");
    CHECK(kiln_pool_take(&p, 800, &c, &oc) == KILN_OK && c == a && oc == 100, "first fit in the first block");
    kiln_pool_give(&p, b, ob, 950);
    CHECK(f.live == 1, "an empty block that is not the last goes back: %d live", f.live);
    kiln_pool_give(&p, a, oa, 100);
    kiln_pool_give(&p, c, oc, 800);
    CHECK(f.live == 1, "the last block is kept: %d live", f.live);
    p.block_size = 5000;  // the usual size is refused: a block of just the size asked
    CHECK(kiln_pool_take(&p, 1500, &b, &ob) == KILN_OK && f.live == 2, "fallback to %d blocks", f.live);
    CHECK(kiln_pool_take(&p, 3000, &c, &oc) == KILN_E_NOMEM && strstr(kiln_last_error(), "refused"),
          "a block nobody can make: %s", kiln_last_error());
    kiln_pool_release(&p);
    CHECK(f.live == 0 && p.blocks == NULL, "release frees every block: %d live", f.live);
}

int main(void) {
    struct kiln_ranges r;
    CHECK(kiln_ranges_init(&r, 1000), "init");
    uint64_t a, b, c, d;
    CHECK(kiln_ranges_take(&r, 100, &a) && a == 0, "a at %llu", (unsigned long long)a);
    CHECK(kiln_ranges_take(&r, 200, &b) && b == 100, "b at %llu", (unsigned long long)b);
    CHECK(kiln_ranges_take(&r, 300, &c) && c == 300, "c at %llu", (unsigned long long)c);
    CHECK(!kiln_ranges_take(&r, 401, &d), "401 bytes do not fit in the 400 left");
    kiln_ranges_give(&r, b, 200);                       // hole [100, 300)
    CHECK(kiln_ranges_take(&r, 150, &d) && d == 100, "first fit reuses the hole: %llu", (unsigned long long)d);
    kiln_ranges_give(&r, d, 150);
    kiln_ranges_give(&r, a, 100);                       // merges with [100, 300) after it
    CHECK(!kiln_ranges_empty(&r), "c is still taken");
    CHECK(kiln_ranges_take(&r, 300, &d) && d == 0, "[0, 300) coalesced: %llu", (unsigned long long)d);
    kiln_ranges_give(&r, d, 300);
    kiln_ranges_give(&r, c, 300);                       // joins both neighbours
    CHECK(kiln_ranges_empty(&r), "everything free again");
    CHECK(r.free_list && !r.free_list->next, "one free range left");
    kiln_ranges_release(&r);
    test_pool();
    return test_finish("test_range_alloc");
}
