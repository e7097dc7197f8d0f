// The fuzz targets' input as a file (kiln's readers map files): writes data to a fresh
// temporary and returns its path in `path` (a "/tmp/kiln-fuzz-TAG-XXXXXX[suffix]" buffer),
// false if it could not be written whole. The caller unlinks it.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline bool kiln_fuzz_input_file(const uint8_t *data, size_t size, char *path, int suffix_len) {
    const int fd = mkstemps(path, suffix_len);
    if (fd < 0)
        return false;
    const ssize_t written = write(fd, data, size);
    close(fd);
    if (written != (ssize_t)size) {
        unlink(path);
        return false;
    }
    return true;
}
