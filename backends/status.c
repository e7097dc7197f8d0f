// Thread-local error messages for enum kiln_status (see status.h).
#include "backends/status.h"

#include <stdio.h>

static _Thread_local char last_error[512];

const char *kiln_last_error(void) { return last_error; }

void kiln_clear_error(void) { last_error[0] = '\0'; }

enum kiln_status kiln_fail(enum kiln_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return status;
}

const char *kiln_status_name(enum kiln_status status) {
    switch (status) {
    case KILN_OK: return "KILN_OK";
    case KILN_E_INVALID: return "KILN_E_INVALID";
    case KILN_E_NOMEM: return "KILN_E_NOMEM";
    case KILN_E_UNSUPPORTED: return "KILN_E_UNSUPPORTED";
    case KILN_E_DEVICE: return "KILN_E_DEVICE";
    case KILN_E_IO: return "KILN_E_IO";
    case KILN_E_FORMAT: return "KILN_E_FORMAT";
    }
    return "KILN_E_UNKNOWN";
}
