// Reading Google Benchmark JSON files (kiln's, and any other program's) for `kiln compare`.
// Tolerant as spec/benchmark-json.md §6.4 asks: GB's bare NaN/Infinity tokens are turned into
// null before cJSON parses, unknown fields are ignored, optional fields may be absent.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/status.h"

struct kiln_gb_entry {
    char name[256], run_name[256], aggregate_name[32], time_unit[4], label[200];
    bool aggregate, failed;       // failed: error_occurred or skipped
    bool has_times;
    int64_t family, instance, repetition;  // -1 where absent
    double real, cpu;             // in seconds (converted from time_unit)
    double bytes_per_second, flops;  // counters, NaN where absent
};

struct kiln_gb_file {
    struct kiln_gb_entry *entries;
    int n;
    char host[128], date[64];
    char ceilings[8][2][200];     // kiln's context: {device, "read_bw=... fma_flops=..."}
    int n_ceilings;
    // The run's identity, for the results history (history_db.h); "" where the file lacks it.
    char commit[64];              // kiln_git_commit
    char machine[160];            // kiln_machine, or derived from the CPU's name and count
    char cpu[200];                // the CPU's description
    char isa[200];                // kiln_isa
    char gpu[400], driver[400];   // the non-CPU devices' descriptions and drivers, "; "-separated
    char build[200];              // library_version, kiln_build_type, kiln_compiler
    char executable[256];
};

// Loads and validates `path`; KILN_E_IO / KILN_E_FORMAT with a message naming the file and the
// problem (not JSON, no "benchmarks" array, an entry without a name or times, zero repetitions,
// json_schema_version other than 1). Entries come out in compare.py's stable order.
enum kiln_status kiln_gb_load(const char *path, struct kiln_gb_file *out);
// The same from JSON text in memory; `what` names it in messages.
enum kiln_status kiln_gb_parse_text(const char *what, const char *text, size_t size, struct kiln_gb_file *out);

// The machine id results/ and the history use: the CPU model lowercased, parenthesised parts
// dropped, runs of other characters made '-', then "-<cores>c" ("intel-xeon-processor-2c").
void kiln_machine_slug(const char *cpu_model, int cores, char *buf, size_t size);
void kiln_gb_free(struct kiln_gb_file *f);
