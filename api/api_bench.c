// libkiln's benchmark, comparison and history calls (kiln.h): the same drivers as the CLI's
// (bench/report/bench_ops_run.h, bench_model_run.h, compare.h, history_db.h), with JSON options
// and results instead of flags and tables.
#include "api/kiln.h"
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/history/history_db.h"
#include "bench/report/bench_model_run.h"
#include "bench/report/bench_ops_run.h"
#include "bench/report/compare.h"
#include "bench/report/gbench_json.h"

enum { MAX_DEVICES = 16 };

// Common to both benchmark calls: start the devices, then after the run build the document,
// write it where asked and return its text.
static enum kiln_status start_devices(const struct kiln_api_opts *o, const char **backends) {
    int64_t threads = 0;
    KILN_TRY(kiln_api_opt_int(o, "threads", 0, 4096, &threads));
    KILN_TRY(kiln_api_opt_string(o, "backend", backends));
    return kiln_api_ensure_init((int)threads, *backends);
}

// The files a run will write, checked before it: a bad path fails in a second, not after minutes.
static enum kiln_status check_outputs(const struct kiln_api_opts *o) {
    const char *json = NULL, *db = NULL;
    KILN_TRY(kiln_api_opt_string(o, "json", &json));
    KILN_TRY(kiln_api_opt_string(o, "db", &db));
    if (json)
        KILN_TRY(kiln_gbench_check_writable(json));
    if (db)
        KILN_TRY(kiln_history_check(db));
    return KILN_OK;
}

static enum kiln_status finish_doc(const struct kiln_api_opts *o, const char *executable, cJSON *list,
                                   const struct kiln_gbench_device *devs, int n_devs, char **out) {
    const char *json = NULL, *db = NULL;
    KILN_TRY(kiln_api_opt_string(o, "json", &json));
    KILN_TRY(kiln_api_opt_string(o, "db", &db));
    cJSON *doc = kiln_gbench_new(executable, devs, n_devs);
    cJSON_ReplaceItemInObject(doc, "benchmarks", list);
    enum kiln_status st = KILN_OK;
    if (json)
        st = kiln_gbench_save(doc, json);
    if (st == KILN_OK && db)
        st = kiln_history_store_doc(db, doc, executable, NULL);
    if (st == KILN_OK && !(*out = kiln_api_print(doc)))
        st = kiln_fail(KILN_E_NOMEM, "out of memory printing the results");
    cJSON_Delete(doc);
    return st;
}

