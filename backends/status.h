// kiln status codes and the thread-local error message.
//
// Every fallible kiln function returns enum kiln_status (KILN_OK = 0, errors negative) and, on
// error, leaves a one-line human message in a thread-local buffer that kiln_last_error() returns.
// Messages name what is wrong ("matmul: x has k=33 but W has k=32"), never just a code.
#pragma once

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_status {
    KILN_OK            =  0,
    KILN_E_INVALID     = -1,  // bad argument: shapes that do not fit, mismatched types, bad option
    KILN_E_NOMEM       = -2,  // host or device allocation failed
    KILN_E_UNSUPPORTED = -3,  // valid request this device/kernel/type cannot do
    KILN_E_DEVICE      = -4,  // driver or runtime call failed
    KILN_E_IO          = -5,  // file system error
    KILN_E_FORMAT      = -6,  // malformed or hostile file contents
};

// The message of the last error set on this thread ("" if none).
const char *kiln_last_error(void);

// Short name of a status ("KILN_E_INVALID").
const char *kiln_status_name(enum kiln_status status);

// Sets the thread-local message (printf-style) and returns `status`, so that callers can write
// `return kiln_fail(KILN_E_INVALID, "matmul: ...", ...);`.
enum kiln_status kiln_fail(enum kiln_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Clears the thread-local message.
void kiln_clear_error(void);

// Propagates a non-OK status from a call, leaving its message in place.
#define KILN_TRY(expr)                                  \
    do {                                                \
        enum kiln_status kiln_try_status_ = (expr);     \
        if (kiln_try_status_ != KILN_OK)                \
            return kiln_try_status_;                    \
    } while (0)

#ifdef __cplusplus
}
#endif
