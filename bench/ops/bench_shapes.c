// Shape sets for `kiln bench ops` (bench_ops.h), taken from real Llama-family models:
//   llama-1b  Llama-3.2-1B: hidden 2048, FFN 8192, 32 q heads / 8 kv heads of 64
//   llama-7b  Llama-2-7B:   hidden 4096, FFN 11008, 32 heads / 32 kv heads of 128
//   llama-8b  Llama-3-8B:   hidden 4096, FFN 14336, 32 q heads / 8 kv heads of 128
// Each set has its projections at n = 1 (decode GEMV), n = 8 (small batch) and n = 512
// (prefill GEMM), attention at decode (contexts 512, 4096) and prefill (512 queries), and the
// dequantization of its largest matrix.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ops/bench_ops.h"

struct model_shape {
    const char *name;
    int64_t hidden, ffn, heads, kv_heads, head_dim;
};

static const struct model_shape models[] = {
    { "llama-1b", 2048, 8192, 32, 8, 64 },
    { "llama-7b", 4096, 11008, 32, 32, 128 },
    { "llama-8b", 4096, 14336, 32, 8, 128 },
};

static int add(struct kiln_bench_case *out, int n, int max, struct kiln_bench_case c) {
    if (n < max)
        out[n] = c;
    return n + 1;
}

static int model_cases(const struct model_shape *ms, enum kiln_op_kind op, struct kiln_bench_case *out,
                       int max) {
    int n = 0;
    if (op == KILN_OP_MATMUL) {
        const struct { const char *role; int64_t m, k; } proj[] = {
            { "attn_q", ms->heads * ms->head_dim, ms->hidden },
            { "attn_k", ms->kv_heads * ms->head_dim, ms->hidden },
            { "attn_output", ms->hidden, ms->heads * ms->head_dim },
            { "ffn_up", ms->ffn, ms->hidden },
            { "ffn_down", ms->hidden, ms->ffn },
        };
        static const int64_t batch[] = { 1, 8, 512 };
        for (size_t b = 0; b < 3; b++) {
            for (size_t p = 0; p < sizeof proj / sizeof proj[0]; p++) {
                struct kiln_bench_case c = { .op = op, .m = proj[p].m, .n = batch[b], .k = proj[p].k };
                snprintf(c.set, sizeof c.set, "%s %s", ms->name, proj[p].role);
                n = add(out, n, max, c);
            }
        }
    } else if (op == KILN_OP_ATTENTION) {
        const struct { int64_t q, kv; } at[] = { { 1, 512 }, { 1, 4096 }, { 512, 512 } };
        for (size_t i = 0; i < 3; i++) {
            struct kiln_bench_case c = { .op = op, .d = ms->head_dim, .q = at[i].q, .kv = at[i].kv,
                                         .h = ms->heads, .h_kv = ms->kv_heads };
            snprintf(c.set, sizeof c.set, "%s %s", ms->name, at[i].q == 1 ? "decode" : "prefill");
            n = add(out, n, max, c);
        }
    } else if (op == KILN_OP_DEQUANT) {
        struct kiln_bench_case c = { .op = op, .k = ms->hidden, .m = ms->ffn };
        snprintf(c.set, sizeof c.set, "%s ffn_up", ms->name);
        n = add(out, n, max, c);
    }
    return n;
}

int kiln_bench_shape_set(const char *name, enum kiln_op_kind op, struct kiln_bench_case *out, int max) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (strcmp(name, models[i].name) == 0)
            return model_cases(&models[i], op, out, max);
    int n = 0;
    if (strcmp(name, "default") == 0) {
        // The headline cases: Llama-3-8B's down projection decoded and prefilled, attention
        // decode at 4096 with 8 q heads per kv head, and dequantizing that matrix.
        if (op == KILN_OP_MATMUL) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .m = 4096, .n = 1, .k = 14336, .set = "llama-8b ffn_down" });
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .m = 4096, .n = 512, .k = 14336, .set = "llama-8b ffn_down" });
        } else if (op == KILN_OP_ATTENTION) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .d = 128, .q = 1, .kv = 4096, .h = 32, .h_kv = 4, .set = "decode, 8 q heads per kv head" });
        } else if (op == KILN_OP_DEQUANT) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .k = 14336, .m = 4096, .set = "llama-8b ffn_down" });
        }
        return n;
    }
    if (strcmp(name, "ci") == 0) {  // small and quick: for tests of the harness itself
        if (op == KILN_OP_MATMUL) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .m = 256, .n = 1, .k = 512, .set = "ci" });
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .m = 128, .n = 32, .k = 256, .set = "ci" });
        } else if (op == KILN_OP_ATTENTION) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .d = 64, .q = 1, .kv = 256, .h = 4, .h_kv = 2, .set = "ci" });
        } else if (op == KILN_OP_DEQUANT) {
            n = add(out, n, max, (struct kiln_bench_case){ .op = op, .k = 512, .m = 64, .set = "ci" });
        }
        return n;
    }
    return -1;
}

const char *kiln_bench_shape_set_names(void) { return "default, ci, llama-1b, llama-7b, llama-8b"; }

bool kiln_bench_parse_shape(const char *text, struct kiln_bench_case *c) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        const long long v = eq ? strtoll(eq + 1, &end, 10) : 0;
        if (!eq || !end || *end || v <= 0) {
            fprintf(stderr, "kiln bench: bad shape item '%s' (expected key=positive integer)\n", tok);
            return false;
        }
        *eq = '\0';
        int64_t *field = !strcmp(tok, "m") ? &c->m : !strcmp(tok, "n") ? &c->n : !strcmp(tok, "k") ? &c->k
                       : !strcmp(tok, "d") ? &c->d : !strcmp(tok, "q") ? &c->q : !strcmp(tok, "kv") ? &c->kv
                       : !strcmp(tok, "h") ? &c->h : !strcmp(tok, "hkv") ? &c->h_kv : NULL;
        if (!field) {
            fprintf(stderr, "kiln bench: unknown shape key '%s' (m, n, k, d, q, kv, h, hkv)\n", tok);
            return false;
        }
        *field = v;
    }
    return true;
}
