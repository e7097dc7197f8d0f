#version 450
// attention (Vulkan): flash-style causal attention with grouped-query heads, prefill and decode.
//   q [D, n_q, H] f32 (src0), k and v [D, n_kv, H_kv] f16 or f32 (src1, src2; TYPE), out [D, n_q, H]
//   f32 (dst). Query head h reads kv head h / (H / H_kv); key j is visible to query i iff
//   !causal or j <= pos0 + i. D <= 256 (vk_kernels.c declines larger heads).
// One 64-invocation workgroup per (query, head). Keys go in tiles of 64: each invocation scores
// one key (q from shared memory), the tile's max updates the running max with the online-softmax
// correction (FlashAttention's rescaling), and each invocation then accumulates its own output
// dims (d = tid, tid + 64, ...) over the tile's probabilities, reading V rows coalesced.
// v1: f32 scores and accumulators, one workgroup per (query, head).
// v2: split-K for long decodes (flash-decoding): with pc.chunk > 0 the keys are cut into chunks
//     of pc.chunk, one workgroup per (chunk, query, head), and (DST_TYPE = 1) each writes its
//     partial (running max m, sum l, unnormalized output) to a scratch buffer that
//     attention_combine.comp merges: out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s.
//     A decode with 8 heads and 4096 keys then fills 8 x 16 workgroups instead of 8.
// v3: the scores' K rows are staged through shared memory with coalesced loads (below); the
//     query heads of a GQA group still read their K/V rows separately (the CUDA decode row shares
//     them: attention_decode_cuda.cu).
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint q_base, q_nb1, q_nb2;
    uint k_base, k_nb1, k_nb2;
    uint v_base, v_nb1, v_nb2;
    uint o_base, o_nb1, o_nb2;
    uint D, n_q, n_kv, H, H_kv, pos0, causal;
    float scale;
    uint chunk;     // keys per split; 0 = no split
} pc;

const uint WG = 64u, MAX_D = 256u, KD = 64u;
shared float qs[MAX_D];
shared float sc[WG];
shared float kt[WG * (KD + 1u)];  // a K tile, KD dims of each of WG keys (rows padded: no bank conflicts)

float kv_at(uint which, uint a) {  // element at byte a of K (which 0) or V (which 1)
    const uint w = which == 0u ? src1[a >> 2] : src2[a >> 2];
    return TYPE == T_F16 ? unpackHalf2x16((w >> ((a & 2u) * 8u)) & 0xffffu).x : uintBitsToFloat(w);
}

void main() {
    const uint gall = group_index(), rows = pc.n_q * pc.H;
    const uint split = pc.chunk > 0u ? gall / rows : 0u, g = gall % rows;
    if (split > 0u && pc.chunk == 0u) return;
    const uint i = g % pc.n_q, h = g / pc.n_q, hk = h / (pc.H / pc.H_kv);
    const uint tid = gl_LocalInvocationID.x;
    const uint es = TYPE == T_F16 ? 2u : 4u;
    const uint qrow = (pc.q_base + i * pc.q_nb1 + h * pc.q_nb2) >> 2;
    for (uint d = tid; d < pc.D; d += WG) qs[d] = uintBitsToFloat(src0[qrow + d]);
    barrier();
    const uint n_all = pc.causal != 0u ? min(pc.n_kv, pc.pos0 + i + 1u) : pc.n_kv;
    const uint j_lo = pc.chunk > 0u ? split * pc.chunk : 0u;
    const uint n_vis = pc.chunk > 0u ? min(n_all, j_lo + pc.chunk) : n_all;
    float m = -1.0 / 0.0, l = 0.0;
    float acc[MAX_D / WG];
    for (uint c = 0u; c < MAX_D / WG; c++) acc[c] = 0.0;

    for (uint j0 = j_lo; j0 < n_vis; j0 += WG) {
        const uint j = j0 + tid;
        // Scores: the tile's K rows staged KD dims at a time, consecutive invocations reading
        // consecutive elements of a row (v1 had each invocation walk its own row: WG rows
        // touched per load), then each invocation's dot from shared memory, d ascending as before.
        float dot = 0.0;
        for (uint d0 = 0u; d0 < pc.D; d0 += KD) {
            const uint dn = min(KD, pc.D - d0);
            barrier();  // the previous pass's reads are done
            for (uint c = tid; c < WG * dn; c += WG) {
                const uint t = c / dn, dd = c % dn, jj = j0 + t;
                kt[t * (KD + 1u) + dd] = jj < n_vis
                    ? kv_at(0u, pc.k_base + jj * pc.k_nb1 + hk * pc.k_nb2 + (d0 + dd) * es) : 0.0;
            }
            barrier();
            for (uint dd = 0u; dd < dn; dd++) dot += qs[d0 + dd] * kt[tid * (KD + 1u) + dd];
        }
        const float s = j < n_vis ? dot * pc.scale : -1.0 / 0.0;
        sc[tid] = s;
        barrier();
        float mb = m;
        for (uint t = 0u; t < WG; t++) mb = max(mb, sc[t]);
        const float corr = exp(m - mb);  // 0 on the first tile (m = -inf)
        barrier();
        sc[tid] = exp(s - mb);           // 0 for keys past n_vis
        barrier();
        const uint nt = min(WG, n_vis - j0);
        float psum = 0.0;
        for (uint t = 0u; t < nt; t++) psum += sc[t];
        l = l * corr + psum;
        for (uint c = 0u; c * WG + tid < pc.D; c++) {
            const uint d = c * WG + tid;
            float a = acc[c] * corr;
            for (uint t = 0u; t < nt; t++)
                a += sc[t] * kv_at(1u, pc.v_base + (j0 + t) * pc.v_nb1 + hk * pc.v_nb2 + d * es);
            acc[c] = a;
        }
        m = mb;
        barrier();
    }
    if (DST_TYPE == 1u) {  // a split's partial: [m, l, acc[0 .. D)] at (split, query, head)
        const uint at = (pc.o_base >> 2) + (split * rows + g) * (pc.D + 2u);
        if (tid == 0u) {
            dstw[at] = floatBitsToUint(m);
            dstw[at + 1u] = floatBitsToUint(l);
        }
        for (uint c = 0u; c * WG + tid < pc.D; c++)
            dstw[at + 2u + c * WG + tid] = floatBitsToUint(acc[c]);
        return;
    }
    const uint orow = (pc.o_base + i * pc.o_nb1 + h * pc.o_nb2) >> 2;
    for (uint c = 0u; c * WG + tid < pc.D; c++)
        dstw[orow + c * WG + tid] = floatBitsToUint(acc[c] / l);
}
