// The GEMVs' column count as a compile-time constant (matmul_cuda.cu, matmul_dp4a_cuda.cu): their
// per-column accumulators are arrays indexed by unrolled constants only in an instance built
// for that count (a run-time count put them in local memory). `launch(N)` is called with
// std::integral_constant<int, N>, N = n for n = 1 .. 7 and 8 for anything larger (the callers'
// supports() keep n <= 8).
#pragma once

#include <type_traits>

template <typename Launch>
static void with_columns(int n, Launch launch) {
    switch (n) {
    case 1: launch(std::integral_constant<int, 1>{}); break;
    case 2: launch(std::integral_constant<int, 2>{}); break;
    case 3: launch(std::integral_constant<int, 3>{}); break;
    case 4: launch(std::integral_constant<int, 4>{}); break;
    case 5: launch(std::integral_constant<int, 5>{}); break;
    case 6: launch(std::integral_constant<int, 6>{}); break;
    case 7: launch(std::integral_constant<int, 7>{}); break;
    default: launch(std::integral_constant<int, 8>{}); break;
    }
}
