// `kiln plot history`: each series of the results history (bench/history/history_db.h) as a
// line of its median time relative to the series' first run, over the runs in time order (one
// x position per stored run, labelled with its commit), change points ringed (red: slower,
// green: faster; hollow: unconfirmed). SVG, written whole or not at all.
#pragma once

#include "bench/history/history_db.h"

enum kiln_status kiln_plot_history(const struct kiln_history_series *s, int n, double threshold,
                                   const char *out_path);
