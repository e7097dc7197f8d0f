// A kernel that must use local memory: an array indexed by a run-time value. tests/cuda_ptxas.sh
// compiles it first and requires its check to flag it, so that a change in ptxas's report
// format cannot turn the local-memory check into one that passes everything.
__global__ void local_memory_probe(float *out, int n, int pick) {
    float a[64];
    for (int i = 0; i < 64; i++) a[(i * n) & 63] = (float)i * out[i];
    out[threadIdx.x] = a[pick & 63];
}
