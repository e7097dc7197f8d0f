// Pipelines of the Vulkan backend. Every kernel shares one layout: four storage buffers
// (kernels/common/kiln_blocks.glsl's bindings) and 128 bytes of push constants (the minimum
// every device offers) for shapes and strides. A pipeline is one shader specialized for
// (workgroup size, TYPE, DST_TYPE, USE_SUBGROUP): made on first use and kept, so a type that a
// model never uses never costs a compile.
#include <stdlib.h>

#include "backends/vulkan/vk_internal.h"

enum kiln_status kiln_vk_pipeline_layout_new(struct kiln_vk_device *vd) {
    VkDescriptorSetLayoutBinding b[KILN_VK_BINDINGS];
    for (uint32_t i = 0; i < KILN_VK_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){ .binding = i,
                                                .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                .descriptorCount = 1,
                                                .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT };
    const VkDescriptorSetLayoutCreateInfo li = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                                 .bindingCount = KILN_VK_BINDINGS, .pBindings = b };
    KILN_VK_TRY(kiln_vk.vkCreateDescriptorSetLayout(vd->device, &li, NULL, &vd->set_layout));
    const VkPushConstantRange push = { VK_SHADER_STAGE_COMPUTE_BIT, 0, KILN_VK_PUSH_BYTES };
    const VkPipelineLayoutCreateInfo pi = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                            .setLayoutCount = 1, .pSetLayouts = &vd->set_layout,
                                            .pushConstantRangeCount = 1, .pPushConstantRanges = &push };
    KILN_VK_TRY(kiln_vk.vkCreatePipelineLayout(vd->device, &pi, NULL, &vd->pipeline_layout));
    return KILN_OK;
}

static enum kiln_status module_of(struct kiln_vk_device *vd, enum kiln_vk_shader shader,
                                  VkShaderModule *out) {
    if (!vd->modules[shader]) {
        const struct kiln_vk_shader_code *code = &kiln_vk_shaders[shader];
        const VkShaderModuleCreateInfo mi = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                              .codeSize = code->bytes, .pCode = code->words };
        KILN_VK_TRY(kiln_vk.vkCreateShaderModule(vd->device, &mi, NULL, &vd->modules[shader]));
    }
    *out = vd->modules[shader];
    return KILN_OK;
}

enum kiln_status kiln_vk_pipeline_get(struct kiln_vk_device *vd, enum kiln_vk_shader shader,
                                      uint32_t type, uint32_t dst_type, VkPipeline *out) {
    for (int i = 0; i < vd->n_pipelines; i++) {
        const struct kiln_vk_pipeline *p = &vd->pipelines[i];
        if (p->shader == shader && p->type == type && p->dst_type == dst_type) {
            *out = p->pipeline;
            return KILN_OK;
        }
    }
    if (vd->n_pipelines == vd->cap_pipelines) {
        const int cap = vd->cap_pipelines ? 2 * vd->cap_pipelines : 32;
        struct kiln_vk_pipeline *p = realloc(vd->pipelines, (size_t)cap * sizeof *p);
        if (!p)
            return kiln_fail(KILN_E_NOMEM, "out of host memory");
        vd->pipelines = p;
        vd->cap_pipelines = cap;
    }
    VkShaderModule module = VK_NULL_HANDLE;
    KILN_TRY(module_of(vd, shader, &module));
    const uint32_t values[4] = { kiln_vk_shaders[shader].workgroup, type, dst_type,
                                 vd->subgroup_arith ? 1u : 0u };
    const VkSpecializationMapEntry entries[4] = { { 0, 0, 4 }, { 1, 4, 4 }, { 2, 8, 4 }, { 3, 12, 4 } };
    // USE_SUBGROUP is a bool spec constant: its entry is 4 bytes (VkBool32), as the spec requires.
    const VkSpecializationInfo spec = { 4, entries, sizeof values, values };
    const VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = module, .pName = "main",
                   .pSpecializationInfo = &spec },
        .layout = vd->pipeline_layout };
    VkPipeline pipeline;
    KILN_VK_TRY(kiln_vk.vkCreateComputePipelines(vd->device, VK_NULL_HANDLE, 1, &ci, NULL, &pipeline));
    vd->pipelines[vd->n_pipelines++] = (struct kiln_vk_pipeline){ shader, type, dst_type, pipeline };
    *out = pipeline;
    return KILN_OK;
}

void kiln_vk_pipelines_free(struct kiln_vk_device *vd) {
    for (int i = 0; i < vd->n_pipelines; i++)
        kiln_vk.vkDestroyPipeline(vd->device, vd->pipelines[i].pipeline, NULL);
    free(vd->pipelines);
    vd->pipelines = NULL;
    vd->n_pipelines = vd->cap_pipelines = 0;
    for (int i = 0; i < KILN_VK_SHADER_COUNT; i++) {
        if (vd->modules[i])
            kiln_vk.vkDestroyShaderModule(vd->device, vd->modules[i], NULL);
        vd->modules[i] = VK_NULL_HANDLE;
    }
}
