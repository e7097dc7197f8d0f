#version 450
// get_rows (Vulkan): dst[i] = decode(table row ids[i]) for a table of any type kiln dequantizes
// (src0, TYPE), ids [n] i32 (src1), dst [k, n] f32. One invocation per output element.
// An id outside [row_lo, row_hi) is skipped: vk_launch.c runs one dispatch per window of table
// rows when the table is larger than maxStorageBufferRange, each binding its own window. An id
// outside the whole table writes zeros and raises flag 1 in the stream's status word (binding 2),
// which the stream turns into KILN_E_INVALID at sync (ops.h's contract for device get_rows).
#define KILN_SRC2_IS_STATUS
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint t_base, t_nb1;
    uint ids_base;
    uint d_base, d_nb1;
    uint k, n, n_rows;      // row length, ids, rows in the whole table
    uint row_lo, row_hi;    // this dispatch's window of table rows
    uint status_word;       // index of the stream's status word in src2
} pc;

layout(std430, binding = 2) buffer Status { uint status[]; };

void main() {
    const uint idx = group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (idx >= pc.k * pc.n) return;
    const uint e = idx % pc.k, i = idx / pc.k;
    const int id = int(src1[(pc.ids_base >> 2) + i]);
    const uint out_at = pc.d_base + i * pc.d_nb1 + 4u * e;
    if (id < 0 || uint(id) >= pc.n_rows) {
        if (pc.row_lo == 0u) {  // the first window reports it, once per element
            wr32(out_at, 0u);
            if (e == 0u) atomicOr(status[pc.status_word], 1u);
        }
        return;
    }
    if (uint(id) < pc.row_lo || uint(id) >= pc.row_hi) return;
    wr32(out_at, floatBitsToUint(decode_elem(pc.t_base + (uint(id) - pc.row_lo) * pc.t_nb1, e)));
}
