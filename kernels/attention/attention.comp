#version 450
// attention (Vulkan): flash-style causal attention with grouped-query heads, prefill and decode.
//   q [D, n_q, H] f32 (src0), k and v [D, n_kv, H_kv] f16 or f32 (src1, src2; TYPE), out [D, n_q, H]
//   f32 (dst). Query head h reads kv head h / (H / H_kv); key j is visible to query i iff
//   !causal or j <= pos0 + i. D <= 256 (vk_kernels.c declines larger heads).
// One 64-invocation workgroup per (query, kv head, head chunk: v4). Keys go in tiles of 64: each invocation scores
// one key (q from shared memory), the tile's max updates the running max with the online-softmax
// correction (FlashAttention's rescaling), and each invocation then accumulates its own output
// dims (d = tid, tid + 64, ...) over the tile's probabilities, reading V rows coalesced.
// v1: f32 scores and accumulators, one workgroup per (query, head).
// v2: split-K for long decodes (flash-decoding): with pc.chunk > 0 the keys are cut into chunks
//     of pc.chunk, one workgroup per (chunk, query, head), and (DST_TYPE = 1) each writes its
//     partial (running max m, sum l, unnormalized output) to a scratch buffer that
//     attention_combine.comp merges: out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s.
//     A decode with 8 heads and 4096 keys then fills 8 x 16 workgroups instead of 8.
// v3: the scores' K rows are staged through shared memory with coalesced loads (below).
// v4: a workgroup per (query, kv head, chunk of up to HG = 4 of its query heads): every K and V
//     element read serves the chunk's heads (v1-v3 read them once per query head: G x the
//     bytes of a GQA group of G). Dispatch: vk_launch.c.
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

const uint WG = 64u, MAX_D = 256u, KD = 32u, HG = 4u;
shared float qs[HG * MAX_D];      // the workgroup's query heads, HG rows of D
shared float sc[HG * WG];         // scores, then probabilities, of the tile's keys per head
shared float kt[WG * (KD + 1u)];  // a K tile, KD dims of each of WG keys (rows padded: no bank conflicts)
// 4 + 1 + 8.25 KiB: under the 16 KiB every Vulkan device offers (maxComputeSharedMemorySize).

float kv_at(uint which, uint a) {  // element at byte a of K (which 0) or V (which 1)
    const uint w = which == 0u ? src1[a >> 2] : src2[a >> 2];
    return TYPE == T_F16 ? unpackHalf2x16((w >> ((a & 2u) * 8u)) & 0xffffu).x : uintBitsToFloat(w);
}

