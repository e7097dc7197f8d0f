// Small whole files read into memory (file_read.h).
#include "quant/file/file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kiln_status kiln_read_whole_file(const char *path, size_t max_bytes, void **data, size_t *size) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return kiln_fail(KILN_E_IO, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = NULL;
    enum kiln_status s = KILN_OK;
    if (n <= 0)
        s = kiln_fail(KILN_E_FORMAT, "%s: empty or unreadable", path);
    else if ((unsigned long)n > max_bytes)
        s = kiln_fail(KILN_E_FORMAT, "%s: %ld bytes, more than the %zu kiln reads for such a file", path, n, max_bytes);
    else if (!(buf = malloc((size_t)n + 1)))
        s = kiln_fail(KILN_E_NOMEM, "%s: out of memory", path);
    else if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        s = kiln_fail(KILN_E_IO, "%s: cannot read", path);
    fclose(f);
    if (s != KILN_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *data = buf;
    *size = (size_t)n;
    return KILN_OK;
}

enum kiln_status kiln_load_json_file(const char *path, size_t max_bytes, cJSON **out) {
    void *text;
    size_t n;
    *out = NULL;
    const enum kiln_status s = kiln_read_whole_file(path, max_bytes, &text, &n);
    if (s != KILN_OK)
        return s;
    *out = cJSON_Parse(text);
    free(text);
    return *out ? KILN_OK : kiln_fail(KILN_E_FORMAT, "%s: not valid JSON", path);
}
