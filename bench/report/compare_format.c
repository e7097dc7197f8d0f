// The renderers of a comparison (compare.h): terminal text, Markdown, JUnit XML, JSON. Each
// prints the same rows kiln_compare_compute made, so the exit status, the pull-request comment
// and the CI test report can never disagree.
#include "bench/report/compare.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/file/out_file.h"

static const char *verdict_text(const struct kiln_compare_row *row) {
    if (row->verdict == KILN_CMP_SLOWER)
        return row->tested ? "SLOWER" : "SLOWER (untested: < 2 repetitions)";
    if (row->verdict == KILN_CMP_FASTER)
        return row->tested ? "faster" : "faster (untested: < 2 repetitions)";
    return kiln_compare_verdict_name(row->verdict);
}

static bool compared(const struct kiln_compare_row *row) {
    return row->verdict <= KILN_CMP_FASTER;
}

void kiln_compare_print_text(FILE *f, const struct kiln_compare_result *r) {
    fprintf(f, "%-60s %12s %12s %9s %8s  %s\n", "benchmark", "old (us)", "new (us)", "change", "p-value",
            "verdict");
    for (int i = 0; i < r->n_rows; i++) {
        const struct kiln_compare_row *row = &r->rows[i];
        if (!compared(row)) {
            if (row->verdict == KILN_CMP_NOT_COMPARED)
                fprintf(f, "%-60s %12s %12s %9s %8s  not compared: %s\n", row->name, "", "", "", "", row->why);
            else
                fprintf(f, "%-60s %12s %12s %9s %8s  %s (%s)\n", row->name, "", "", "", "",
                        kiln_compare_verdict_name(row->verdict), row->why);
            continue;
        }
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, row->tested ? "%.4f" : "-", row->p);
        fprintf(f, "%-60s %12.3f %12.3f %+8.1f%% %8s  %s%s\n", row->name, row->old_median * 1e6,
                row->new_median * 1e6, row->change * 100, pbuf, verdict_text(row),
                row->tested && (row->n_old < 9 || row->n_new < 9) ? " (fewer than 9 repetitions)" : "");
    }
    if (!isnan(r->geomean_change))
        fprintf(f, "%-60s %12s %12s %+8.1f%%\n", "OVERALL_GEOMEAN (medians, matched names)", "", "",
                r->geomean_change * 100);
}

// A Markdown table cell: '|' and newlines would end the cell, backquotes the code span.
static void md_cell(FILE *f, const char *s) {
    fputc('`', f);
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s == '`' ? '\'' : *s == '\n' ? ' ' : *s, f);
    }
    fputc('`', f);
}

void kiln_compare_print_markdown(FILE *f, const struct kiln_compare_result *r) {
    const struct kiln_compare_summary *s = &r->sum;
    fprintf(f, "### kiln compare: %s\n\n", s->slower ? "regression" : "no regression");
    fprintf(f, "%d slower, %d faster, %d same, %d noisy; %d not compared, %d added, %d removed "
               "(threshold %.1f%%, alpha %.3g", s->slower, s->faster, s->same, s->noisy, s->failed,
            s->added, s->removed, r->opts.threshold * 100, r->opts.alpha);
    if (!isnan(r->geomean_change))
        fprintf(f, "; geometric mean of the medians' changes %+.1f%%", r->geomean_change * 100);
    fprintf(f, ")\n\n");
    if (r->base_label[0] || r->new_label[0]) {
        fprintf(f, "base: ");
        md_cell(f, r->base_label);
        fprintf(f, ", new: ");
        md_cell(f, r->new_label);
        fprintf(f, "\n\n");
    }
    fprintf(f, "| benchmark | base (us) | new (us) | change | p-value | verdict |\n");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | --- |\n");
    // Regressions first: the line a reviewer must see should not be below the fold.
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < r->n_rows; i++) {
            const struct kiln_compare_row *row = &r->rows[i];
            if ((row->verdict == KILN_CMP_SLOWER) != (pass == 0))
                continue;
            fprintf(f, "| ");
            md_cell(f, row->name);
            if (!compared(row)) {
                fprintf(f, " |  |  |  |  | %s (%s) |\n", kiln_compare_verdict_name(row->verdict), row->why);
                continue;
            }
            char pbuf[16];
            snprintf(pbuf, sizeof pbuf, row->tested ? "%.4f" : "-", row->p);
            const bool bold = row->verdict == KILN_CMP_SLOWER;
            fprintf(f, " | %.3f | %.3f | %+.1f%% | %s | %s%s%s |\n", row->old_median * 1e6, row->new_median * 1e6,
                    row->change * 100, pbuf, bold ? "**" : "", verdict_text(row), bold ? "**" : "");
        }
    }
}

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c < 0x20 && c != '\t' && c != '\n') fputc(' ', f);  // not allowed in XML 1.0
        else fputc(c, f);
    }
}