void main() {
    // Workgroup (split, query i, kv head hk, head chunk c): query heads hk * G + c * HG .. + hn.
    const uint G = pc.H / pc.H_kv, chunks = (G + HG - 1u) / HG;
    const uint gall = group_index(), rows = pc.n_q * pc.H_kv * chunks;
    const uint split = pc.chunk > 0u ? gall / rows : 0u, g = gall % rows;
    if (split > 0u && pc.chunk == 0u) return;
    const uint i = g % pc.n_q, hc = g / pc.n_q, hk = hc / chunks, c0 = (hc % chunks) * HG;
    const uint h0 = hk * G + c0, hn = min(HG, G - c0);
    const uint tid = gl_LocalInvocationID.x;
    const uint es = TYPE == T_F16 ? 2u : 4u;
    for (uint t = 0u; t < hn; t++) {
        const uint qrow = (pc.q_base + i * pc.q_nb1 + (h0 + t) * pc.q_nb2) >> 2;
        for (uint d = tid; d < pc.D; d += WG) qs[t * MAX_D + d] = uintBitsToFloat(src0[qrow + d]);
    }
    barrier();
    const uint n_all = pc.causal != 0u ? min(pc.n_kv, pc.pos0 + i + 1u) : pc.n_kv;
    const uint j_lo = pc.chunk > 0u ? split * pc.chunk : 0u;
    const uint n_vis = pc.chunk > 0u ? min(n_all, j_lo + pc.chunk) : n_all;
    float m[HG], l[HG], acc[HG][MAX_D / WG];
    for (uint t = 0u; t < HG; t++) {
        m[t] = -1.0 / 0.0;
        l[t] = 0.0;
        for (uint c = 0u; c < MAX_D / WG; c++) acc[t][c] = 0.0;
    }

    for (uint j0 = j_lo; j0 < n_vis; j0 += WG) {
        const uint j = j0 + tid;
        // Scores: the tile's K rows staged KD dims at a time, consecutive invocations reading
        // consecutive elements of a row, then each invocation's dots for every head of the
        // chunk from shared memory (d ascending): one K read serves hn heads.
        float dot[HG];
        for (uint t = 0u; t < HG; t++) dot[t] = 0.0;
        for (uint d0 = 0u; d0 < pc.D; d0 += KD) {
            const uint dn = min(KD, pc.D - d0);
            barrier();  // the previous pass's reads are done
            for (uint c = tid; c < WG * dn; c += WG) {
                const uint t = c / dn, dd = c % dn, jj = j0 + t;
                kt[t * (KD + 1u) + dd] = jj < n_vis
                    ? kv_at(0u, pc.k_base + jj * pc.k_nb1 + hk * pc.k_nb2 + (d0 + dd) * es) : 0.0;
            }
            barrier();
            for (uint dd = 0u; dd < dn; dd++) {
                const float kv = kt[tid * (KD + 1u) + dd];
                for (uint t = 0u; t < hn; t++) dot[t] += qs[t * MAX_D + d0 + dd] * kv;
            }
        }
        float corr[HG];
        for (uint t = 0u; t < hn; t++) sc[t * WG + tid] = j < n_vis ? dot[t] * pc.scale : -1.0 / 0.0;
        barrier();
        for (uint t = 0u; t < hn; t++) {
            float mb = m[t];
            for (uint u = 0u; u < WG; u++) mb = max(mb, sc[t * WG + u]);
            corr[t] = exp(m[t] - mb);  // 0 on the first tile (m = -inf)
            m[t] = mb;
        }
        barrier();
        for (uint t = 0u; t < hn; t++) sc[t * WG + tid] = exp(sc[t * WG + tid] - m[t]);  // 0 past n_vis
        barrier();
        const uint nt = min(WG, n_vis - j0);
        for (uint t = 0u; t < hn; t++) {
            float psum = 0.0;
            for (uint u = 0u; u < nt; u++) psum += sc[t * WG + u];
            l[t] = l[t] * corr[t] + psum;
        }
        // P.V: each invocation its own output dims; a V row read once serves hn heads.
        for (uint c = 0u; c * WG + tid < pc.D; c++) {
            const uint d = c * WG + tid;
            float a[HG];
            for (uint t = 0u; t < hn; t++) a[t] = acc[t][c] * corr[t];
            for (uint u = 0u; u < nt; u++) {
                const float vv = kv_at(1u, pc.v_base + (j0 + u) * pc.v_nb1 + hk * pc.v_nb2 + d * es);
                for (uint t = 0u; t < hn; t++) a[t] += sc[t * WG + u] * vv;
            }
            for (uint t = 0u; t < hn; t++) acc[t][c] = a[t];
        }
        barrier();
    }
    for (uint t = 0u; t < hn; t++) {
        const uint h = h0 + t, gq = h * pc.n_q + i;  // (query, head) index of the partials' layout
        if (DST_TYPE == 1u) {  // a split's partial: [m, l, acc[0 .. D)] at (split, query, head)
            const uint at = (pc.o_base >> 2) + (split * pc.n_q * pc.H + gq) * (pc.D + 2u);
            if (tid == 0u) {
                dstw[at] = floatBitsToUint(m[t]);
                dstw[at + 1u] = floatBitsToUint(l[t]);
            }
            for (uint c = 0u; c * WG + tid < pc.D; c++)
                dstw[at + 2u + c * WG + tid] = floatBitsToUint(acc[t][c]);
        } else {
            const uint orow = (pc.o_base + i * pc.o_nb1 + h * pc.o_nb2) >> 2;
            for (uint c = 0u; c * WG + tid < pc.D; c++)
                dstw[orow + c * WG + tid] = floatBitsToUint(acc[t][c] / l[t]);
        }
    }
}
