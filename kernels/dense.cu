// dense.cu — the dense baseline's kernels around cuBLAS (gsae.cuda.CudaDenseOps).
//
// The baseline materialises what the fused path never writes: Z = (x − b_dec)·W_encᵀ and
// S = g·W_decᵀ as [N, M] products from cublasSgemm, then
//   centre_rows    xc[n, j] = x[n, j] − b_dec[j]                         (the GEMM's left operand)
//   dense_select   per row: z = Z + b_enc, score = z + β·z·|S|, the k smallest selection keys
//                  (common.cuh: larger score, then lower index) over all M latents, and the
//                  k_aux smallest over dead latents; indices ascending, values ReLU(z)
//   dense_scatter  A[n, idx] = val (A zeroed by the host), the dense activations for x̂ = A·W_dec
//   add_bias_rows  out[n, j] += bias[j]
// Pointers: x, xc, out [N, d]; z, s, a [N, M] (s null when β = 0); b_dec [d]; b_enc [M];
// dead [M] u8 (null: no AuxK); idx [N, k] i32, val [N, k]; aux_idx [N, ka], aux_val [N, ka].
// Launch: dense_select grid N, kSelectThreads threads (the radix select reads the row eight
// times, so 256 threads keep many loads in flight); the elementwise kernels grid
// ceil(N·width / 256), 256 threads.
#include "common.cuh"

namespace gsae {
constexpr int kSelectThreads = 256;
constexpr int kElementThreads = 256;
static_assert(kSelectThreads % kWarp == 0, "whole warps");

struct DenseKeys {
    const float* z; const float* s; const float* b_enc; const unsigned char* only; float beta;
    __device__ unsigned long long operator()(int i) const {
        if (only != nullptr && only[i] == 0) return kInvalidKey;
        const float zi = z[i] + b_enc[i];
        return selection_key(gsae_score(zi, s != nullptr ? fabsf(s[i]) : 0.0f, beta), i);
    }
};

__device__ void select_row(const DenseKeys& keys, int m, int k, int* idx, float* val, int* hist,
                           unsigned long long* state, int* scratch) {
    const unsigned long long kth = block_radix_select(keys, m, k, hist, state);
    block_compact_indices(keys, m, kth, idx, scratch);
    __syncthreads();
    for (int slot = threadIdx.x; slot < k; slot += kSelectThreads) val[slot] = fmaxf(keys.z[idx[slot]] + keys.b_enc[idx[slot]], 0.0f);
}
}  // namespace gsae

using namespace gsae;

extern "C" __global__ void __launch_bounds__(kElementThreads) centre_rows(const float* x, const float* b_dec, int n, int d, float* xc) {
    const size_t e = static_cast<size_t>(blockIdx.x) * kElementThreads + threadIdx.x;
    if (e < static_cast<size_t>(n) * d) xc[e] = x[e] - b_dec[e % d];
}

extern "C" __global__ void __launch_bounds__(kElementThreads) add_bias_rows(float* out, const float* bias, int n, int d) {
    const size_t e = static_cast<size_t>(blockIdx.x) * kElementThreads + threadIdx.x;
    if (e < static_cast<size_t>(n) * d) out[e] += bias[e % d];
}

extern "C" __global__ void __launch_bounds__(kElementThreads)
dense_scatter(const int* idx, const float* val, int n, int k, int m, float* a) {
    const size_t p = static_cast<size_t>(blockIdx.x) * kElementThreads + threadIdx.x;
    if (p < static_cast<size_t>(n) * k) a[(p / k) * m + idx[p]] = val[p];
}

extern "C" __global__ void __launch_bounds__(kSelectThreads)
dense_select(const float* z, const float* s, const float* b_enc, const unsigned char* dead, float beta, int m, int k,
             int ka, int* idx, float* val, int* aux_idx, float* aux_val) {
    __shared__ int hist[256];
    __shared__ int scratch[kSelectThreads / kWarp];
    __shared__ unsigned long long state[2];
    const size_t row = blockIdx.x;
    const float* zr = z + row * m;
    const float* sr = s != nullptr ? s + row * m : nullptr;
    select_row(DenseKeys{zr, sr, b_enc, nullptr, beta}, m, k, idx + row * k, val + row * k, hist, state, scratch);
    if (ka > 0) {
        __syncthreads();
        select_row(DenseKeys{zr, sr, b_enc, dead, beta}, m, ka, aux_idx + row * ka, aux_val + row * ka, hist, state,
                   scratch);
    }
}
