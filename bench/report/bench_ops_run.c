// One device's op benchmarks (bench_ops_run.h).
#include "bench/report/bench_ops_run.h"

#include <stdlib.h>
#include <string.h>

#include "backends/kernel.h"
#include "bench/report/gbench_json.h"
#include "bench/timing/stats.h"

enum { MAX_CASES = 64 };

static int default_types(enum kiln_op_kind op, const char *types, enum kiln_type *out) {
    int n = 0;
    if (types && strcmp(types, "all") != 0) {
        for (int t = 0; t < KILN_TYPE_COUNT; t++)
            if (kiln_type_traits((enum kiln_type)t) && kiln_list_has(types, kiln_type_name((enum kiln_type)t)))
                out[n++] = (enum kiln_type)t;
        return n;
    }
    if (types) {  // all
        for (int t = 0; t < KILN_TYPE_COUNT; t++)
            if (kiln_type_can_dequantize((enum kiln_type)t) &&
                (op != KILN_OP_ATTENTION || t == KILN_TYPE_F16 || t == KILN_TYPE_F32))
                out[n++] = (enum kiln_type)t;
        return n;
    }
    // What users deploy: Q4_K_M (q4_K + q6_K), Q5_K_M (q5_K + q6_K), Q6_K, Q8_0, Q4_0, and the
    // float checkpoints (f16, bf16).
    static const enum kiln_type mm[] = { KILN_TYPE_F16, KILN_TYPE_BF16, KILN_TYPE_Q8_0, KILN_TYPE_Q4_0,
                                         KILN_TYPE_Q4_K, KILN_TYPE_Q5_K, KILN_TYPE_Q6_K };
    static const enum kiln_type dq[] = { KILN_TYPE_Q8_0, KILN_TYPE_Q4_0, KILN_TYPE_Q4_K, KILN_TYPE_Q6_K };
    if (op == KILN_OP_MATMUL) {
        memcpy(out, mm, sizeof mm);
        return (int)(sizeof mm / sizeof mm[0]);
    }
    if (op == KILN_OP_DEQUANT) {
        memcpy(out, dq, sizeof dq);
        return (int)(sizeof dq / sizeof dq[0]);
    }
    out[0] = KILN_TYPE_F16;
    return 1;
}

static void row(const struct kiln_bench_ops_request *rq, const struct kiln_bench_entry *e,
                const struct kiln_ceilings *ceil) {
    if (rq->out)
        kiln_report_row(rq->out, rq->format, e, rq->no_roofline ? NULL : ceil);
}

// Vendor implementations in the device's kernel table (cuBLAS on CUDA) timed on the same case
// right after kiln's, and kiln's speed as a fraction of theirs: the reference a user would
// otherwise pick (kernel.h, `comparator`).
static enum kiln_status run_comparators(struct kiln_stream *s, const struct kiln_bench_ops_request *rq,
                                        const struct kiln_bench_case *c, const struct kiln_bench_entry *mine,
                                        cJSON *doc, const struct kiln_ceilings *ceil, int family) {
    struct kiln_device *dev = kiln_stream_device(s);
    if (mine->skipped || mine->error)
        return KILN_OK;
    for (int i = 0; i < kiln_kernel_count(dev); i++) {
        const struct kiln_kernel *k = kiln_kernel_get(dev, i);
        if (!k->comparator || k->op != c->op || (k->src_type != c->type && k->src_type != KILN_TYPE_ANY))
            continue;
        struct kiln_bench_case cc = *c;
        cc.kernel = k;
        struct kiln_bench_entry *e = calloc(1, sizeof *e);
        if (!e)
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        if (kiln_bench_run(s, &cc, &rq->cfg, e) != KILN_OK) {
            const enum kiln_status st = kiln_fail(KILN_E_DEVICE, "%s: %s", e->run_name, kiln_last_error());
            free(e);
            return st;
        }
        e->family = family;
        e->instance = mine->instance;
        row(rq, e, ceil);
        kiln_gbench_add_entry(kiln_gbench_benchmarks(doc), e, rq->no_roofline ? NULL : ceil);
        if (!e->skipped && !e->error && rq->out) {
            const double theirs = kiln_stats_compute(e->r.real, e->r.reps).median;
            const double ours = kiln_stats_compute(mine->r.real, mine->r.reps).median;
            if (ours > 0)
                fprintf(rq->out, "  kiln at %.2f of %s's speed on this case (%.4g s vs %.4g s per run)\n",
                        theirs / ours, k->variant ? k->variant : k->isa, ours, theirs);
        }
        free(e);
    }
    return KILN_OK;
}