static enum kiln_status bench_ops(const struct kiln_api_opts *o, char **out) {
    struct kiln_bench_ops_request rq = { .cfg = kiln_bench_config_default(), .format = KILN_REPORT_TABLE };
    const char *shape = NULL, *backends = NULL;
    bool roofline = true;
    int64_t reps = 0;
    KILN_TRY(kiln_api_opt_string(o, "op", &rq.ops));
    KILN_TRY(kiln_api_opt_string(o, "type", &rq.types));
    KILN_TRY(kiln_api_opt_string(o, "shapes", &rq.set));
    KILN_TRY(kiln_api_opt_string(o, "shape", &shape));
    KILN_TRY(kiln_api_opt_bool(o, "roofline", &roofline));
    KILN_TRY(kiln_api_opt_bool(o, "cache_hot", &rq.cfg.cache_hot));
    KILN_TRY(kiln_api_opt_double(o, "min_time", 1e-6, 60, &rq.cfg.min_time));
    KILN_TRY(kiln_api_opt_double(o, "max_cv", 0, 10, &rq.cfg.max_cv));
    KILN_TRY(kiln_api_opt_int(o, "repetitions", 0, KILN_BENCH_MAX_REPS, &reps));
    rq.cfg.warmup_time = rq.cfg.min_time / 2;
    if (reps)
        rq.cfg.min_reps = rq.cfg.max_reps = (int)reps;
    rq.no_roofline = !roofline;
    if (shape) {
        if (!kiln_bench_parse_shape(shape, &rq.shape))
            return kiln_fail(KILN_E_INVALID, "bench_ops: cannot read shape '%s' (m=4096,n=1,k=4096)", shape);
        rq.have_shape = true;
        KILN_TRY(kiln_bench_ops_check_shape(&rq));
    }
    if (rq.set && !rq.have_shape && kiln_bench_shape_set(rq.set, KILN_OP_MATMUL, NULL, 0) < 0)
        return kiln_fail(KILN_E_INVALID, "bench_ops: unknown shape set '%s' (%s)", rq.set, kiln_bench_shape_set_names());
    if (rq.ops) {
        for (const char *p = rq.ops; *p;) {  // a misspelt op would otherwise run nothing
            const char *end = strchr(p, ',');
            char name[32];
            snprintf(name, sizeof name, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
            enum kiln_op_kind k;
            if (!kiln_op_from_name(name, &k) || (k != KILN_OP_MATMUL && k != KILN_OP_ATTENTION && k != KILN_OP_DEQUANT))
                return kiln_fail(KILN_E_INVALID, "bench_ops: op '%s' is not benchmarked (matmul, attention, dequant)", name);
            p = end ? end + 1 : p + strlen(p);
        }
    }
    if (rq.types && strcmp(rq.types, "all")) {
        for (const char *p = rq.types; *p;) {
            const char *end = strchr(p, ',');
            char name[32];
            snprintf(name, sizeof name, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
            enum kiln_type t;
            if (!kiln_type_from_name(name, &t))
                return kiln_fail(KILN_E_INVALID, "bench_ops: unknown type '%s'", name);
            p = end ? end + 1 : p + strlen(p);
        }
    }
    KILN_TRY(check_outputs(o));
    KILN_TRY(start_devices(o, &backends));
    struct kiln_ceilings ceilings[MAX_DEVICES] = { 0 };
    struct kiln_gbench_device devs[MAX_DEVICES];
    int n_devs = 0, family = 0;
    cJSON *scratch = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(scratch, "benchmarks");
    enum kiln_status st = KILN_OK;
    for (int i = 0; i < kiln_device_count() && st == KILN_OK && n_devs < MAX_DEVICES; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_api_device_selected(dev, backends))
            continue;
        devs[n_devs] = (struct kiln_gbench_device){ kiln_device_info(dev)->name, &ceilings[n_devs] };
        st = kiln_bench_ops_device(dev, &rq, scratch, &ceilings[n_devs], &family);
        n_devs++;
    }
    if (st == KILN_OK && n_devs == 0)
        st = kiln_fail(KILN_E_INVALID, "bench_ops: no device matches backend '%s' (kiln.info() lists them)",
                       backends ? backends : "");
    if (st == KILN_OK)
        st = finish_doc(o, "kiln.bench_ops", cJSON_DetachItemViaPointer(scratch, list), devs, n_devs, out);
    cJSON_Delete(scratch);
    return st;
}

int kiln_api_bench_ops(const char *options, char **out) {
    *out = NULL;
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("bench_ops", options,
        "op,type,shape,shapes,backend,threads,min_time,repetitions,max_cv,roofline,cache_hot,json,db", &o);
    if (st == KILN_OK)
        st = bench_ops(&o, out);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

static enum kiln_status bench_model(const struct kiln_api_opts *o, char **out) {
    struct kiln_bench_model_request rq = { .pp = 512, .tg = 128, .reps = 5 };
    const char *backends = NULL;
    bool roofline = true, graphs = true;
    int64_t v;
    KILN_TRY(kiln_api_opt_string(o, "model", &rq.path));
    if (!rq.path)
        return kiln_fail(KILN_E_INVALID, "bench_model: needs 'model' (a GGUF file)");
    struct stat sb;
    if (stat(rq.path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return kiln_fail(KILN_E_IO, "bench_model: %s: no such file", rq.path);
    v = rq.pp; KILN_TRY(kiln_api_opt_int(o, "pp", 0, 1 << 20, &v)); rq.pp = (long)v;
    v = rq.tg; KILN_TRY(kiln_api_opt_int(o, "tg", 0, 1 << 20, &v)); rq.tg = (long)v;
    v = 0; KILN_TRY(kiln_api_opt_int(o, "depth", 0, 1 << 22, &v)); rq.depth = (long)v;
    v = rq.reps; KILN_TRY(kiln_api_opt_int(o, "reps", 1, KILN_BENCH_MAX_REPS, &v)); rq.reps = (long)v;
    KILN_TRY(kiln_api_opt_bool(o, "roofline", &roofline));
    KILN_TRY(kiln_api_opt_bool(o, "graphs", &graphs));
    if (!rq.pp && !rq.tg)
        return kiln_fail(KILN_E_INVALID, "bench_model: pp and tg are both 0: nothing to measure");
    rq.no_roofline = !roofline;
    rq.no_graphs = !graphs;
    KILN_TRY(check_outputs(o));
    KILN_TRY(start_devices(o, &backends));
    struct kiln_ceilings ceil[MAX_DEVICES] = { 0 };
    struct kiln_gbench_device devs[MAX_DEVICES];
    int n_devs = 0, family = 0;
    cJSON *list = cJSON_CreateArray();
    enum kiln_status st = KILN_OK;
    for (int i = 0; i < kiln_device_count() && st == KILN_OK && n_devs < MAX_DEVICES; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_api_device_selected(dev, backends))
            continue;
        devs[n_devs] = (struct kiln_gbench_device){ kiln_device_info(dev)->name, &ceil[n_devs] };
        st = kiln_bench_model_device(dev, &rq, list, &ceil[n_devs], &family);
        n_devs++;
    }
    if (st == KILN_OK && n_devs == 0)
        st = kiln_fail(KILN_E_INVALID, "bench_model: no device matches backend '%s'", backends ? backends : "");
    if (st == KILN_OK)
        return finish_doc(o, "kiln.bench_model", list, devs, n_devs, out);
    cJSON_Delete(list);
    return st;
}

int kiln_api_bench_model(const char *options, char **out) {
    *out = NULL;
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("bench_model", options,
        "model,pp,tg,depth,reps,backend,threads,roofline,graphs,json,db", &o);
    if (st == KILN_OK)
        st = bench_model(&o, out);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

static enum kiln_status compare(const char *base, const char *cand, const struct kiln_api_opts *o, char **out) {
    struct kiln_compare_options co = { .threshold = 0.05, .alpha = 0.05 };
    const char *db = NULL, *machine = NULL, *junit = NULL, *base_label = base, *new_label = cand;
    KILN_TRY(kiln_api_opt_string(o, "base_label", &base_label));
    KILN_TRY(kiln_api_opt_string(o, "new_label", &new_label));
    KILN_TRY(kiln_api_opt_double(o, "threshold", 0, 100, &co.threshold));
    KILN_TRY(kiln_api_opt_double(o, "alpha", 1e-12, 0.999999, &co.alpha));
    KILN_TRY(kiln_api_opt_bool(o, "cpu", &co.use_cpu));
    KILN_TRY(kiln_api_opt_string(o, "db", &db));
    KILN_TRY(kiln_api_opt_string(o, "machine", &machine));
    KILN_TRY(kiln_api_opt_string(o, "junit", &junit));
    struct kiln_gb_file a, b;
    KILN_TRY(kiln_results_load(base, db, machine, &a));
    enum kiln_status st = kiln_results_load(cand, db, machine, &b);
    if (st != KILN_OK) {
        kiln_gb_free(&a);
        return st;
    }
    struct kiln_compare_result r;
    st = kiln_compare_compute(&a, &b, &co, &r);
    kiln_gb_free(&a);
    kiln_gb_free(&b);
    KILN_TRY(st);
    snprintf(r.base_label, sizeof r.base_label, "%s", base_label);
    snprintf(r.new_label, sizeof r.new_label, "%s", new_label);
    if (junit)
        st = kiln_compare_save_junit(junit, &r);
    char *json = st == KILN_OK ? kiln_compare_to_json(&r) : NULL;
    char *md = NULL;
    size_t md_len = 0;
    FILE *mf = st == KILN_OK ? open_memstream(&md, &md_len) : NULL;
    if (mf) {
        kiln_compare_print_markdown(mf, &r);
        fclose(mf);
    }
    kiln_compare_result_free(&r);
    if (st == KILN_OK && (!json || !md))
        st = kiln_fail(KILN_E_NOMEM, "compare: out of memory");
    if (st == KILN_OK) {
        cJSON *doc = cJSON_Parse(json);
        cJSON_AddStringToObject(doc, "markdown", md);
        *out = kiln_api_print(doc);
        cJSON_Delete(doc);
        if (!*out)
            st = kiln_fail(KILN_E_NOMEM, "compare: out of memory");
    }
    free(json);
    free(md);
    return st;
}

int kiln_api_compare(const char *base, const char *cand, const char *options, char **out) {
    *out = NULL;
    if (!base || !cand)
        return kiln_fail(KILN_E_INVALID, "compare: needs a base and a new result");
    kiln_api_lock();
    struct kiln_api_opts o;
    enum kiln_status st = kiln_api_opts_parse("compare", options, "threshold,alpha,cpu,db,machine,junit,base_label,new_label", &o);
    if (st == KILN_OK)
        st = compare(base, cand, &o, out);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}

int kiln_api_history_store(const char *db, const char *gbench_json, const char *source, int64_t *run_id) {
    if (!db || !gbench_json)
        return kiln_fail(KILN_E_INVALID, "history_store: needs a database path and results");
    kiln_api_lock();
    struct kiln_gb_file f;
    enum kiln_status st = kiln_gb_parse_text("the results", gbench_json, strlen(gbench_json), &f);
    struct kiln_history *h = NULL;
    if (st == KILN_OK)
        st = kiln_history_open(db, true, &h);
    if (st == KILN_OK)
        st = kiln_history_append(h, &f, source ? source : "python", run_id);
    kiln_history_close(h);
    if (f.entries)
        kiln_gb_free(&f);
    kiln_api_unlock();
    return st;
}

static cJSON *number_or_null(double v) { return v == v ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

int kiln_api_history(const char *db, const char *options, char **out) {
    *out = NULL;
    if (!db)
        return kiln_fail(KILN_E_INVALID, "history: needs a database path");
    kiln_api_lock();
    struct kiln_api_opts o;
    const char *name = NULL, *machine = NULL;
    double threshold = 0.05, alpha = 0.05;
    int64_t window = 5;
    enum kiln_status st = kiln_api_opts_parse("history", options, "name,machine,threshold,alpha,window", &o);
    if (st == KILN_OK) st = kiln_api_opt_string(&o, "name", &name);
    if (st == KILN_OK) st = kiln_api_opt_string(&o, "machine", &machine);
    if (st == KILN_OK) st = kiln_api_opt_double(&o, "threshold", 0, 100, &threshold);
    if (st == KILN_OK) st = kiln_api_opt_double(&o, "alpha", 1e-12, 0.999999, &alpha);
    if (st == KILN_OK) st = kiln_api_opt_int(&o, "window", 2, 64, &window);
    struct kiln_history *h = NULL;
    struct kiln_history_series *s = NULL;
    int n = 0;
    if (st == KILN_OK) st = kiln_history_open(db, false, &h);
    if (st == KILN_OK) st = kiln_history_series(h, name, machine, &s, &n);
    kiln_history_close(h);
    if (st == KILN_OK) {
        cJSON *doc = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            kiln_history_mark_changes(&s[i], threshold, alpha, (int)window);
            cJSON *so = cJSON_CreateObject();
            cJSON_AddStringToObject(so, "name", s[i].name);
            cJSON_AddStringToObject(so, "machine", s[i].machine);
            cJSON *pts = cJSON_AddArrayToObject(so, "points");
            for (int j = 0; j < s[i].n; j++) {
                const struct kiln_history_point *p = &s[i].points[j];
                cJSON *po = cJSON_CreateObject();
                cJSON_AddNumberToObject(po, "run", (double)p->run_id);
                cJSON_AddStringToObject(po, "commit", p->commit);
                cJSON_AddStringToObject(po, "date", p->date);
                cJSON_AddItemToObject(po, "median_s", number_or_null(p->median));
                cJSON_AddNumberToObject(po, "reps", p->n_samples);
                cJSON_AddNumberToObject(po, "change", p->change);
                cJSON_AddBoolToObject(po, "unconfirmed", p->unconfirmed);
                cJSON_AddItemToObject(po, "step", number_or_null(p->step));
                cJSON_AddItemToObject(po, "p_value", number_or_null(p->p));
                cJSON_AddItemToArray(pts, po);
            }
            cJSON_AddItemToArray(doc, so);
        }
        *out = kiln_api_print(doc);
        cJSON_Delete(doc);
        if (!*out)
            st = kiln_fail(KILN_E_NOMEM, "history: out of memory");
    }
    kiln_history_series_free(s, n);
    kiln_api_opts_free(&o);
    kiln_api_unlock();
    return st;
}
