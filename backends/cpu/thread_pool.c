// Persistent thread pool (thread_pool.h).
//
// Hand-off: the caller publishes (fn, ctx), bumps `generation` under the mutex and broadcasts;
// workers that are still spinning see the new generation at once, sleeping ones wake. Each
// worker decrements `pending` when done; the last one signals the caller. Taking the mutex on
// both edges rules out lost wake-ups; spinning first keeps back-to-back launches cheap.
#include "backends/cpu/thread_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends/cpu/topology.h"

enum { SPIN_ITERATIONS = 20000 };

struct worker {
    struct kiln_pool *pool;
    int ith;
    pthread_t thread;
};

struct kiln_pool {
    int n;
    bool pin;
    struct worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    pthread_mutex_t run_lock;
    _Atomic uint64_t generation;
    _Atomic int pending;
    kiln_task_fn fn;
    void *ctx;
    bool stop;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct kiln_pool *p = w->pool;
    if (p->pin)
        kiln_topology_bind_thread(w->ith);  // best effort: an unpinned worker still works
    uint64_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ITERATIONS && atomic_load(&p->generation) == seen; i++)
            cpu_relax();
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->generation) == seen && !p->stop)
            pthread_cond_wait(&p->work_cv, &p->mu);
        const bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
        seen = atomic_load(&p->generation);
        p->fn(p->ctx, w->ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

enum kiln_status kiln_pool_new(int n_threads, bool pin, struct kiln_pool **out) {
    *out = NULL;
    if (n_threads < 1)
        return kiln_fail(KILN_E_INVALID, "thread pool needs at least 1 thread, got %d", n_threads);
    struct kiln_pool *p = calloc(1, sizeof *p);
    if (!p)
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    p->n = n_threads;
    p->pin = pin;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->workers = calloc((size_t)n_threads, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    }
    if (pin)
        kiln_topology_bind_thread(0);
    for (int i = 1; i < n_threads; i++) {
        p->workers[i].pool = p;
        p->workers[i].ith = i;
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            p->n = i;  // stop the ones already started
            kiln_pool_free(p);
            return kiln_fail(KILN_E_NOMEM, "cannot start CPU worker thread %d of %d", i, n_threads);
        }
    }
    *out = p;
    return KILN_OK;
}

void kiln_pool_free(struct kiln_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->run_lock);
    free(p->workers);
    free(p);
}

int kiln_pool_size(const struct kiln_pool *pool) { return pool->n; }

void kiln_pool_run(struct kiln_pool *p, kiln_task_fn fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->run_lock);
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);

    fn(ctx, 0, p->n);

    for (int i = 0; i < SPIN_ITERATIONS && atomic_load(&p->pending) > 0; i++)
        cpu_relax();
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->pending) > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_lock);
}
