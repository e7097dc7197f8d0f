// A persistent pthread pool: n threads (the caller is thread 0) run one task function together.
// Workers spin briefly after each task (kernel launches come in quick succession during a
// forward pass), then sleep on a condition variable so an idle pool costs nothing.
#pragma once

#include <stdbool.h>

#include "backends/status.h"

struct kiln_pool;

// fn(ctx, ith, nth) is called once on each of the nth threads; ith = 0 is the caller.
typedef void (*kiln_task_fn)(void *ctx, int ith, int nth);

// n_threads >= 1. With `pin`, thread i is bound to physical core i (hwloc); the caller's
// thread is bound to core 0.
enum kiln_status kiln_pool_new(int n_threads, bool pin, struct kiln_pool **out);
void kiln_pool_free(struct kiln_pool *pool);
int kiln_pool_size(const struct kiln_pool *pool);

// Runs fn on every thread and returns when all have finished. Calls from several threads are
// serialised.
void kiln_pool_run(struct kiln_pool *pool, kiln_task_fn fn, void *ctx);
