// The persistent pool: every thread index runs exactly once per kiln_pool_run, runs do not
// overlap, and thousands of back-to-back runs (a forward pass's launch rate) complete.
#include <stdatomic.h>
#include <string.h>

#include "backends/cpu/thread_pool.h"
#include "tests/check.h"

struct counts {
    _Atomic int calls[16];
    _Atomic int nth_seen;
    _Atomic long total;
};

static void task(void *arg, int ith, int nth) {
    struct counts *c = arg;
    atomic_fetch_add(&c->calls[ith], 1);
    atomic_store(&c->nth_seen, nth);
    atomic_fetch_add(&c->total, ith + 1);
}

int main(void) {
    for (int n = 1; n <= 4; n++) {
        struct kiln_pool *pool;
        CHECK(kiln_pool_new(n, false, &pool) == KILN_OK, "%s", kiln_last_error());
        static struct counts c;
        memset(&c, 0, sizeof c);
        const int runs = 5000;
        for (int r = 0; r < runs; r++)
            kiln_pool_run(pool, task, &c);
        int bad = 0;
        for (int i = 0; i < n; i++)
            bad += atomic_load(&c.calls[i]) != runs;
        CHECK(bad == 0, "n=%d: every thread ran once per run", n);
        CHECK(atomic_load(&c.nth_seen) == n, "n=%d: tasks see nth", n);
        CHECK(atomic_load(&c.total) == (long)runs * n * (n + 1) / 2, "n=%d: no lost or extra calls", n);
        kiln_pool_free(pool);
    }
    struct kiln_pool *none;
    CHECK(kiln_pool_new(0, false, &none) == KILN_E_INVALID, "0 threads is an error");
    return test_finish("test_thread_pool");
}
