// cuBLAS as a comparator (kernel.h, `comparator`): `kiln bench ops --backend cuda` times
// cublasGemmEx on the same F16 matmuls as kiln's kernels. cuBLAS is opened with dlopen at
// first use, so kiln neither links it nor needs it installed: without it the comparator row
// is unavailable (kernel.h: `kiln ops` reports it skipped, "libcublas not found") and
// benchmarks simply have no cuBLAS line.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/backend_impl.h"
#include "backends/cuda/cuda_cublas.h"

// The few cuBLAS entry points used, with the C types of cublas_api.h (enums as int).
typedef int (*create_fn)(void **handle);
typedef int (*set_stream_fn)(void *handle, void *stream);
typedef int (*destroy_fn)(void *handle);
typedef int (*gemm_ex_fn)(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                          const void *A, int a_type, int lda, const void *B, int b_type, int ldb,
                          const void *beta, void *C, int c_type, int ldc, int compute_type, int algo);

enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUDA_R_32F = 0, CUDA_R_16F = 2, CUBLAS_COMPUTE_32F = 68,
       CUBLAS_GEMM_DEFAULT = -1 };

static void *library;
static create_fn create;
static set_stream_fn set_stream;
static gemm_ex_fn gemm_ex;
static destroy_fn destroy;
static bool tried;

bool kiln_cuda_cublas_available(void) {
    if (!tried) {
        tried = true;
        // The loader path first, then the toolkit's own directories: a CUDA install puts
        // libcublas in $CUDA_HOME/lib64 (or /usr/local/cuda/lib64), often not on that path.
        static const char *names[] = { "libcublas.so.13", "libcublas.so.12", "libcublas.so" };
        const char *home = getenv("CUDA_HOME");
        const char *dirs[] = { NULL, home && *home ? home : NULL, "/usr/local/cuda" };
        for (int d = 0; d < 3 && !library; d++) {
            if (d > 0 && !dirs[d])
                continue;
            for (int i = 0; i < 3 && !library; i++) {
                char path[512];
                if (d == 0)
                    snprintf(path, sizeof path, "%s", names[i]);
                else
                    snprintf(path, sizeof path, "%s/lib64/%s", dirs[d], names[i]);
                library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            }
        }
        if (library) {
            create = (create_fn)dlsym(library, "cublasCreate_v2");
            set_stream = (set_stream_fn)dlsym(library, "cublasSetStream_v2");
            gemm_ex = (gemm_ex_fn)dlsym(library, "cublasGemmEx");
            destroy = (destroy_fn)dlsym(library, "cublasDestroy_v2");
        }
    }
    return create && set_stream && gemm_ex;
}

const char *kiln_cuda_cublas_unavailable(void) {
    return kiln_cuda_cublas_available()
               ? NULL
               : "libcublas not found (searched the loader path, $CUDA_HOME/lib64, "
                 "/usr/local/cuda/lib64; it comes with the CUDA toolkit)";
}

void kiln_cuda_cublas_destroy(void *handle) {
    if (handle && destroy)
        destroy(handle);
}

enum kiln_status kiln_cuda_cublas_gemm(void **handle, void *stream, int m, int n, int k, const void *w_f16,
                                       int ldw, const void *x_f16, int ldx, float *y, int ldy) {
    if (!kiln_cuda_cublas_available())
        return kiln_fail(KILN_E_UNSUPPORTED, "cublas: libcublas not found (it comes with the CUDA toolkit)");
    int e = 0;
    if (!*handle && (e = create(handle)) != 0)
        return kiln_fail(KILN_E_DEVICE, "cublas: cublasCreate failed (status %d)", e);
    if ((e = set_stream(*handle, stream)) != 0)
        return kiln_fail(KILN_E_DEVICE, "cublas: cublasSetStream failed (status %d)", e);
    // Column-major view: y^T (m x n, ld ldy) = W (stored k x m, transposed) . x^T (k x n).
    const float alpha = 1.0f, beta = 0.0f;
    e = gemm_ex(*handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, w_f16, CUDA_R_16F, ldw, x_f16, CUDA_R_16F, ldx,
                &beta, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (e != 0)
        return kiln_fail(KILN_E_DEVICE, "cublas: cublasGemmEx failed (status %d)", e);
    return KILN_OK;
}
