// Pictures of benchmark files, written as SVG directly (no plotting dependency):
//   roofline: log-log GFLOP/s against arithmetic intensity (FLOP/byte), the measured ceilings
//             min(peak FMA, intensity x read bandwidth) as lines and each benchmark's median as
//             a labelled point; data-movement benchmarks (no FLOPs) are listed with their GB/s;
//   compare:  one horizontal bar per benchmark matched in two files, the relative change of the
//             median time (red slower, green faster), with the threshold marked.
#pragma once

#include "bench/report/gbench_read.h"

enum kiln_status kiln_plot_roofline(const struct kiln_gb_file *f, const char *out_path);
enum kiln_status kiln_plot_compare(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                                   double threshold, const char *out_path);
