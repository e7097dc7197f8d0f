// kiln ops: the cross-backend correctness check. Every kernel row of every selected device,
// for every type it takes, on the op's list of awkward shapes (bench/check/opcheck_shapes.c), against
// the reference; plus the matmul fallback (dequantize-then-float) for weight types that have
// no fused kernel on the device. Exit 0 only if everything that ran passed.
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_features.h"
#include "backends/kernel.h"
#include "bench/check/opcheck.h"
#include "bench/check/opcheck_inputs.h"
#include "cli/args.h"

enum { MAX_CASES = 32 };

struct ops_options {
    struct kiln_common_options common;
    const char *ops, *types, *kernel_filter, *dump_dir;
    bool verbose;
    uint64_t seed;
};

struct totals {
    int lines, passed, failed, skipped;
};

static void help(void) {
    printf("usage: kiln ops [--backend LIST] [--op LIST] [--type LIST] [--kernel LIST]\n"
           "                [--threads N] [--seed N] [--verbose]\n"
           "\n"
           "Checks every registered kernel on every present device against the plain reference\n"
           "(kernels/<op>/<op>_ref.c), on shapes with awkward sizes (1, 7, 33, 4097, ...) and\n"
           "strided views, with NaN guard bands around outputs. A kernel passes when it writes\n"
           "only its output, its NMSE stays under the ceiling its arithmetic implies\n"
           "(bench/check/tolerance.c), and no row, column or element of the output carries more\n"
           "than its share of error. A kernel that rounds its inputs (x to Q8_0 for integer\n"
           "dot products, f16 for tensor cores) is held to the reference on inputs rounded the\n"
           "same way, and loosely to the exact one. Inputs include zero blocks, outliers,\n"
           "extreme codes, large attention scores, batched, permuted and unaligned views.\n"
           "One line per kernel and type; failures list their shapes and where they fail.\n"
           "\n"
           "  --backend LIST  devices or backends to check: cpu, vulkan, cuda:0 (default: all)\n"
           "  --op LIST       matmul,attention,dequant,rmsnorm,rope,swiglu,add,get_rows,copy\n"
           "  --type LIST     source/weight types: f32,f16,bf16,q8_0,q4_0,...\n"
           "  --kernel LIST   only kernels whose name contains one of the comma-separated\n"
           "                  texts (e.g. avx2, gemv or gemv,rmsnorm)\n"
           "  --threads N     CPU worker threads (default: one per physical core)\n"
           "  --seed N        random inputs' seed (default 1)\n"
           "  --dump DIR      write each case's inputs and reference output (.npy, .json) to\n"
           "                  DIR, for an outside oracle (tests/oracle/test_ops_numpy.py)\n"
           "  --verbose       one line per shape (NMSE, worst row/column/element), and each\n"
           "                  ceiling's derivation\n"
           "\n"
           "exit status: 0 all passed, 1 a kernel failed, 2 usage error\n"
           "(KILN_OPS_PLANT_FAULT=TEXT, a test hook: kernels whose name contains TEXT get one\n"
           " output value changed slightly after they run, and must fail)\n");
}

