// Google Benchmark JSON reader (gbench_read.h).
#include "bench/report/gbench_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *size = n;
    return buf;
}

// GB writes NaN, -NaN, Infinity, -Infinity as bare tokens; cJSON rejects them. Outside strings,
// replace each with null (the value is unusable for comparison anyway).
static char *replace_nonfinite(const char *in, size_t n) {
    char *out = malloc(2 * n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < n;) {
        const char c = in[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n)
                out[o++] = in[++i];
            else if (c == '"')
                in_string = false;
            i++;
            continue;
        }
        if (c == '"')
            in_string = true;
        static const char *const tokens[] = { "-Infinity", "Infinity", "-NaN", "NaN" };
        bool replaced = false;
        for (int t = 0; t < 4 && !replaced; t++) {
            const size_t len = strlen(tokens[t]);
            if (i + len <= n && strncmp(in + i, tokens[t], len) == 0) {
                memcpy(out + o, "null", 4);
                o += 4;
                i += len;
                replaced = true;
            }
        }
        if (!replaced)
            out[o++] = in[i++];
    }
    out[o] = '\0';
    return out;
}

static double unit_seconds(const char *unit) {
    return !strcmp(unit, "ns") ? 1e-9 : !strcmp(unit, "us") ? 1e-6 : !strcmp(unit, "ms") ? 1e-3
           : !strcmp(unit, "s") ? 1.0 : 0.0;
}

static void copy_string(const cJSON *o, const char *key, char *dst, size_t size) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(dst, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int64_t get_int(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    // Out of int64's range (the fuzzer sent 1e71) the cast is undefined: such a count is absent.
    return cJSON_IsNumber(v) && v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18 ? (int64_t)v->valuedouble : -1;
}

static enum kiln_status parse_entry(const char *path, int index, const cJSON *o, struct kiln_gb_entry *e) {
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o))
        return kiln_fail(KILN_E_FORMAT, "%s: benchmarks[%d] is not an object", path, index);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name))
        return kiln_fail(KILN_E_FORMAT, "%s: benchmarks[%d] has no \"name\"", path, index);
    snprintf(e->name, sizeof e->name, "%s", name->valuestring);
    copy_string(o, "run_name", e->run_name, sizeof e->run_name);
    if (!e->run_name[0])
        snprintf(e->run_name, sizeof e->run_name, "%s", e->name);
    copy_string(o, "aggregate_name", e->aggregate_name, sizeof e->aggregate_name);
    copy_string(o, "time_unit", e->time_unit, sizeof e->time_unit);
    copy_string(o, "label", e->label, sizeof e->label);
    char run_type[16];
    copy_string(o, "run_type", run_type, sizeof run_type);
    e->aggregate = strcmp(run_type, "aggregate") == 0;
    e->failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "error_occurred")) ||
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "skipped"));
    e->family = get_int(o, "family_index");
    e->instance = get_int(o, "per_family_instance_index");
    e->repetition = get_int(o, "repetition_index");
    const int64_t reps = get_int(o, "repetitions");
    if (reps == 0)
        return kiln_fail(KILN_E_FORMAT, "%s: %s has zero repetitions", path, e->name);
    const cJSON *bps = cJSON_GetObjectItemCaseSensitive(o, "bytes_per_second");
    const cJSON *flops = cJSON_GetObjectItemCaseSensitive(o, "flops");
    e->bytes_per_second = cJSON_IsNumber(bps) ? bps->valuedouble : NAN;
    e->flops = cJSON_IsNumber(flops) ? flops->valuedouble : NAN;
    const cJSON *real = cJSON_GetObjectItemCaseSensitive(o, "real_time");
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(o, "cpu_time");
    const double unit = unit_seconds(e->time_unit);
    e->has_times = cJSON_IsNumber(real) && cJSON_IsNumber(cpu) && unit > 0;
    if (e->has_times) {
        const bool pct = e->aggregate && !strcmp(e->aggregate_name, "cv");
        e->real = real->valuedouble * (pct ? 1.0 : unit);
        e->cpu = cpu->valuedouble * (pct ? 1.0 : unit);
    } else if (!e->failed && !e->aggregate) {
        return kiln_fail(KILN_E_FORMAT, "%s: %s lacks real_time, cpu_time or a known time_unit",
                         path, e->name);
    }
    return KILN_OK;
}

