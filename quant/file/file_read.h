// Small whole files (config.json, safetensors indexes, tokenizers) read into memory.
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

#include "backends/status.h"

// PATH read whole into *data, a heap buffer followed by a NUL byte (so text parses in place);
// *size gets the byte count. An unreadable, empty or larger-than-max_bytes file fails with a
// message naming it ("PATH: No such file or directory", ...). Free *data with free().
enum kiln_status kiln_read_whole_file(const char *path, size_t max_bytes, void **data, size_t *size);

// PATH read (at most max_bytes) and parsed as JSON into *out ("PATH: not valid JSON" when it
// reads but does not parse). Free *out with cJSON_Delete().
enum kiln_status kiln_load_json_file(const char *path, size_t max_bytes, cJSON **out);
