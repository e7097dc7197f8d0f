// The Vulkan kernels' SPIR-V, compiled at build time by glslc from kernels/<op>/*.comp
// (backends/vulkan/CMakeLists.txt) and embedded here; the workgroup size of each is its
// specialization constant 0 (kernels/common/kiln_blocks.glsl).
#include "backends/vulkan/vk_internal.h"

static const uint32_t matmul_gemv[] =
#include "matmul_gemv.spv.inc"
;
static const uint32_t matmul_gemv16[] =
#include "matmul_gemv16.spv.inc"
;
static const uint32_t matmul_gemm[] =
#include "matmul_gemm.spv.inc"
;
static const uint32_t attention[] =
#include "attention.spv.inc"
;
static const uint32_t attention_combine[] =
#include "attention_combine.spv.inc"
;
static const uint32_t dequant[] =
#include "dequant.spv.inc"
;
static const uint32_t copy_quant[] =
#include "copy_quant.spv.inc"
;
static const uint32_t rmsnorm[] =
#include "rmsnorm.spv.inc"
;
static const uint32_t rope[] =
#include "rope.spv.inc"
;
static const uint32_t binary[] =
#include "binary.spv.inc"
;
static const uint32_t get_rows[] =
#include "get_rows.spv.inc"
;
static const uint32_t probe[] =
#include "probe.spv.inc"
;

#define SHADER(id, words, wg) [id] = { #words, words, sizeof words, wg }
const struct kiln_vk_shader_code kiln_vk_shaders[KILN_VK_SHADER_COUNT] = {
    SHADER(KILN_VK_MATMUL_GEMV, matmul_gemv, 64),  // <= 64: its shared partials are sized so
    SHADER(KILN_VK_MATMUL_GEMV16, matmul_gemv16, 64),
    SHADER(KILN_VK_MATMUL_GEMM, matmul_gemm, 256), // fixed: 16 x 16 invocations of 4 x 4 outputs
    SHADER(KILN_VK_ATTENTION, attention, 64),      // fixed: one invocation per key of a tile
    SHADER(KILN_VK_ATTENTION_COMBINE, attention_combine, 64),
    SHADER(KILN_VK_DEQUANT, dequant, 256),
    SHADER(KILN_VK_COPY_QUANT, copy_quant, 64),
    SHADER(KILN_VK_RMSNORM, rmsnorm, 256),         // <= 256: shared partials
    SHADER(KILN_VK_ROPE, rope, 256),
    SHADER(KILN_VK_BINARY, binary, 256),
    SHADER(KILN_VK_GET_ROWS, get_rows, 256),
    SHADER(KILN_VK_PROBE, probe, 256),
};
