// First-fit range allocation (range_alloc.h).
#include "backends/range_alloc.h"

#include <stdlib.h>

bool kiln_ranges_init(struct kiln_ranges *r, uint64_t size) {
    r->size = size;
    r->free_list = malloc(sizeof *r->free_list);
    if (!r->free_list)
        return false;
    *r->free_list = (struct kiln_range){ 0, size, NULL };
    return true;
}

void kiln_ranges_release(struct kiln_ranges *r) {
    for (struct kiln_range *p = r->free_list, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    r->free_list = NULL;
}

bool kiln_ranges_take(struct kiln_ranges *r, uint64_t size, uint64_t *offset) {
    for (struct kiln_range **p = &r->free_list; *p; p = &(*p)->next) {
        struct kiln_range *f = *p;
        if (f->size < size)
            continue;
        *offset = f->offset;
        f->offset += size;
        f->size -= size;
        if (f->size == 0) {
            *p = f->next;
            free(f);
        }
        return true;
    }
    return false;
}

void kiln_ranges_give(struct kiln_ranges *r, uint64_t offset, uint64_t size) {
    struct kiln_range *prev = NULL, *next = r->free_list;
    while (next && next->offset < offset) {
        prev = next;
        next = next->next;
    }
    if (prev && prev->offset + prev->size == offset) {  // merge into the range before
        prev->size += size;
        if (next && prev->offset + prev->size == next->offset) {
            prev->size += next->size;
            prev->next = next->next;
            free(next);
        }
        return;
    }
    if (next && offset + size == next->offset) {  // merge into the range after
        next->offset = offset;
        next->size += size;
        return;
    }
    struct kiln_range *n = malloc(sizeof *n);
    if (!n)
        return;  // the range stays unusable until its block is freed; nothing else breaks
    *n = (struct kiln_range){ offset, size, next };
    if (prev)
        prev->next = n;
    else
        r->free_list = n;
}

bool kiln_ranges_empty(const struct kiln_ranges *r) {
    return r->free_list && r->free_list->offset == 0 && r->free_list->size == r->size;
}
