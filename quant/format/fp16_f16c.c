// F16C row conversions (x86; compiled with -mf16c -mavx). Called only when the CPU has F16C.
// Non-NaN inputs give exactly the bits of the scalar reference in fp16.c (both are IEEE RNE);
// a NaN stays a NaN but may keep more payload bits than the scalar path.
#include "quant/format/fp16.h"

#include <immintrin.h>

void kiln_f16_to_f32_row_f16c(const kiln_half *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++)
        dst[i] = _cvtsh_ss(src[i]);
}

void kiln_f32_to_f16_row_f16c(const float *src, kiln_half *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}