void kiln_compare_print_junit(FILE *f, const struct kiln_compare_result *r) {
    const struct kiln_compare_summary *s = &r->sum;
    const int tests = r->n_rows;
    const int skipped = s->noisy + s->failed + s->added + s->removed;
    double total = 0;
    for (int i = 0; i < r->n_rows; i++)
        if (compared(&r->rows[i]))
            total += r->rows[i].new_median;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"kiln compare\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.9f\">\n",
            tests, s->slower, skipped, total);
    fprintf(f, "  <testsuite name=\"kiln compare\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.9f\">\n",
            tests, s->slower, skipped, total);
    fprintf(f, "    <properties>\n");
    fprintf(f, "      <property name=\"threshold\" value=\"%g\"/>\n", r->opts.threshold);
    fprintf(f, "      <property name=\"alpha\" value=\"%g\"/>\n", r->opts.alpha);
    fprintf(f, "      <property name=\"base\" value=\"");
    xml_text(f, r->base_label);
    fprintf(f, "\"/>\n      <property name=\"new\" value=\"");
    xml_text(f, r->new_label);
    fprintf(f, "\"/>\n    </properties>\n");
    for (int i = 0; i < r->n_rows; i++) {
        const struct kiln_compare_row *row = &r->rows[i];
        // classname: the part before the first '/', the op (matmul, model, roofline), so CI
        // systems group the cases; the test name is the whole benchmark name.
        const char *slash = strchr(row->name, '/');
        const int cl = slash ? (int)(slash - row->name) : (int)strlen(row->name);
        char klass[300];
        snprintf(klass, sizeof klass, "kiln.%.*s", cl, row->name);
        fprintf(f, "    <testcase classname=\"");
        xml_text(f, klass);
        fprintf(f, "\" name=\"");
        xml_text(f, row->name);
        fprintf(f, "\" time=\"%.9f\"", compared(row) ? row->new_median : 0.0);
        char msg[512];
        if (row->verdict == KILN_CMP_SLOWER) {
            snprintf(msg, sizeof msg, "slower by %.1f%% (median %.3f us -> %.3f us, p=%s%.4g; threshold %.1f%%)",
                     row->change * 100, row->old_median * 1e6, row->new_median * 1e6,
                     row->tested ? "" : "untested ", row->tested ? row->p : 0.0, r->opts.threshold * 100);
            fprintf(f, ">\n      <failure type=\"regression\" message=\"");
            xml_text(f, msg);
            fprintf(f, "\">");
            xml_text(f, msg);
            fprintf(f, "</failure>\n    </testcase>\n");
        } else if (row->verdict == KILN_CMP_NOISY || !compared(row)) {
            if (row->verdict == KILN_CMP_NOISY)
                snprintf(msg, sizeof msg, "noisy: %+.1f%% but not significant (p=%.4g >= %g)", row->change * 100,
                         row->p, r->opts.alpha);
            else
                snprintf(msg, sizeof msg, "%s: %s", kiln_compare_verdict_name(row->verdict), row->why);
            fprintf(f, ">\n      <skipped message=\"");
            xml_text(f, msg);
            fprintf(f, "\"/>\n    </testcase>\n");
        } else {
            snprintf(msg, sizeof msg, "%s: %+.1f%% (median %.3f us -> %.3f us)", verdict_text(row),
                     row->change * 100, row->old_median * 1e6, row->new_median * 1e6);
            fprintf(f, ">\n      <system-out>");
            xml_text(f, msg);
            fprintf(f, "</system-out>\n    </testcase>\n");
        }
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
}

enum kiln_status kiln_compare_save_junit(const char *path, const struct kiln_compare_result *r) {
    struct kiln_out_file o;
    KILN_TRY(kiln_out_open(&o, path));
    kiln_compare_print_junit(o.f, r);
    return kiln_out_commit(&o);
}

static void add_number(cJSON *o, const char *key, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

char *kiln_compare_to_json(const struct kiln_compare_result *r) {
    cJSON *doc = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(doc, "summary");
    cJSON_AddNumberToObject(s, "slower", r->sum.slower);
    cJSON_AddNumberToObject(s, "faster", r->sum.faster);
    cJSON_AddNumberToObject(s, "same", r->sum.same);
    cJSON_AddNumberToObject(s, "noisy", r->sum.noisy);
    cJSON_AddNumberToObject(s, "not_compared", r->sum.failed);
    cJSON_AddNumberToObject(s, "added", r->sum.added);
    cJSON_AddNumberToObject(s, "removed", r->sum.removed);
    cJSON_AddNumberToObject(doc, "threshold", r->opts.threshold);
    cJSON_AddNumberToObject(doc, "alpha", r->opts.alpha);
    add_number(doc, "geomean_change", r->geomean_change);
    cJSON_AddStringToObject(doc, "base", r->base_label);
    cJSON_AddStringToObject(doc, "new", r->new_label);
    cJSON *rows = cJSON_AddArrayToObject(doc, "rows");
    for (int i = 0; i < r->n_rows; i++) {
        const struct kiln_compare_row *row = &r->rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", row->name);
        cJSON_AddStringToObject(o, "verdict", kiln_compare_verdict_name(row->verdict));
        add_number(o, "old_median_s", row->old_median);
        add_number(o, "new_median_s", row->new_median);
        add_number(o, "change", row->change);
        add_number(o, "p_value", row->p);
        cJSON_AddNumberToObject(o, "n_old", row->n_old);
        cJSON_AddNumberToObject(o, "n_new", row->n_new);
        cJSON_AddBoolToObject(o, "tested", row->tested);
        if (row->why)
            cJSON_AddStringToObject(o, "why", row->why);
        cJSON_AddItemToArray(rows, o);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return NULL;
    char *copy = strdup(text);  // freed with free(), whatever allocator cJSON was built with
    cJSON_free(text);
    return copy;
}
