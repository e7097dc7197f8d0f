// Output files that are either whole or absent (DESIGN.md, Failure and bad input). Every file
// kiln writes (GGUF, benchmark JSON, SVG plots, logits) goes through here:
//   - written to "PATH.tmp-PID" beside PATH and renamed over PATH only when every byte is
//     written, flushed and synced, so the previous PATH stays untouched until then, and of two
//     processes writing PATH at once, one wins whole (rename is atomic; the temporaries differ);
//   - a write error (ENOSPC, EFBIG under `ulimit -f`, EIO) is kept as the first errno, reported in
//     one line naming PATH, and the temporary is removed;
//   - SIGINT, SIGTERM and SIGHUP remove every open temporary before the process dies of the
//     signal (kiln_out_cleanup_on_signals, called once from main); SIGXFSZ is ignored, so a file
//     size limit is a write error (EFBIG) instead of a kill that would leave the temporary.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "backends/status.h"

struct kiln_out_file {
    FILE *f;
    int err;      // first errno of a failed write, 0 while all is well
    int slot;     // in the signal handler's table of temporaries, -1 if none was free
    char path[4096], tmp[4128];
};

enum kiln_status kiln_out_open(struct kiln_out_file *o, const char *path);
// fwrite that remembers the first failure (fprintf on o->f works too: commit checks ferror) (then writes nothing more); false once failed.
bool kiln_out_write(struct kiln_out_file *o, const void *p, size_t n);
// Flushes, syncs, closes and renames into place; on any failure removes the temporary.
enum kiln_status kiln_out_commit(struct kiln_out_file *o);
// Closes and removes the temporary (the job failed elsewhere); PATH is left as it was.
void kiln_out_discard(struct kiln_out_file *o);

void kiln_out_cleanup_on_signals(void);
