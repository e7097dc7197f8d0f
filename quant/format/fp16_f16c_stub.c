// Non-x86 builds: the F16C entry points exist (fp16.h declares them) but are never selected,
// since kiln_cpu_has(KILN_CPU_F16C) is false there. They forward to the scalar reference.
#include "quant/format/fp16.h"

void kiln_f16_to_f32_row_f16c(const kiln_half *src, float *dst, int64_t n) {
    kiln_f16_to_f32_row_scalar(src, dst, n);
}

void kiln_f32_to_f16_row_f16c(const float *src, kiln_half *dst, int64_t n) {
    kiln_f32_to_f16_row_scalar(src, dst, n);
}
