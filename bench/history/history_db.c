// The results history in SQLite (history_db.h).
#include "bench/history/history_db.h"
#include "bench/history/history_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


static enum kiln_status db_fail(struct kiln_history *h, const char *what) {
    return kiln_fail(KILN_E_FORMAT, "%s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

// SQLite does not call the busy handler in every race (two connections switching a new file to
// WAL at once, WAL recovery): such a statement gets SQLITE_BUSY at once. Retry it, up to 60 s,
// as the busy timeout would have waited.
static int exec_retrying(struct kiln_history *h, const char *sql, char **msg) {
    int rc;
    for (int waited_ms = 0;; waited_ms += 10) {
        rc = sqlite3_exec(h->db, sql, NULL, NULL, msg);
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || waited_ms >= 60000)
            return rc;
        sqlite3_free(*msg);
        *msg = NULL;
        sqlite3_sleep(10);
    }
}

static enum kiln_status exec(struct kiln_history *h, const char *sql) {
    char *msg = NULL;
    if (exec_retrying(h, sql, &msg) != SQLITE_OK) {
        enum kiln_status st = kiln_fail(KILN_E_FORMAT, "%s: %s", h->path, msg ? msg : sqlite3_errmsg(h->db));
        sqlite3_free(msg);
        return st;
    }
    return KILN_OK;
}

static int64_t query_int(struct kiln_history *h, const char *sql, bool *ok) {
    sqlite3_stmt *st;
    int64_t v = 0;
    *ok = false;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        *ok = true;
    }
    sqlite3_finalize(st);
    return v;
}

static const char *const schema_sql =
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, commit_id TEXT NOT NULL, date TEXT NOT NULL,"
    " time_unix INTEGER NOT NULL, machine TEXT NOT NULL, host TEXT, cpu TEXT, isa TEXT, gpu TEXT,"
    " driver TEXT, build TEXT, executable TEXT, source TEXT,"
    " inserted TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
    "CREATE TABLE entries (run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,"
    " run_name TEXT NOT NULL, run_type TEXT NOT NULL, aggregate_name TEXT, repetition INTEGER,"
    " family INTEGER, instance INTEGER, real_time REAL, cpu_time REAL, bytes_per_second REAL,"
    " flops REAL, failed INTEGER NOT NULL, label TEXT);"
    "CREATE INDEX entries_by_run ON entries(run_id, run_name);"
    "CREATE INDEX runs_by_commit ON runs(commit_id);"
    "CREATE INDEX runs_by_machine ON runs(machine, time_unix);";

// Creates the schema in a new file, or checks an existing file's. Under BEGIN IMMEDIATE, so two
// processes creating the same file at once make it once.
static enum kiln_status check_schema(struct kiln_history *h) {
    KILN_TRY(exec(h, "BEGIN IMMEDIATE"));
    bool ok;
    const int64_t version = query_int(h, "PRAGMA user_version", &ok);
    enum kiln_status st = KILN_OK;
    if (!ok) {
        st = db_fail(h, "reading the schema version");
    } else if (version == 0) {
        const int64_t tables = query_int(h, "SELECT count(*) FROM sqlite_master", &ok);
        if (!ok)
            st = db_fail(h, "reading the schema");
        else if (tables > 0)
            st = kiln_fail(KILN_E_FORMAT, "%s: an SQLite file, but not a kiln results history (it has "
                           "other tables and no kiln schema version)", h->path);
        else if ((st = exec(h, schema_sql)) == KILN_OK) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", KILN_HISTORY_SCHEMA);
            st = exec(h, sql);
        }
    } else if (version > KILN_HISTORY_SCHEMA) {
        st = kiln_fail(KILN_E_FORMAT, "%s: results history of schema %lld, newer than this kiln reads (%d): "
                       "use a newer kiln", h->path, (long long)version, KILN_HISTORY_SCHEMA);
    }
    if (st != KILN_OK) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    return exec(h, "COMMIT");
}