void kiln_machine_slug(const char *cpu_model, int cores, char *buf, size_t size) {
    size_t n = 0;
    bool dash = false, paren = false;
    for (const char *p = cpu_model; *p && n + 1 < size; p++) {
        const unsigned char c = (unsigned char)*p;
        if (c == '(') { paren = true; continue; }
        if (c == ')') { paren = false; continue; }
        if (paren)
            continue;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
            if (dash && n > 0 && n + 2 < size)
                buf[n++] = '-';
            dash = false;
            buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        } else {
            dash = true;
        }
    }
    buf[n] = '\0';
    char tail[24];
    snprintf(tail, sizeof tail, "%s%dc", n ? "-" : "unknown-", cores);
    snprintf(buf + n, size - n, "%s", tail);
}

// Appends `text` to a "; "-separated list in dst.
static void append_list(char *dst, size_t size, const char *text) {
    const size_t n = strlen(dst);
    snprintf(dst + n, size - n, "%s%s", n ? "; " : "", text);
}

// Who made the file: commit, machine, CPU, GPUs and drivers, build (for the history's runs).
// kiln writes kiln_machine and kiln_cpu_model; older kiln files and other programs' do not: the
// machine is then derived from kiln_device_cpu's description (or GB's host_name) and num_cpus.
static void load_identity(const cJSON *ctx, struct kiln_gb_file *out) {
    copy_string(ctx, "kiln_git_commit", out->commit, sizeof out->commit);
    copy_string(ctx, "kiln_machine", out->machine, sizeof out->machine);
    copy_string(ctx, "kiln_cpu_model", out->cpu, sizeof out->cpu);
    copy_string(ctx, "kiln_isa", out->isa, sizeof out->isa);
    copy_string(ctx, "executable", out->executable, sizeof out->executable);
    char lib[64], type[32], compiler[64];
    copy_string(ctx, "library_version", lib, sizeof lib);
    copy_string(ctx, "kiln_build_type", type, sizeof type);
    copy_string(ctx, "kiln_compiler", compiler, sizeof compiler);
    snprintf(out->build, sizeof out->build, "%s%s%s%s%s", lib, type[0] ? " " : "", type, compiler[0] ? " " : "", compiler);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, ctx) {
        if (!kv->string || strncmp(kv->string, "kiln_device_", 12) || !cJSON_IsString(kv))
            continue;
        // "DESCRIPTION; driver D; memory N bytes; threads T" (gbench_json.c)
        const char *text = kv->valuestring, *semi = strstr(text, "; driver ");
        char desc[200], drv[120] = "";
        snprintf(desc, sizeof desc, "%.*s", semi ? (int)(semi - text) : (int)strlen(text), text);
        if (semi) {
            const char *d = semi + 9, *end = strchr(d, ';');
            snprintf(drv, sizeof drv, "%.*s", end ? (int)(end - d) : (int)strlen(d), d);
        }
        if (!strcmp(kv->string + 12, "cpu")) {
            if (!out->cpu[0])
                snprintf(out->cpu, sizeof out->cpu, "%s", desc);
        } else {
            append_list(out->gpu, sizeof out->gpu, desc);
            if (drv[0] && strcmp(drv, "-"))
                append_list(out->driver, sizeof out->driver, drv);
        }
    }
    if (!out->machine[0]) {
        const int64_t cpus = get_int(ctx, "num_cpus");
        kiln_machine_slug(out->cpu[0] ? out->cpu : out->host[0] ? out->host : "unknown",
                          cpus > 0 && cpus < 1 << 20 ? (int)cpus : 0, out->machine, sizeof out->machine);
    }
}