static uint64_t hash_name(const char *s, uint64_t h) {
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static int dst_types(const struct kiln_kernel *k, enum kiln_type *out) {
    if (k->dst_type != KILN_TYPE_ANY) {
        out[0] = k->dst_type;
        return 1;
    }
    if (k->op == KILN_OP_DEQUANT) {
        out[0] = KILN_TYPE_F32;
        out[1] = KILN_TYPE_F16;
        return 2;
    }
    // copy: the float types a K/V cache or a converter writes, and the 32-blocks.
    static const enum kiln_type copy_dst[] = { KILN_TYPE_F32, KILN_TYPE_F16, KILN_TYPE_BF16,
                                               KILN_TYPE_Q8_0, KILN_TYPE_Q4_0 };
    memcpy(out, copy_dst, sizeof copy_dst);
    return (int)(sizeof copy_dst / sizeof copy_dst[0]);
}

static int src_types(const struct kiln_kernel *k, enum kiln_type *out) {
    if (k->src_type != KILN_TYPE_ANY) {
        out[0] = k->src_type;
        return 1;
    }
    if (k->op == KILN_OP_COPY) {
        static const enum kiln_type copy_src[] = { KILN_TYPE_F32, KILN_TYPE_F16, KILN_TYPE_BF16 };
        memcpy(out, copy_src, sizeof copy_src);
        return 3;
    }
    int n = 0;
    for (int t = 0; t < KILN_TYPE_COUNT; t++) {
        if (kiln_type_can_dequantize((enum kiln_type)t))
            out[n++] = (enum kiln_type)t;
    }
    return n;
}

// Runs every case of one (kernel or fallback, src, dst) and prints its line.
static int check_line(struct kiln_stream *s, const struct kiln_kernel *k, enum kiln_op_kind op,
                      enum kiln_type src, enum kiln_type dst, const char *name,
                      const struct ops_options *o, struct totals *t) {
    struct kiln_check_case cases[MAX_CASES];
    const int n = kiln_check_cases_for(op, src, dst, cases, MAX_CASES);
    int ran = 0, passed = 0, declined = 0;
    double worst = 0.0, ceiling = 0.0;
    char failures[2048] = "";
    size_t flen = 0;
    // KILN_OPS_PLANT_FAULT=TEXT: lines whose name contains TEXT get a planted fault (opcheck.h),
    // so tests can see `kiln ops` fail and exit 1 on a subtly wrong output of any kernel.
    const char *plant = getenv("KILN_OPS_PLANT_FAULT");
    // Inputs are seeded by op and types, not by the kernel's name: every line of one op and
    // type checks the same tensors, which the input memo (bench/check/opcheck_inputs.h) then
    // makes once. (--seed still changes them all.)
    char data_name[64];
    snprintf(data_name, sizeof data_name, "%s.%s.%s", kiln_op_name(op), kiln_type_name(src),
             kiln_type_name(dst));
    for (int i = 0; i < n; i++) {
        struct kiln_check_result r;
        cases[i].plant_fault = plant && *plant && strstr(name, plant);
        char prefix[1024];
        if (o->dump_dir) {
            snprintf(prefix, sizeof prefix, "%s/%s-%d", o->dump_dir, name, i);
            cases[i].dump_prefix = prefix;
        }
        char desc[96];
        kiln_check_case_describe(&cases[i], desc, sizeof desc);
        if (kiln_check_run(s, k, &cases[i], hash_name(data_name, o->seed) + (uint64_t)i, &r) != KILN_OK) {
            fprintf(stderr, "kiln ops: %s on %s: %s\n", name, desc, kiln_last_error());
            return -1;
        }
        if (!(r.ceiling <= ceiling))
            ceiling = r.ceiling;
        if (o->verbose && i == 0)
            printf("      ceiling: %s\n", r.why);
        if (!r.ran) {
            declined++;
            if (o->verbose)
                printf("      %-44s %s\n", desc, r.note);
            continue;
        }
        ran++;
        passed += r.pass;
        if (!(r.nmse <= worst))
            worst = r.nmse;
        if (o->verbose) {
            printf("      %-44s nmse %-9.3g row %-9.3g col %-9.3g elem %-9.3g max|err| %-9.3g %s\n",
                   desc, r.nmse, r.worst_row, r.worst_col, r.worst_elem, r.max_abs_err,
                   r.pass ? "ok" : r.note);
            if (r.nmse_exact != r.nmse || r.ceiling_exact != r.ceiling)
                printf("      %-44s vs exact: nmse %-9.3g ceiling %.3g\n", "", r.nmse_exact,
                       r.ceiling_exact);
        }
        else if (!r.pass && flen < sizeof failures - 200)
            flen += (size_t)snprintf(failures + flen, sizeof failures - flen,
                                     "      FAIL %s: %s\n", desc, r.note);
    }
    const bool ok = ran > 0 && passed == ran;
    char shapes[32], extra[48] = "";
    snprintf(shapes, sizeof shapes, "%d/%d", passed, ran);
    if (declined)
        snprintf(extra, sizeof extra, " (%d shape%s declined)", declined, declined == 1 ? "" : "s");
    printf("%-8s %-36s %-7s %-11.3g %-9.3g %s%s\n", kiln_device_info(kiln_stream_device(s))->name,
           name, shapes, worst, ceiling, ran == 0 ? "FAIL: declined every shape" : ok ? "PASS" : "FAIL",
           extra);
    fputs(failures, stdout);
    fflush(stdout);
    t->lines++;
    if (ok)
        t->passed++;
    else
        t->failed++;
    return 0;
}

// --type names source/weight types; a destination type counts too where it is a choice the
// kernel makes (copy to q8_0, rope or dequant to f16), but not for matmul, whose destination is
// always the f32 output: `--type f32` there means f32 weights, not every weight type.
// --kernel: a comma-separated list of name fragments, any of which selects a line.
static bool kernel_selected(const char *filter, const char *name) {
    if (!filter)
        return true;
    for (const char *p = filter; *p;) {
        const char *comma = strchr(p, ',');
        const size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char part[96];
        if (n > 0 && n < sizeof part) {
            memcpy(part, p, n);
            part[n] = 0;
            if (strstr(name, part))
                return true;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

static bool type_selected(const struct ops_options *o, enum kiln_op_kind op, enum kiln_type src,
                          enum kiln_type dst) {
    if (kiln_list_has(o->types, kiln_type_name(src)))
        return true;
    return o->types && op != KILN_OP_MATMUL && kiln_list_has(o->types, kiln_type_name(dst));
}

static int check_device(struct kiln_device *dev, const struct ops_options *o, struct totals *t) {
    struct kiln_stream *s;
    if (kiln_stream_new(dev, &s) != KILN_OK) {
        fprintf(stderr, "kiln ops: %s: %s\n", kiln_device_info(dev)->name, kiln_last_error());
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < kiln_kernel_count(dev) && rc == 0; i++) {
        const struct kiln_kernel *k = kiln_kernel_get(dev, i);
        if (!kiln_list_has(o->ops, kiln_op_name(k->op)))
            continue;
        enum kiln_type srcs[KILN_TYPE_COUNT], dsts[8];
        const int ns = src_types(k, srcs), nd = dst_types(k, dsts);
        for (int a = 0; a < ns && rc == 0; a++) {
            for (int b = 0; b < nd && rc == 0; b++) {
                char name[96];
                kiln_kernel_name(k, srcs[a], dsts[b], name, sizeof name);
                if (!type_selected(o, k->op, srcs[a], dsts[b]) ||
                    !kernel_selected(o->kernel_filter, name))
                    continue;
                if (!kiln_kernel_usable(dev, k)) {
                    char why[160];  // only what is missing (the row asks for the AVX2 set too)
                    const char *absent = k->unavailable ? k->unavailable() : NULL;
                    if (absent) {
                        snprintf(why, sizeof why, "%s", absent);
                    } else {
                        char feats[128];
                        kiln_cpu_features_string(k->cpu_features & ~kiln_cpu_features(), feats, sizeof feats);
                        snprintf(why, sizeof why, "this CPU lacks %s", feats);
                    }
                    printf("%-8s %-36s %-7s %-11s %-9s skipped: %s\n",
                           kiln_device_info(dev)->name, name, "-", "-", "-", why);
                    t->skipped++;
                    continue;
                }
                rc = check_line(s, k, k->op, srcs[a], dsts[b], name, o, t);
            }
        }
    }
    // The fallback path, for weight types without a fused kernel above the reference here.
    for (int ti = 0; ti < KILN_TYPE_COUNT && rc == 0 && kiln_list_has(o->ops, "matmul"); ti++) {
        const enum kiln_type type = (enum kiln_type)ti;
        if (type == KILN_TYPE_F32 || !kiln_type_can_dequantize(type) || !type_selected(o, KILN_OP_MATMUL, type, type))
            continue;
        bool fused = false;
        for (int i = 0; i < kiln_kernel_count(dev); i++) {
            const struct kiln_kernel *k = kiln_kernel_get(dev, i);
            fused |= k->op == KILN_OP_MATMUL && (k->src_type == type || k->src_type == KILN_TYPE_ANY) &&
                     k->tier > KILN_TIER_REF &&
                     kiln_kernel_usable(dev, k);
        }
        char name[96];
        snprintf(name, sizeof name, "matmul.%s.fallback", kiln_type_name(type));
        if (fused || !kernel_selected(o->kernel_filter, name))
            continue;
        rc = check_line(s, NULL, KILN_OP_MATMUL, type, KILN_TYPE_F32, name, o, t);
    }
    kiln_stream_free(s);
    return rc;
}

static int parse(int argc, char **argv, struct ops_options *o) {
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return 1;
        }
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            o->verbose = true;
        } else if (kiln_arg_value(argc, argv, &i, "--op", &v, &err)) {
            o->ops = v;
            for (const char *p = v; !err && *p;) {
                char one[32];
                const size_t n = strcspn(p, ",");
                snprintf(one, sizeof one, "%.*s", (int)n, p);
                enum kiln_op_kind op;
                if (!kiln_op_from_name(one, &op)) {
                    fprintf(stderr, "kiln ops: unknown op '%s' (see kiln ops --help)\n", one);
                    return -1;
                }
                p += n + (p[n] == ',');
            }
        } else if (kiln_arg_value(argc, argv, &i, "--type", &v, &err)) {
            o->types = v;
        } else if (kiln_arg_value(argc, argv, &i, "--kernel", &v, &err)) {
            o->kernel_filter = v;
        } else if (kiln_arg_value(argc, argv, &i, "--dump", &v, &err)) {
            o->dump_dir = v;
            if (!err && mkdir(v, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "kiln ops: cannot create --dump directory %s: %s\n", v, strerror(errno));
                return -1;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--seed", &v, &err)) {
            long seed;
            if (err || !kiln_arg_int("ops", "--seed", v, 0, 2147483647L, &seed))
                return -1;
            o->seed = (uint64_t)seed;
        } else {
            if (!kiln_common_option_or_usage("ops", argc, argv, &i, &o->common))
                return -1;
        }
        if (err)
            return -1;
    }
    return 0;
}

int kiln_cmd_ops(int argc, char **argv) {
    struct ops_options o = { .seed = 1 };
    const int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (!kiln_start("ops", &o.common))
        return KILN_EXIT_FAIL;
    printf("%-8s %-36s %-7s %-11s %-9s %s\n", "device", "kernel", "shapes", "worst NMSE", "ceiling",
           "result");
    struct totals t = { 0 };
    int devices = 0, rc = 0;
    for (int i = 0; i < kiln_device_count() && rc == 0; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_device_selected(&o.common, dev))
            continue;
        devices++;
        rc = check_device(dev, &o, &t);
    }
    kiln_memo_clear();
    kiln_shutdown();
    if (rc != 0)
        return KILN_EXIT_FAIL;
    if (devices == 0) {
        fprintf(stderr, "kiln ops: no device matches --backend %s (see kiln info)\n",
                o.common.backends);
        return KILN_EXIT_FAIL;
    }
    if (t.lines == 0) {
        fprintf(stderr, "kiln ops: no kernel matches the filters\n");
        return KILN_EXIT_FAIL;
    }
    printf("\nkiln ops: %d kernel/type lines on %d device%s: %d passed, %d failed, %d skipped\n",
           t.lines, devices, devices == 1 ? "" : "s", t.passed, t.failed, t.skipped);
    return t.failed ? KILN_EXIT_FAIL : KILN_EXIT_OK;
}