enum kiln_status kiln_history_open(const char *path, bool create, struct kiln_history **out) {
    *out = NULL;
    struct stat sb;
    if (!create && stat(path, &sb) != 0)
        return kiln_fail(KILN_E_IO, "%s: no such results history (kiln bench ... --db %s makes it)", path, path);
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return kiln_fail(KILN_E_IO, "%s: not a regular file", path);
    struct kiln_history *h = calloc(1, sizeof *h);
    if (!h)
        return kiln_fail(KILN_E_NOMEM, "out of memory opening %s", path);
    snprintf(h->path, sizeof h->path, "%s", path);
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        enum kiln_status st = kiln_fail(KILN_E_IO, "%s: cannot open: %s", path,
                                        h->db ? sqlite3_errmsg(h->db) : "out of memory");
        kiln_history_close(h);
        return st;
    }
    sqlite3_extended_result_codes(h->db, 1);
    // Two CI jobs may write at once: wait for the other's lock rather than fail.
    sqlite3_busy_timeout(h->db, 60000);
    enum kiln_status st = exec(h, "PRAGMA journal_mode=WAL");
    if (st == KILN_OK)
        st = exec(h, "PRAGMA foreign_keys=ON");
    if (st == KILN_OK)
        st = check_schema(h);
    if (st != KILN_OK) {
        if (strstr(kiln_last_error(), "not a database"))
            st = kiln_fail(KILN_E_FORMAT, "%s: not an SQLite file (so not a kiln results history)", path);
        kiln_history_close(h);
        return st;
    }
    *out = h;
    return KILN_OK;
}

enum kiln_status kiln_history_check(const char *path) {
    struct kiln_history *h;
    KILN_TRY(kiln_history_open(path, true, &h));
    kiln_history_close(h);
    return KILN_OK;
}

void kiln_history_close(struct kiln_history *h) {
    if (!h)
        return;
    sqlite3_close(h->db);
    free(h);
}