// compare.py's order: (family, instance, aggregate after iterations, repetition), stable.
static int entry_order(const void *pa, const void *pb) {
    const struct kiln_gb_entry *a = pa, *b = pb;
    if (a->family != b->family) return a->family < b->family ? -1 : 1;
    if (a->instance != b->instance) return a->instance < b->instance ? -1 : 1;
    if (a->aggregate != b->aggregate) return a->aggregate ? 1 : -1;
    if (a->repetition != b->repetition) return a->repetition < b->repetition ? -1 : 1;
    return 0;
}

static enum kiln_status load(const char *path, const cJSON *doc, struct kiln_gb_file *out) {
    if (!cJSON_IsObject(doc))
        return kiln_fail(KILN_E_FORMAT, "%s: not a Google Benchmark file (the top level is not an object)", path);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(ctx, "json_schema_version");
    if (schema && (!cJSON_IsNumber(schema) || schema->valuedouble != 1))
        return kiln_fail(KILN_E_FORMAT, "%s: json_schema_version is not 1", path);
    copy_string(ctx, "host_name", out->host, sizeof out->host);
    copy_string(ctx, "date", out->date, sizeof out->date);
    load_identity(ctx, out);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, ctx) {
        if (kv->string && !strncmp(kv->string, "kiln_ceilings_", 14) && cJSON_IsString(kv) &&
            out->n_ceilings < 8) {
            snprintf(out->ceilings[out->n_ceilings][0], 200, "%s", kv->string + 14);
            snprintf(out->ceilings[out->n_ceilings][1], 200, "%s", kv->valuestring);
            out->n_ceilings++;
        }
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks");
    if (!cJSON_IsArray(list))
        return kiln_fail(KILN_E_FORMAT, "%s: not a Google Benchmark file (no \"benchmarks\" array)", path);
    const int n = cJSON_GetArraySize(list);
    out->entries = calloc(n > 0 ? (size_t)n : 1, sizeof *out->entries);
    if (!out->entries)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", path);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        KILN_TRY(parse_entry(path, i, item, &out->entries[i]));
        i++;
    }
    out->n = n;
    // qsort is not stable: equal keys keep file order through a stable merge-free trick —
    // insertion sort (files hold hundreds of entries, not millions).
    for (int a = 1; a < n; a++) {
        struct kiln_gb_entry key = out->entries[a];
        int b = a - 1;
        while (b >= 0 && entry_order(&out->entries[b], &key) > 0) {
            out->entries[b + 1] = out->entries[b];
            b--;
        }
        out->entries[b + 1] = key;
    }
    return KILN_OK;
}

enum kiln_status kiln_gb_load(const char *path, struct kiln_gb_file *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    errno = 0;
    char *text = read_file(path, &size);
    if (!text)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno ? errno : EIO));
    const enum kiln_status st = kiln_gb_parse_text(path, text, size, out);
    free(text);
    return st;
}

enum kiln_status kiln_gb_parse_text(const char *path, const char *text, size_t size, struct kiln_gb_file *out) {
    memset(out, 0, sizeof *out);
    char *clean = replace_nonfinite(text, size);
    if (!clean)
        return kiln_fail(KILN_E_NOMEM, "out of memory reading %s", path);
    cJSON *doc = cJSON_Parse(clean);
    free(clean);
    if (!doc)
        return kiln_fail(KILN_E_FORMAT, "%s: not valid JSON", path);
    const enum kiln_status st = load(path, doc, out);
    cJSON_Delete(doc);
    if (st != KILN_OK)
        kiln_gb_free(out);
    return st;
}

void kiln_gb_free(struct kiln_gb_file *f) {
    free(f->entries);
    f->entries = NULL;
    f->n = 0;
}
