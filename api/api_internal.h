// Shared by the API's files: the call lock, the device layer's lifetime, option reading.
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

// One call at a time (the device layer and the converter's terminal state are per process).
void kiln_api_lock(void);
void kiln_api_unlock(void);

// Starts the device layer for (threads, backends), restarting it when a call asks for other
// ones; KILN_E_INVALID while models are open on the current one.
enum kiln_status kiln_api_ensure_init(int threads, const char *backends);
void kiln_api_models_changed(int delta);  // open models pin the device layer

// Options: a parsed JSON object, keys checked against the call's list.
struct kiln_api_opts {
    cJSON *root;   // NULL: no options
    const char *call;
};
enum kiln_status kiln_api_opts_parse(const char *call, const char *text, const char *allowed,
                                     struct kiln_api_opts *o);
void kiln_api_opts_free(struct kiln_api_opts *o);
// Each returns KILN_E_INVALID (naming the key and what it should be) for a value of the wrong kind.
enum kiln_status kiln_api_opt_string(const struct kiln_api_opts *o, const char *key, const char **out);
enum kiln_status kiln_api_opt_int(const struct kiln_api_opts *o, const char *key, int64_t min, int64_t max,
                                  int64_t *out);
enum kiln_status kiln_api_opt_double(const struct kiln_api_opts *o, const char *key, double min, double max,
                                     double *out);
enum kiln_status kiln_api_opt_bool(const struct kiln_api_opts *o, const char *key, bool *out);

// cJSON text -> a malloc'd copy the caller frees with kiln_api_free (free()).
char *kiln_api_print(cJSON *doc);
// A device chosen for timing: named by `backends`, or every non-emulated one when NULL.
bool kiln_api_device_selected(const struct kiln_device *dev, const char *backends);
