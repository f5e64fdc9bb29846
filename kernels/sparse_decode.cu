// sparse_decode.cu — the sparse decoder (SPEC §2 x̂, §3 AuxK residual ê).
//
//   out[n, j] = bias[j] + Σ_slot val[n, slot] · W_dec[idx[n, slot], j]      (bias = b_dec for x̂,
//                                                                             null for ê: no bias)
// reading only the k selected rows of W_dec per token, so the cost is O(N·k·d), never O(N·M·d).
//
// Pointers: idx [N, k] i32, val [N, k] f32, w_dec [M, d], bias [d] or null, out [N, d].
// Launch: grid (N, ceil(d / kThreads)), kThreads threads; thread j of block (n, c) owns column
// c·kThreads + j of token n and sums the slots in slot order, so results are deterministic.
// kThreads = 128: d = 768 needs 6 column blocks per token, enough blocks to fill the machine at
// N ≥ 64; all threads of a block read the same (idx, val) pair per slot (a broadcast) and
// consecutive columns of one W_dec row (coalesced).
#include "common.cuh"

namespace gsae {
constexpr int kDecodeThreads = 128;
static_assert(kDecodeThreads % kWarp == 0, "whole warps");
}  // namespace gsae

extern "C" __global__ void __launch_bounds__(gsae::kDecodeThreads)
sparse_decode(const int* idx, const float* val, const float* w_dec, const float* bias, int k, int d, float* out) {
    const size_t n = blockIdx.x;
    const int j = blockIdx.y * gsae::kDecodeThreads + threadIdx.x;
    if (j >= d) return;
    float acc = bias != nullptr ? bias[j] : 0.0f;
    for (int slot = 0; slot < k; slot++) {
        const int i = idx[n * k + slot];
        acc = fmaf(val[n * k + slot], w_dec[static_cast<size_t>(i) * d + j], acc);
    }
    out[n * d + j] = acc;
}
