// Non-x86 builds: the AVX2 K-quant entry points exist but are never selected
// (kiln_cpu_has(KILN_CPU_AVX2) is false there); they forward to the reference.
#include "quant/format/quant_k_internal.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_ref.h"

void kiln_quantize_q4_K_avx2(const float *x, void *out, int64_t k) { kiln_quantize_q4_K_ref(x, out, k); }
void kiln_quantize_q5_K_avx2(const float *x, void *out, int64_t k) { kiln_quantize_q5_K_ref(x, out, k); }
void kiln_quantize_q6_K_avx2(const float *x, void *out, int64_t k) { kiln_quantize_q6_K_ref(x, out, k); }
void kiln_quantize_q8_0_avx2(const float *x, void *out, int64_t n) { kiln_quantize_q8_0_ref(x, out, n); }
void kiln_quantize_q4_0_avx2(const float *x, void *out, int64_t n) { kiln_quantize_q4_0_ref(x, out, n); }
void kiln_quantize_iq4_xs_avx2(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_iq4_xs_weighted(x, out, n, qw);
}
void kiln_quantize_iq4_nl_avx2(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_iq4_nl_weighted(x, out, n, qw);
}
void kiln_quantize_iq4_xs_avx2_plain(const float *x, void *out, int64_t n) { kiln_quantize_iq4_xs_ref(x, out, n); }
void kiln_quantize_iq4_nl_avx2_plain(const float *x, void *out, int64_t n) { kiln_quantize_iq4_nl_ref(x, out, n); }
void kiln_quantize_q2_K_avx2(const float *x, void *out, int64_t k) { kiln_quantize_q2_K_ref(x, out, k); }
void kiln_quantize_q3_K_avx2(const float *x, void *out, int64_t k) { kiln_quantize_q3_K_ref(x, out, k); }
void kiln_quantize_q4_1_avx2(const float *x, void *out, int64_t n) { kiln_quantize_q4_1_ref(x, out, n); }
void kiln_quantize_q5_0_avx2(const float *x, void *out, int64_t n) { kiln_quantize_q5_0_ref(x, out, n); }
void kiln_quantize_q5_1_avx2(const float *x, void *out, int64_t n) { kiln_quantize_q5_1_ref(x, out, n); }
void kiln_quantize_q6_K_avx2_weighted(const float *x, void *out, int64_t k, const float *qw) {
    kiln_quantize_q6_K_weighted(x, out, k, qw);
}
void kiln_quantize_q4_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q4_0_weighted(x, out, n, qw);
}
void kiln_quantize_q5_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q5_0_weighted(x, out, n, qw);
}
void kiln_quantize_q2_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q2_K_weighted(x, out, n, qw);
}
void kiln_quantize_q4_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q4_K_weighted(x, out, n, qw);
}
void kiln_quantize_q5_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q5_K_weighted(x, out, n, qw);
}
void kiln_quantize_q4_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q4_1_weighted(x, out, n, qw);
}
void kiln_quantize_q5_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q5_1_weighted(x, out, n, qw);
}
void kiln_quantize_q3_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    kiln_quantize_q3_K_weighted(x, out, n, qw);
}
void kiln_make_qx_x8_avx2(const float *x, const float *w, int n, int nmax, float *scale, int8_t *L) {
    for (int b = 0; b < 8; b++)
        scale[b] = kiln_make_qx_quants(n, nmax, x + n * b, L + n * b, w ? w + n * b : NULL);
}
