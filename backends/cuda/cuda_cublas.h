// cuBLAS, opened at run time, as the benchmarks' comparator (cuda_cublas.c).
#pragma once

#include <stdbool.h>

#include "backends/status.h"

bool kiln_cuda_cublas_available(void);
// NULL when libcublas was found, else why not (the comparator row's `unavailable`, kernel.h).
const char *kiln_cuda_cublas_unavailable(void);
// Releases a handle made by kiln_cuda_cublas_gemm (NULL is fine).
void kiln_cuda_cublas_destroy(void *handle);
// y (f32, row j at y + j * ldy) = x (f16 rows of k, ld ldx) . W^T (f16 rows of k, ld ldw), m x n;
// *handle is created on first use (one per device) and bound to `stream` (a cudaStream_t).
enum kiln_status kiln_cuda_cublas_gemm(void **handle, void *stream, int m, int n, int k, const void *w_f16,
                                       int ldw, const void *x_f16, int ldx, float *y, int ldy);
