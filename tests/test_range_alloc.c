// backends/range_alloc.c: first fit, coalescing on release in any order, exhaustion.
#include "backends/range_alloc.h"
#include "check.h"

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
    return test_finish("test_range_alloc");
}
