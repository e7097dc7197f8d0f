// `kiln ops --dump DIR` (opcheck.h): every case's host inputs and reference output as .npy
// files plus a JSON line of the op's parameters, so that an oracle written without kiln's C
// code (tests/oracle/test_ops_numpy.py) can recompute each op and judge the CPU's REF rows,
// which `kiln ops` otherwise only compares with themselves.
//
// Arrays are dense, in numpy's order (ne3, ne2, ne1, ne0): strided or transposed views are
// gathered element by element. f32, f16 and i32 keep their type ('<f4', '<f2', '<i4'); bf16 is
// written as its raw 16 bits ('<u2'); quantized tensors are not dumped (the oracle then skips
// the case and says so: gguf-py's dequantizers are compared with kiln's elsewhere).
#include "bench/check/opcheck_dump.h"

#include <stdio.h>
#include <string.h>

#include "backends/cpu/cpu_kernel.h"

static const char *npy_descr(enum kiln_type t) {
    switch (t) {
    case KILN_TYPE_F32: return "<f4";
    case KILN_TYPE_F16: return "<f2";
    case KILN_TYPE_BF16: return "<u2";
    case KILN_TYPE_I32: return "<i4";
    default: return NULL;
    }
}

static bool write_npy(const char *path, const struct kiln_tensor *t) {
    const char *descr = npy_descr(t->type);
    if (!descr)
        return true;  // not dumped: the oracle sees no file
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    char header[160];
    int len = snprintf(header, sizeof header,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld, %lld, %lld), }",
                       descr, (long long)t->ne[3], (long long)t->ne[2], (long long)t->ne[1],
                       (long long)t->ne[0]);
    while ((10 + len + 1) % 64)  // magic + version + length, then the padded dict and '\n'
        header[len++] = ' ';
    header[len++] = '\n';
    const uint8_t lo = (uint8_t)(len & 0xff), hi = (uint8_t)(len >> 8);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(lo, f);
    fputc(hi, f);
    fwrite(header, 1, (size_t)len, f);
    const size_t es = kiln_row_size(t->type, 1);
    for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < t->ne[1]; i1++)
                fwrite(KILN_ROW(t, i1, i2, i3), es, (size_t)t->ne[0], f);
    return fclose(f) == 0;
}

enum kiln_status kiln_check_dump(const char *prefix, const struct kiln_op *ref_op) {
    char path[1024];
    snprintf(path, sizeof path, "%s-dst.npy", prefix);
    bool ok = write_npy(path, &ref_op->dst);
    for (int i = 0; i < ref_op->n_src && ok; i++) {
        snprintf(path, sizeof path, "%s-src%d.npy", prefix, i);
        ok = write_npy(path, &ref_op->src[i]);
    }
    snprintf(path, sizeof path, "%s.json", prefix);
    FILE *f = ok ? fopen(path, "w") : NULL;
    if (!f)
        return kiln_fail(KILN_E_IO, "kiln ops --dump: cannot write %s", path);
    const struct kiln_attention_params *a = &ref_op->params.attention;
    const struct kiln_rope_params *r = &ref_op->params.rope;
    fprintf(f, "{\"op\": \"%s\", \"dst_type\": \"%s\", \"src_types\": [", kiln_op_name(ref_op->kind),
            kiln_type_name(ref_op->dst.type));
    for (int i = 0; i < ref_op->n_src; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", kiln_type_name(ref_op->src[i].type));
    fprintf(f, "]");
    switch (ref_op->kind) {
    case KILN_OP_ATTENTION:
        fprintf(f, ", \"scale\": %.9g, \"pos0\": %d, \"causal\": %s", (double)a->scale, a->pos0,
                a->causal ? "true" : "false");
        break;
    case KILN_OP_ROPE:
        fprintf(f, ", \"mode\": \"%s\", \"n_dims\": %d, \"theta_base\": %.9g",
                r->mode == KILN_ROPE_NEOX ? "neox" : "normal", r->n_dims, (double)r->theta_base);
        if (r->has_freq_factors) {
            fprintf(f, ", \"freq_factors\": [");
            for (int i = 0; i < r->n_dims / 2; i++)
                fprintf(f, "%s%.9g", i ? ", " : "", (double)r->freq_factors[i]);
            fprintf(f, "]");
        }
        break;
    case KILN_OP_RMSNORM:
        fprintf(f, ", \"eps\": %.9g", (double)ref_op->params.rmsnorm.eps);
        break;
    default: break;
    }
    fprintf(f, "}\n");
    return fclose(f) == 0 ? KILN_OK : kiln_fail(KILN_E_IO, "kiln ops --dump: cannot write %s", path);
}
