// GGUF v3 files (spec/ggml-formats.md §2): a reader that validates everything ggml's loader
// checks (and a few things it should: string and array lengths against the file size) over an
// mmap of the file, and a writer that lays files out exactly as ggml's writer does (tensors
// packed in info order, each padded to the alignment), writing to a temporary name and renaming
// when complete. Little-endian only; a big-endian file is reported as such.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/status.h"
#include "quant/format/types.h"

enum kiln_gguf_type {
    KILN_GGUF_UINT8 = 0, KILN_GGUF_INT8 = 1, KILN_GGUF_UINT16 = 2, KILN_GGUF_INT16 = 3,
    KILN_GGUF_UINT32 = 4, KILN_GGUF_INT32 = 5, KILN_GGUF_FLOAT32 = 6, KILN_GGUF_BOOL = 7,
    KILN_GGUF_STRING = 8, KILN_GGUF_ARRAY = 9, KILN_GGUF_UINT64 = 10, KILN_GGUF_INT64 = 11,
    KILN_GGUF_FLOAT64 = 12, KILN_GGUF_TYPE_COUNT = 13,
};

#define KILN_GGUF_DEFAULT_ALIGNMENT 32
#define KILN_GGUF_MAX_NAME 63   // bytes of a tensor name (ggml: GGML_MAX_NAME 64 with the NUL)

struct kiln_gguf_string {
    const char *data;   // not NUL-terminated in files read; NUL-terminated copies in the writer
    uint64_t len;
};

struct kiln_gguf_value {
    enum kiln_gguf_type type;
    union {
        uint64_t u;     // UINT8..UINT64, BOOL (0/1)
        int64_t i;      // INT8..INT64
        double f;       // FLOAT32, FLOAT64
        struct kiln_gguf_string str;
        struct {
            enum kiln_gguf_type elem;
            uint64_t n;
            const void *data;  // scalars: packed LE values; strings: struct kiln_gguf_string[n]
        } arr;
    };
};

struct kiln_gguf_kv {
    struct kiln_gguf_string key;
    struct kiln_gguf_value value;
};

struct kiln_gguf_tensor {
    char name[KILN_GGUF_MAX_NAME + 1];
    uint32_t n_dims;
    int64_t ne[4];          // missing dims are 1
    enum kiln_type type;
    uint64_t offset;        // relative to the data section
    uint64_t nbytes;
    const void *data;       // reader: into the mapping
};

struct kiln_gguf {
    uint32_t version;
    uint64_t alignment;
    uint64_t n_kv, n_tensors;
    struct kiln_gguf_kv *kv;
    struct kiln_gguf_tensor *tensors;
    uint64_t data_offset;   // start of the data section in the file
    uint64_t file_size;
    void *map;
    char path[512];
};

// Opens and validates `path`. Errors: KILN_E_IO (cannot open/map), KILN_E_FORMAT with a message
// "FILE: what is wrong" (bad magic, unknown version, counts or lengths past the file, bad types,
// tensor data outside the file...).
enum kiln_status kiln_gguf_open(const char *path, struct kiln_gguf **out);
void kiln_gguf_close(struct kiln_gguf *g);

const struct kiln_gguf_kv *kiln_gguf_find(const struct kiln_gguf *g, const char *key);
const struct kiln_gguf_tensor *kiln_gguf_find_tensor(const struct kiln_gguf *g, const char *name);
const char *kiln_gguf_type_name(enum kiln_gguf_type type);
// Element size of a scalar gguf type (0 for STRING and ARRAY).
size_t kiln_gguf_type_size(enum kiln_gguf_type type);

// ---- writer ----

struct kiln_gguf_writer;

struct kiln_gguf_writer *kiln_gguf_writer_new(void);
void kiln_gguf_writer_free(struct kiln_gguf_writer *w);
// Metadata, in the order added (keys must be unique; a duplicate is an error at write time).
enum kiln_status kiln_gguf_add_u32(struct kiln_gguf_writer *w, const char *key, uint32_t v);
enum kiln_status kiln_gguf_add_i32(struct kiln_gguf_writer *w, const char *key, int32_t v);
enum kiln_status kiln_gguf_add_u64(struct kiln_gguf_writer *w, const char *key, uint64_t v);
enum kiln_status kiln_gguf_add_f32(struct kiln_gguf_writer *w, const char *key, float v);
enum kiln_status kiln_gguf_add_bool(struct kiln_gguf_writer *w, const char *key, bool v);
enum kiln_status kiln_gguf_add_string(struct kiln_gguf_writer *w, const char *key, const char *v);
// True if `key` has been added.
bool kiln_gguf_has_key(const struct kiln_gguf_writer *w, const char *key);
// Copies any value (scalars, strings, arrays of scalars or strings), e.g. from a file read.
enum kiln_status kiln_gguf_add_value(struct kiln_gguf_writer *w, const char *key,
                                     const struct kiln_gguf_value *v);
enum kiln_status kiln_gguf_add_array(struct kiln_gguf_writer *w, const char *key,
                                     enum kiln_gguf_type elem, const void *data, uint64_t n);
enum kiln_status kiln_gguf_add_string_array(struct kiln_gguf_writer *w, const char *key,
                                            const char *const *strings, uint64_t n);

// Fills `dst` with tensor `index`'s bytes (nbytes of it) when the file is written.
typedef enum kiln_status (*kiln_gguf_fill_fn)(void *ctx, uint64_t index, void *dst, uint64_t nbytes);

// A tensor whose bytes come from `data` (kept by the caller until the write) or, if data is
// NULL, from fill(ctx, index, ...) at write time, so a converter streams one tensor at a time.
enum kiln_status kiln_gguf_add_tensor(struct kiln_gguf_writer *w, const char *name,
                                      enum kiln_type type, uint32_t n_dims, const int64_t *ne,
                                      const void *data, kiln_gguf_fill_fn fill, void *ctx);

// Writes the file: metadata, infos, data section packed and padded as ggml writes it. The
// alignment is general.alignment if it was added (UINT32, a power of two), else 32. Written to
// "PATH.tmp-PID" and renamed over PATH only when complete.
enum kiln_status kiln_gguf_write(struct kiln_gguf_writer *w, const char *path);
