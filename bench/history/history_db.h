// The results history: every benchmark run kept in one SQLite file (Debian's libsqlite3; a plain
// file, no server), so a series can be followed across commits (`kiln history`), drawn
// (`kiln plot history`) and compared against (`kiln compare db:COMMIT NEW.json`).
//
// Schema, version 1 (PRAGMA user_version = 1; a file with a higher version is refused, one with
// version 0 and foreign tables is not ours and is refused):
//   runs(id INTEGER PRIMARY KEY, commit_id TEXT, date TEXT (RFC 3339, the run's), time_unix
//        INTEGER, machine TEXT (results/<machine>/'s id), host TEXT, cpu TEXT, isa TEXT,
//        gpu TEXT, driver TEXT, build TEXT, executable TEXT, source TEXT (what stored it:
//        "bench ops", "bench model", "import FILE", "python"), inserted TEXT (UTC))
//   entries(run_id INTEGER REFERENCES runs(id), name TEXT, run_name TEXT, run_type TEXT
//        ('iteration' | 'aggregate'), aggregate_name TEXT, repetition INTEGER, family INTEGER,
//        instance INTEGER, real_time REAL, cpu_time REAL (seconds; a cv aggregate: the
//        fraction; NULL where absent), bytes_per_second REAL, flops REAL, failed INTEGER
//        (error or skip), label TEXT)
//   indexes: entries(run_id, run_name), runs(commit_id), runs(machine, time_unix)
// Every entry of a Google Benchmark file is kept, repetitions included, so a comparison against
// the history runs the same U test as one against the file.
//
// Concurrent writers (two CI jobs appending at once) are safe: the file is in WAL mode, every
// connection waits up to 60 s for a lock (busy timeout), and a run goes in as one BEGIN
// IMMEDIATE transaction, so a reader sees a run whole or not at all.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bench/report/gbench_read.h"

enum { KILN_HISTORY_SCHEMA = 1 };

struct kiln_history;

// Opens PATH; `create` makes it (and its schema) when absent, otherwise absence is KILN_E_IO.
// KILN_E_FORMAT for a file that is not SQLite, not kiln's, or of a newer schema.
enum kiln_status kiln_history_open(const char *path, bool create, struct kiln_history **out);
void kiln_history_close(struct kiln_history *h);
// Opens (creating) and closes PATH: a benchmark checks its --db before a long run, not after.
enum kiln_status kiln_history_check(const char *path);

// Appends one run: the file's identity (commit, machine, ...) and all its entries.
enum kiln_status kiln_history_append(struct kiln_history *h, const struct kiln_gb_file *f, const char *source,
                                     int64_t *run_id);

// The entries stored for REF as a benchmark file, for `kiln compare db:REF`:
//   REF = a commit (any unique prefix of a stored commit id) or "latest" (the newest run's commit).
// Of the runs of that commit on `machine` (NULL: the only machine that has some; several is an
// error that names them), each benchmark's entries come from the newest run that has it.
enum kiln_status kiln_history_load_ref(struct kiln_history *h, const char *ref, const char *machine,
                                       struct kiln_gb_file *out);

struct kiln_history_point {
    int64_t run_id, time_unix;
    char commit[64], date[64];
    double median;       // seconds: median of the repetitions (or the stored median aggregate)
    double *samples;     // the repetitions' real times
    int n_samples;
    // change-point marks (kiln_history_mark_changes)
    int change;          // 0 none, +1 a confirmed step slower, -1 a confirmed step faster
    bool unconfirmed;    // a step in the newest run alone (not yet confirmed by the next)
    double step;         // relative change of the step: (after - before) / before
    double p;            // U test of the repetitions before vs after (NaN: too few)
};

struct kiln_history_series {
    char name[256], machine[160];
    struct kiln_history_point *points;  // oldest first (run date, then insertion)
    int n;
};

// Every series (machine x benchmark run name) whose name matches the POSIX extended regex
// `name_regex` (NULL: all) on `machine` (NULL: all), without failed entries or the roofline
// probes unless the regex names them.
enum kiln_status kiln_history_series(struct kiln_history *h, const char *name_regex, const char *machine,
                                     struct kiln_history_series **out, int *n_out);
void kiln_history_series_free(struct kiln_history_series *s, int n);

// Change points (history_series.c): marks each series' points.
//   Run i starts a step when its median and the next run's both differ from the median of the
//   runs before it (up to `window` of them, back to the previous step) by more than `threshold`
//   in the same direction, and the U test of the repetitions before against those of runs i and
//   i+1 gives p < alpha (or there are too few repetitions to test). `step` is run i's change
//   against that median. One run off with the next back is noise, not a step; a step in the
//   newest run alone is marked unconfirmed until a later run agrees.
void kiln_history_mark_changes(struct kiln_history_series *s, double threshold, double alpha, int window);

// A benchmark source as `kiln compare` and the pytest plugin take it: a Google Benchmark JSON
// file, or "db:REF" read from the history at `db_path` (NULL: KILN_DB, else results.sqlite).
enum kiln_status kiln_results_load(const char *spec, const char *db_path, const char *machine,
                                   struct kiln_gb_file *out);
// The history file `db_path` names, or KILN_DB's, or "results.sqlite".
const char *kiln_history_default_path(const char *db_path);

// Appends a Google Benchmark document (as kiln bench writes it) to the history at db_path,
// creating it if needed; prints nothing.
struct cJSON;
enum kiln_status kiln_history_store_doc(const char *db_path, const struct cJSON *doc, const char *source,
                                        int64_t *run_id);
