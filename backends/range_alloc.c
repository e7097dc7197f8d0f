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

// ---- block pools (range_alloc.h) ----

static enum kiln_status pool_block_new(struct kiln_block_pool *p, uint64_t size, struct kiln_pool_block **out) {
    KILN_TRY(p->block_new(p->ctx, size, out));
    if (!kiln_ranges_init(&(*out)->ranges, size)) {
        p->block_free(p->ctx, *out);
        return kiln_fail(KILN_E_NOMEM, "out of host memory");
    }
    (*out)->next = p->blocks;
    p->blocks = *out;
    return KILN_OK;
}

enum kiln_status kiln_pool_take(struct kiln_block_pool *p, uint64_t size, struct kiln_pool_block **block,
                                uint64_t *offset) {
    for (struct kiln_pool_block *b = p->blocks; b; b = b->next) {
        if (kiln_ranges_take(&b->ranges, size, offset)) {
            *block = b;
            return KILN_OK;
        }
    }
    struct kiln_pool_block *b = NULL;
    const uint64_t want = size > p->block_size ? size : p->block_size;
    enum kiln_status st = pool_block_new(p, want, &b);
    if (st != KILN_OK && want > size)  // a block of just this size may still fit
        st = pool_block_new(p, size, &b);
    KILN_TRY(st);
    kiln_ranges_take(&b->ranges, size, offset);
    *block = b;
    return KILN_OK;
}

void kiln_pool_give(struct kiln_block_pool *p, struct kiln_pool_block *block, uint64_t offset, uint64_t size) {
    kiln_ranges_give(&block->ranges, offset, size);
    if (!kiln_ranges_empty(&block->ranges) || (p->blocks == block && !block->next))
        return;  // in use, or the only block (kept for the next allocation)
    for (struct kiln_pool_block **q = &p->blocks; *q; q = &(*q)->next) {
        if (*q == block) {
            *q = block->next;
            kiln_ranges_release(&block->ranges);
            p->block_free(p->ctx, block);
            return;
        }
    }
}

void kiln_pool_release(struct kiln_block_pool *p) {
    for (struct kiln_pool_block *b = p->blocks, *n; b; b = n) {
        n = b->next;
        kiln_ranges_release(&b->ranges);
        p->block_free(p->ctx, b);
    }
    p->blocks = NULL;
}