// "2026-12-03T17:43:25+00:00" -> seconds since the epoch (0 if unreadable).
static int64_t rfc3339_to_unix(const char *s) {
    struct tm tm = { 0 };
    int y, mo, d, hh, mm, ss;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mm, &ss) != 6)
        return 0;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = hh, tm.tm_min = mm, tm.tm_sec = ss;
    int64_t t = (int64_t)timegm(&tm);
    const char *z = s + 19;
    while (*z == '.' || (*z >= '0' && *z <= '9'))
        z++;
    int oh = 0, om = 0;
    if ((*z == '+' || *z == '-') && sscanf(z + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*z == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    return t;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void bind_real(sqlite3_stmt *st, int i, double v, bool present) {
    if (present && isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

enum kiln_status kiln_history_append(struct kiln_history *h, const struct kiln_gb_file *f, const char *source,
                                     int64_t *run_id) {
    if (f->n == 0)
        return kiln_fail(KILN_E_INVALID, "%s: nothing to store: the results have no benchmarks", h->path);
    char date[64];
    if (f->date[0]) {
        snprintf(date, sizeof date, "%s", f->date);
    } else {
        const time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    }
    KILN_TRY(exec(h, "BEGIN IMMEDIATE"));
    sqlite3_stmt *run = NULL, *ent = NULL;
    enum kiln_status st = KILN_OK;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO runs (commit_id, date, time_unix, machine, host, cpu, isa, gpu, driver,"
                           " build, executable, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", -1, &run, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db,
                           "INSERT INTO entries (run_id, name, run_name, run_type, aggregate_name, repetition,"
                           " family, instance, real_time, cpu_time, bytes_per_second, flops, failed, label)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &ent, NULL) != SQLITE_OK) {
        st = db_fail(h, "preparing the insert");
        goto done;
    }
    bind_text(run, 1, f->commit[0] ? f->commit : "unknown");
    bind_text(run, 2, date);
    sqlite3_bind_int64(run, 3, rfc3339_to_unix(date));
    bind_text(run, 4, f->machine[0] ? f->machine : "unknown");
    bind_text(run, 5, f->host);
    bind_text(run, 6, f->cpu);
    bind_text(run, 7, f->isa);
    bind_text(run, 8, f->gpu);
    bind_text(run, 9, f->driver);
    bind_text(run, 10, f->build);
    bind_text(run, 11, f->executable);
    bind_text(run, 12, source ? source : "");
    if (sqlite3_step(run) != SQLITE_DONE) {
        st = db_fail(h, "storing the run");
        goto done;
    }
    const int64_t id = sqlite3_last_insert_rowid(h->db);
    for (int i = 0; i < f->n; i++) {
        const struct kiln_gb_entry *e = &f->entries[i];
        sqlite3_reset(ent);
        sqlite3_bind_int64(ent, 1, id);
        bind_text(ent, 2, e->name);
        bind_text(ent, 3, e->run_name);
        bind_text(ent, 4, e->aggregate ? "aggregate" : "iteration");
        if (e->aggregate_name[0])
            bind_text(ent, 5, e->aggregate_name);
        else
            sqlite3_bind_null(ent, 5);
        sqlite3_bind_int64(ent, 6, e->repetition);
        sqlite3_bind_int64(ent, 7, e->family);
        sqlite3_bind_int64(ent, 8, e->instance);
        bind_real(ent, 9, e->real, e->has_times);
        bind_real(ent, 10, e->cpu, e->has_times);
        bind_real(ent, 11, e->bytes_per_second, true);
        bind_real(ent, 12, e->flops, true);
        sqlite3_bind_int(ent, 13, e->failed);
        bind_text(ent, 14, e->label);
        if (sqlite3_step(ent) != SQLITE_DONE) {
            st = db_fail(h, "storing an entry");
            goto done;
        }
    }
    if (run_id)
        *run_id = id;
done:
    sqlite3_finalize(run);
    sqlite3_finalize(ent);
    if (st != KILN_OK) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    return exec(h, "COMMIT");
}

static void column_text(sqlite3_stmt *st, int col, char *dst, size_t size) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

// The commit REF names: "latest" or a unique prefix (on `machine` when given).
static enum kiln_status resolve_commit(struct kiln_history *h, const char *ref, const char *machine,
                                       char *commit, size_t size) {
    sqlite3_stmt *st;
    const bool latest = !strcmp(ref, "latest");
    const char *sql = latest ? "SELECT commit_id FROM runs WHERE (?1 IS NULL OR machine = ?1)"
                               " ORDER BY time_unix DESC, id DESC LIMIT 1"
                             : "SELECT DISTINCT commit_id FROM runs WHERE (?1 IS NULL OR machine = ?1)"
                               " AND substr(commit_id, 1, length(?2)) = ?2 LIMIT 3";
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, "looking up a commit");
    if (machine)
        bind_text(st, 1, machine);
    if (!latest)
        bind_text(st, 2, ref);
    int n = 0;
    char found[3][64];
    while (sqlite3_step(st) == SQLITE_ROW && n < 3)
        column_text(st, 0, found[n++], sizeof found[0]);
    sqlite3_finalize(st);
    const char *where = machine ? " on machine " : "";
    if (n == 0)
        return kiln_fail(KILN_E_INVALID, "%s: no stored run %s%s%s%s", h->path,
                         latest ? "at all" : "of commit ", latest ? "" : ref, where, machine ? machine : "");
    if (n > 1)
        return kiln_fail(KILN_E_INVALID, "%s: commit prefix '%s' is ambiguous (%s, %s%s): give more digits",
                         h->path, ref, found[0], found[1], n > 2 ? ", ..." : "");
    snprintf(commit, size, "%s", found[0]);
    return KILN_OK;
}

enum kiln_status kiln_history_load_ref(struct kiln_history *h, const char *ref, const char *machine,
                                       struct kiln_gb_file *out) {
    memset(out, 0, sizeof *out);
    if (!ref[0])
        return kiln_fail(KILN_E_INVALID, "db: needs a commit or 'latest' (db:4d6d238, db:latest)");
    char commit[64];
    KILN_TRY(resolve_commit(h, ref, machine, commit, sizeof commit));
    sqlite3_stmt *st;
    char m[160] = "";
    if (!machine) {  // which machines ran it
        if (sqlite3_prepare_v2(h->db, "SELECT DISTINCT machine FROM runs WHERE commit_id = ? LIMIT 3", -1, &st,
                               NULL) != SQLITE_OK)
            return db_fail(h, "looking up machines");
        bind_text(st, 1, commit);
        int n = 0;
        char names[3][160];
        while (sqlite3_step(st) == SQLITE_ROW && n < 3)
            column_text(st, 0, names[n++], sizeof names[0]);
        sqlite3_finalize(st);
        if (n > 1)
            return kiln_fail(KILN_E_INVALID, "%s: commit %s was run on several machines (%s, %s%s): pick one "
                             "with --machine", h->path, commit, names[0], names[1], n > 2 ? ", ..." : "");
        snprintf(m, sizeof m, "%s", names[0]);
        machine = m;
    }
    // Each run name's entries from the newest run of this commit and machine that has it.
    const char *sql =
        "SELECT e.name, e.run_name, e.run_type, e.aggregate_name, e.repetition, e.family, e.instance,"
        " e.real_time, e.cpu_time, e.bytes_per_second, e.flops, e.failed, e.label, r.date, r.host, r.id"
        " FROM entries e JOIN runs r ON r.id = e.run_id"
        " WHERE r.commit_id = ?1 AND r.machine = ?2 AND r.id = (SELECT max(r2.id) FROM runs r2"
        "   JOIN entries e2 ON e2.run_id = r2.id WHERE r2.commit_id = ?1 AND r2.machine = ?2"
        "   AND e2.run_name = e.run_name)"
        " ORDER BY r.id, e.rowid";
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, "reading a run");
    bind_text(st, 1, commit);
    bind_text(st, 2, machine);
    int cap = 256;
    out->entries = calloc((size_t)cap, sizeof *out->entries);
    enum kiln_status status = KILN_OK;
    int rc;
    while (out->entries && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            struct kiln_gb_entry *bigger = realloc(out->entries, 2 * (size_t)cap * sizeof *bigger);
            if (!bigger) {
                status = kiln_fail(KILN_E_NOMEM, "out of memory reading %s", h->path);
                break;
            }
            out->entries = bigger;
            cap *= 2;
        }
        struct kiln_gb_entry *e = &out->entries[out->n++];
        memset(e, 0, sizeof *e);
        column_text(st, 0, e->name, sizeof e->name);
        column_text(st, 1, e->run_name, sizeof e->run_name);
        char type[16];
        column_text(st, 2, type, sizeof type);
        e->aggregate = !strcmp(type, "aggregate");
        column_text(st, 3, e->aggregate_name, sizeof e->aggregate_name);
        e->repetition = sqlite3_column_int64(st, 4);
        e->family = sqlite3_column_int64(st, 5);
        e->instance = sqlite3_column_int64(st, 6);
        e->has_times = sqlite3_column_type(st, 7) != SQLITE_NULL && sqlite3_column_type(st, 8) != SQLITE_NULL;
        e->real = sqlite3_column_double(st, 7);
        e->cpu = sqlite3_column_double(st, 8);
        e->bytes_per_second = sqlite3_column_type(st, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 9);
        e->flops = sqlite3_column_type(st, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10);
        e->failed = sqlite3_column_int(st, 11) != 0;
        column_text(st, 12, e->label, sizeof e->label);
        snprintf(e->time_unit, sizeof e->time_unit, "s");
        column_text(st, 13, out->date, sizeof out->date);
        column_text(st, 14, out->host, sizeof out->host);
    }
    sqlite3_finalize(st);
    if (!out->entries)
        status = kiln_fail(KILN_E_NOMEM, "out of memory reading %s", h->path);
    if (status != KILN_OK) {
        kiln_gb_free(out);
        return status;
    }
    snprintf(out->commit, sizeof out->commit, "%s", commit);
    snprintf(out->machine, sizeof out->machine, "%s", machine);
    return KILN_OK;
}

const char *kiln_history_default_path(const char *db_path) {
    if (db_path && db_path[0])
        return db_path;
    const char *env = getenv("KILN_DB");
    return env && env[0] ? env : "results.sqlite";
}

enum kiln_status kiln_results_load(const char *spec, const char *db_path, const char *machine,
                                   struct kiln_gb_file *out) {
    memset(out, 0, sizeof *out);
    if (strncmp(spec, "db:", 3) != 0)
        return kiln_gb_load(spec, out);
    struct kiln_history *h;
    KILN_TRY(kiln_history_open(kiln_history_default_path(db_path), false, &h));
    const enum kiln_status st = kiln_history_load_ref(h, spec + 3, machine, out);
    kiln_history_close(h);
    return st;
}

enum kiln_status kiln_history_store_doc(const char *db_path, const struct cJSON *doc, const char *source,
                                        int64_t *run_id) {
    char *text = cJSON_PrintUnformatted((const cJSON *)doc);
    if (!text)
        return kiln_fail(KILN_E_NOMEM, "out of memory printing the results");
    struct kiln_gb_file f;
    enum kiln_status st = kiln_gb_parse_text("the results", text, strlen(text), &f);
    cJSON_free(text);
    KILN_TRY(st);
    struct kiln_history *h;
    st = kiln_history_open(kiln_history_default_path(db_path), true, &h);
    if (st == KILN_OK) {
        st = kiln_history_append(h, &f, source, run_id);
        kiln_history_close(h);
    }
    kiln_gb_free(&f);
    return st;
}
