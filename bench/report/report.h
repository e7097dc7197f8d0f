// Human-readable benchmark output: a table (default), CSV or Markdown, one row per benchmark
// with its median time, noise, achieved rates and the fraction of the roofline.
#pragma once

#include <stdio.h>

#include "bench/ops/bench_ops.h"
#include "bench/timing/roofline.h"

enum kiln_report_format { KILN_REPORT_TABLE, KILN_REPORT_CSV, KILN_REPORT_MD, KILN_REPORT_JSON };

bool kiln_report_format_parse(const char *text, enum kiln_report_format *out);
void kiln_report_header(FILE *f, enum kiln_report_format fmt);
void kiln_report_row(FILE *f, enum kiln_report_format fmt, const struct kiln_bench_entry *e,
                     const struct kiln_ceilings *c);
void kiln_report_ceilings(FILE *f, enum kiln_report_format fmt, const char *device,
                          const struct kiln_ceilings *c);

// True if the comma-separated `list` names `item` (NULL = every item).
bool kiln_list_has(const char *list, const char *item);
