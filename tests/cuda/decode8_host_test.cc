// decode8 (kernels/common/decode8_cuda.cuh, the mma GEMM's shared-memory fill) against decode<T>
// (blocks_cuda.cuh, which `kiln ops --backend cuda` checks against the C reference), bit for
// bit, on random blocks of every quantized type. Both are device code; here they are compiled
// for the host with the few CUDA intrinsics they use defined as the IEEE operations they are
// (round-to-nearest, no contraction: -ffp-contract=off), so the check runs without a GPU.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

#include <cuda_fp16.h>  // __half, __half2float, __ushort_as_half: host functions too

#undef __device__
#undef __constant__
#undef __forceinline__
#define __device__
#define __constant__
#define __forceinline__ inline
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline uint32_t __float_as_uint(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

#include "kernels/common/decode8_cuda.cuh"

using namespace kiln_cuda;

static int failures = 0;

template <int T>
static void check(const char *name, std::mt19937 &rng) {
    constexpr int BE = block_of<T>::elems, BB = block_of<T>::bytes, NB = 3;
    uint8_t row[NB * BB];
    for (int trial = 0; trial < 200; trial++) {
        for (auto &b : row) b = (uint8_t)rng();
        for (int blk = 0; blk < NB; blk++) {  // finite f16 scales (exponent bits not all ones)
            uint8_t *b = row + blk * BB;
            const int at[] = { 0, 2, 80, 82, 108, 208 };  // where each type keeps an f16
            for (int o : at)
                if (o + 1 < BB) b[o + 1] &= 0x7b;
        }
        for (int64_t i = 0; i < (int64_t)NB * BE; i += 8) {
            float v[8];
            decode8<T>(row, i, v);
            for (int l = 0; l < 8; l++) {
                const float want = decode<T>(row, i + l);
                if (__float_as_uint(v[l]) != __float_as_uint(want) && !(v[l] != v[l] && want != want)) {
                    if (failures++ < 10)
                        std::printf("decode8 %s: element %lld is %.9g, decode gives %.9g\n", name,
                                    (long long)(i + l), v[l], want);
                }
            }
        }
    }
    std::printf("decode8 %s: %d x %d elements compared\n", name, 200, NB * BE);
}

int main() {
    std::mt19937 rng(12345);
    check<T_Q4_0>("q4_0", rng);
    check<T_Q4_1>("q4_1", rng);
    check<T_Q5_0>("q5_0", rng);
    check<T_Q5_1>("q5_1", rng);
    check<T_Q8_0>("q8_0", rng);
    check<T_Q2_K>("q2_K", rng);
    check<T_Q3_K>("q3_K", rng);
    check<T_Q4_K>("q4_K", rng);
    check<T_Q5_K>("q5_K", rng);
    check<T_Q6_K>("q6_K", rng);
    check<T_IQ4_NL>("iq4_nl", rng);
    check<T_IQ4_XS>("iq4_xs", rng);
    if (failures) {
        std::printf("decode8_host_test: %d mismatches\n", failures);
        return 1;
    }
    std::printf("decode8_host_test: every element bit for bit\n");
    return 0;
}
