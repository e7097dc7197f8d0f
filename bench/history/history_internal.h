// The history handle, shared by history_db.c (open, append, load) and history_series.c.
#pragma once

#include <sqlite3.h>

struct kiln_history {
    sqlite3 *db;
    char path[1024];
};
