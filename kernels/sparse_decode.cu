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
//
// candidate_scores gives the selection score of SPEC §2 at selected latents only, for ranking one
// rank's candidates against the other ranks' when the latents are sharded (the stages report
// activations, not scores):  z = (x_n − b_dec)·W_enc[i] + b_enc[i],  score = z + β·z·|g_n·W_dec[i]|.
// Its twin is gsae.parallel.CandidateScores: products and sums in f64, rounded once to f32. Here
// each lane sums a strided share of the columns and the warp adds the shares, so the f64 sums may
// differ from the twin's in their last bits, the f32 scores by a rounding at most.
// Pointers: idx [N, kk] i32 (local latent indices), x, g [N, d] (g null when β = 0), w_enc, w_dec
// [M, d], b_enc [M], b_dec [d], score [N, kk]. Launch: grid ceil(pairs / kScoreWarps), one warp per pair.
// ptxas (nvcc 13.0, sm_90): candidate_scores 38 registers, no spills. Not yet timed on a GPU.
#include "common.cuh"

namespace gsae {
constexpr int kDecodeThreads = 128;
constexpr int kScoreWarps = 8;
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

extern "C" __global__ void __launch_bounds__(gsae::kScoreWarps * gsae::kWarp)
candidate_scores(const int* idx, const float* x, const float* g, const float* w_enc, const float* b_enc, const float* w_dec,
                 const float* b_dec, float beta, int pairs, int kk, int d, float* score) {
    using namespace gsae;
    const int lane = threadIdx.x % kWarp;
    const int p = blockIdx.x * kScoreWarps + threadIdx.x / kWarp;
    if (p >= pairs) return;
    const size_t row = static_cast<size_t>(p / kk) * d, w = static_cast<size_t>(idx[p]) * d;
    double z = 0.0, proj = 0.0;
    for (int j = lane; j < d; j += kWarp) {
        z += (static_cast<double>(x[row + j]) - b_dec[j]) * w_enc[w + j];
        if (beta != 0.0f) proj += static_cast<double>(g[row + j]) * w_dec[w + j];
    }
    z = warp_sum(z) + b_enc[idx[p]];
    proj = warp_sum(proj);
    if (lane == 0) score[p] = static_cast<float>(z + beta * z * fabs(proj));
}
