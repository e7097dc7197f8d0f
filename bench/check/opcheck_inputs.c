// The memo of kiln ops's inputs and reference outputs (opcheck_inputs.h): a flat list searched
// linearly (a run asks for a few thousand entries; the search is nothing beside making one),
// capped in bytes: past MEMO_CAP new entries are simply not kept.
#include "bench/check/opcheck_inputs.h"

#include <stdlib.h>
#include <string.h>

enum { MEMO_CAP = 256u << 20 };

struct entry {
    void *key;
    size_t key_size, size;
    uint64_t extra;
    uint8_t *bytes;
};

static struct entry *entries;
static size_t n_entries, cap_entries, held_bytes;

bool kiln_memo_find(const void *key, size_t key_size, const uint8_t **bytes, size_t *size,
                    uint64_t *extra) {
    for (size_t i = 0; i < n_entries; i++) {
        const struct entry *e = &entries[i];
        if (e->key_size == key_size && memcmp(e->key, key, key_size) == 0) {
            *bytes = e->bytes;
            *size = e->size;
            *extra = e->extra;
            return true;
        }
    }
    return false;
}

void kiln_memo_keep(const void *key, size_t key_size, const void *bytes, size_t size,
                    uint64_t extra) {
    if (held_bytes + size + key_size > MEMO_CAP)
        return;
    if (n_entries == cap_entries) {
        const size_t cap = cap_entries ? 2 * cap_entries : 256;
        struct entry *grown = realloc(entries, cap * sizeof *grown);
        if (!grown)
            return;
        entries = grown;
        cap_entries = cap;
    }
    void *k = malloc(key_size);
    uint8_t *b = malloc(size ? size : 1);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    memcpy(k, key, key_size);
    memcpy(b, bytes, size);
    entries[n_entries++] = (struct entry){ k, key_size, size, extra, b };
    held_bytes += size + key_size;
}

void kiln_memo_clear(void) {
    for (size_t i = 0; i < n_entries; i++) {
        free(entries[i].key);
        free(entries[i].bytes);
    }
    free(entries);
    entries = NULL;
    n_entries = cap_entries = held_bytes = 0;
}