enum kiln_status kiln_bench_ops_device(struct kiln_device *dev, const struct kiln_bench_ops_request *rq,
                                       cJSON *doc, struct kiln_ceilings *ceil, int *family) {
    const char *name = kiln_device_info(dev)->name;
    struct kiln_stream *s;
    if (kiln_stream_new(dev, &s) != KILN_OK)
        return kiln_fail(KILN_E_DEVICE, "%s: %s", name, kiln_last_error());
    enum kiln_status st = KILN_OK;
    if (!rq->no_roofline || rq->roofline_only) {
        struct kiln_probe_result probes[KILN_PROBE_COUNT];
        if (kiln_roofline_measure(s, &rq->cfg, ceil, probes) != KILN_OK) {
            st = kiln_fail(KILN_E_DEVICE, "roofline of %s: %s", name, kiln_last_error());
        } else {
            if (rq->out)
                kiln_report_ceilings(rq->out, rq->format, name, ceil);
            for (int p = 0; p < KILN_PROBE_COUNT; p++)
                kiln_gbench_add_probe(kiln_gbench_benchmarks(doc), &probes[p], name, (*family)++);
        }
    }
    static const enum kiln_op_kind ops[] = { KILN_OP_MATMUL, KILN_OP_ATTENTION, KILN_OP_DEQUANT };
    bool header = false;
    for (size_t oi = 0; oi < 3 && st == KILN_OK && !rq->roofline_only; oi++) {
        const enum kiln_op_kind op = ops[oi];
        if (!kiln_list_has(rq->ops, kiln_op_name(op)))
            continue;
        struct kiln_bench_case cases[MAX_CASES];
        int n_cases;
        if (rq->have_shape) {
            cases[0] = rq->shape;
            cases[0].op = op;
            n_cases = 1;
        } else {
            n_cases = kiln_bench_shape_set(rq->set ? rq->set : "default", op, cases, MAX_CASES);
        }
        enum kiln_type types[KILN_TYPE_COUNT];
        const int n_types = default_types(op, rq->types, types);
        for (int t = 0; t < n_types && st == KILN_OK; t++) {
            for (int c = 0; c < n_cases && st == KILN_OK; c++) {
                cases[c].type = types[t];
                cases[c].out_type = KILN_TYPE_F32;
                struct kiln_bench_entry *e = calloc(1, sizeof *e);
                if (!e) {
                    st = kiln_fail(KILN_E_NOMEM, "out of memory");
                    break;
                }
                if (!header && rq->out) {
                    kiln_report_header(rq->out, rq->format);
                    header = true;
                }
                if (kiln_bench_run(s, &cases[c], &rq->cfg, e) != KILN_OK) {
                    st = kiln_fail(KILN_E_DEVICE, "%s: %s", e->run_name, kiln_last_error());
                } else {
                    e->family = *family;
                    e->instance = c;
                    row(rq, e, ceil);
                    kiln_gbench_add_entry(kiln_gbench_benchmarks(doc), e, rq->no_roofline ? NULL : ceil);
                    st = run_comparators(s, rq, &cases[c], e, doc, ceil, *family);
                }
                free(e);
            }
            (*family)++;
        }
    }
    kiln_stream_free(s);
    return st;
}

enum kiln_status kiln_bench_ops_check_shape(const struct kiln_bench_ops_request *rq) {
    if (!rq->have_shape)
        return KILN_OK;
    const struct kiln_bench_case *c = &rq->shape;
    const bool mm = c->m && c->n && c->k, at = c->d && c->q && c->kv && c->h && c->h_kv,
               dq = c->k && c->m && !c->n;
    if (!mm && !at && !dq)
        return kiln_fail(KILN_E_INVALID, "--shape needs m,n,k (matmul), d,q,kv,h,hkv (attention) or k,m (dequant)");
    return KILN_OK;
}
