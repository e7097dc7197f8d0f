// Whole-or-absent output files (out_file.h).
#include "quant/file/out_file.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The temporaries open now, for the signal handler: fixed slots, written before a slot is marked
// used and read only by unlink() in the handler (async-signal-safe).
#define SLOTS 16
static char slot_path[SLOTS][4128];
static volatile sig_atomic_t slot_used[SLOTS];

static int slot_take(const char *tmp) {
    for (int i = 0; i < SLOTS; i++)
        if (!slot_used[i]) {
            snprintf(slot_path[i], sizeof slot_path[i], "%s", tmp);
            slot_used[i] = 1;
            return i;
        }
    return -1;
}

static void slot_release(int i) {
    if (i >= 0)
        slot_used[i] = 0;
}

static void on_signal(int sig) {
    for (int i = 0; i < SLOTS; i++)
        if (slot_used[i])
            unlink(slot_path[i]);
    signal(sig, SIG_DFL);  // then die of the signal, so the parent sees what happened
    raise(sig);
}

void kiln_out_cleanup_on_signals(void) {
    const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        sigaction(sigs[i], NULL, &old);
        if (old.sa_handler == SIG_IGN)
            continue;  // e.g. nohup: keep ignoring it
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGXFSZ, SIG_IGN);
}

enum kiln_status kiln_out_open(struct kiln_out_file *o, const char *path) {
    memset(o, 0, sizeof *o);
    o->slot = -1;
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp-%d", path, (int)getpid());
    // The slot is taken before the file exists: a signal between the two finds nothing to unlink.
    o->slot = slot_take(o->tmp);
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        const int e = errno;
        slot_release(o->slot);
        return kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(e));
    }
    return KILN_OK;
}

bool kiln_out_write(struct kiln_out_file *o, const void *p, size_t n) {
    if (o->err)
        return false;
    if (n && fwrite(p, 1, n, o->f) != n) {
        o->err = errno ? errno : EIO;
        return false;
    }
    return true;
}

void kiln_out_discard(struct kiln_out_file *o) {
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    remove(o->tmp);
    slot_release(o->slot);
    o->slot = -1;
}

enum kiln_status kiln_out_commit(struct kiln_out_file *o) {
    if (!o->err && ferror(o->f))  // written with fprintf on o->f (the SVG plots)
        o->err = errno ? errno : EIO;
    if (!o->err && fflush(o->f) != 0)
        o->err = errno;
    // fsync before the rename: after a crash PATH is the old file or the whole new one.
    if (!o->err && fsync(fileno(o->f)) != 0 && errno != EINVAL)  // EINVAL: a pipe or special file
        o->err = errno;
    if (fclose(o->f) != 0 && !o->err)
        o->err = errno;
    o->f = NULL;
    if (o->err) {
        const int e = o->err;
        kiln_out_discard(o);
        return kiln_fail(KILN_E_IO, "writing %s failed: %s (nothing written; the temporary was removed)",
                         o->path, strerror(e));
    }
    if (rename(o->tmp, o->path) != 0) {
        const int e = errno;
        kiln_out_discard(o);
        return kiln_fail(KILN_E_IO, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(e));
    }
    slot_release(o->slot);
    o->slot = -1;
    return KILN_OK;
}
