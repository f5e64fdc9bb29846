// sparse_backward.cu — losses and gradients of one batch (SPEC §3–4), O(N·k·d), deterministic.
//
// Host order (see gsae.cuda.SparseBackward):
//   column_partial_sums/column_reduce twice → sum_doubles   sums[0] = denom = Σ_n ‖x_n − x̄‖²
//   residual → sum_doubles                                 e = x − x̂, dx̂ = −2e/denom, sums[1] = Σ‖e‖²
//   [AuxK] the same on e (sums[2]), sparse_decode(aux) → ê, aux_residual → sum_doubles (sums[3]):
//          dê = α·2(ê − e)/Σ‖e − ē‖² (0 when that is 0), per-row ‖ê − e‖²
//   pair_dz (top with dx̂, aux with dê)                    dz[n,s] = (dout_n · W_dec[i]) · 1[a > 0]
//   csr_count → csr_scan_chunks → exclusive_scan → csr_fill
//          groups every selected pair (top and aux) by latent, in token order inside a latent
//   latent_grads                                           dW_dec[i], dW_enc[i], db_enc[i]
//   bias_dec_partial → bias_dec_finish                     db_dec = Σ_n dx̂_n − Σ_i db_enc[i]·W_enc[i]
//
// Determinism without floating-point atomics on weight gradients: pairs are grouped by latent
// with a counting sort whose slot for each pair comes from per-(chunk, latent) counts and a
// sequential walk of each chunk's rows (a latent occurs at most once per row and selection), so
// one block owns one latent and sums its pairs in token order. No kernel here uses atomics.
// Sums over tokens or latents accumulate in f64; the column statistics and db_dec split tokens
// and latents into `slices` contiguous slices (grid y) whose partial sums are added in slice
// order, so thousands of rows never run down one thread.
//
// Pointers (row-major; f32 unless said): sums [4] f64 (the loss sums above); x, x̂, e, dx̂, ê, dê [N, d]; idx_top [N, k] i32,
// val_top/dz_top [N, k]; idx_aux [N, ka] i32, val_aux/dz_aux [N, ka] (null when ka = 0);
// w_enc, w_dec, dw_enc, dw_dec [M, d]; b_dec, db_dec [d]; db_enc [M]; db_enc_sum [M] f64;
// partial [slices, d] f64; mean [d] f64; chunk_count [chunks, M] i32; offsets [M + 1] i32; pairs [N·(k + ka)] i32 holding n·(k+ka) + s,
// s < k for top slots and k + slot for aux slots.
#include "common.cuh"

namespace gsae {
constexpr int kRowThreads = 128;     // one block per token row: d = 768 is 6 columns per thread
constexpr int kColThreads = 256;     // one thread per column for column statistics
constexpr int kPairWarps = 8;        // one warp per selected pair for dz
constexpr int kChunkThreads = 256;   // threads over a row's slots in the CSR walk
constexpr int kScanThreads = 1024;   // single-block exclusive scan over M
constexpr int kLatentThreads = 128;  // one block per latent, threads over d
constexpr int kBiasCols = 32, kBiasGroups = 8;  // bias_dec_partial: 32 columns × 8 partial sums
static_assert(kRowThreads % kWarp == 0 && kLatentThreads % kWarp == 0 && kChunkThreads % kWarp == 0, "whole warps");
static_assert(kBiasCols == kWarp, "bias_dec_partial reads one coalesced warp per column block");
}  // namespace gsae

using namespace gsae;

// Over token slice blockIdx.y of `slices` (contiguous rows) of v [N, d], in f64:
// partial[s, j] = Σ v[n, j] when mean is null, else Σ (v[n, j] − mean[j])².  grid (ceil(d/256), slices).
extern "C" __global__ void __launch_bounds__(kColThreads)
column_partial_sums(const float* v, int n, int d, int slices, const double* mean, double* partial) {
    const int j = blockIdx.x * kColThreads + threadIdx.x, s = blockIdx.y;
    if (j >= d) return;
    const int first = static_cast<int>(static_cast<long long>(n) * s / slices);
    const int last = static_cast<int>(static_cast<long long>(n) * (s + 1) / slices);
    const double centre = mean != nullptr ? mean[j] : 0.0;
    double acc = 0.0;
    for (int r = first; r < last; r++) {
        const double x = static_cast<double>(v[static_cast<size_t>(r) * d + j]) - centre;
        acc += mean != nullptr ? x * x : x;
    }
    partial[static_cast<size_t>(s) * d + j] = acc;
}

// out[j] = (Σ_s partial[s, j]) / divisor, slices added in order.  grid ceil(d/256).
// With column_partial_sums: the column means (divisor N), then Σ_n (v − mean)² (divisor 1) — the
// reference's two passes, so identical rows give exactly 0.
extern "C" __global__ void __launch_bounds__(kColThreads)
column_reduce(const double* partial, int slices, int d, double divisor, double* out) {
    const int j = blockIdx.x * kColThreads + threadIdx.x;
    if (j >= d) return;
    double acc = 0.0;
    for (int s = 0; s < slices; s++) acc += partial[static_cast<size_t>(s) * d + j];
    out[j] = acc / divisor;
}

// sums[slot] = Σ v[0 .. count) in a fixed order.  grid 1, kColThreads threads.
extern "C" __global__ void __launch_bounds__(kColThreads) sum_doubles(const double* v, int count, double* sums, int slot) {
    __shared__ double scratch[kColThreads / kWarp];
    double acc = 0.0;
    for (int c = threadIdx.x; c < count; c += kColThreads) acc += v[c];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) sums[slot] = acc;
}

// e = x − x̂; dx̂ = −2e/denom with denom = sums[0]; row_sse[n] = ‖e_n‖².  grid N, kRowThreads threads.
extern "C" __global__ void __launch_bounds__(kRowThreads)
residual(const float* x, const float* xhat, int d, const double* sums, float* e, float* dxhat, double* row_sse) {
    __shared__ double scratch[kRowThreads / kWarp];
    const size_t base = static_cast<size_t>(blockIdx.x) * d;
    const double scale = -2.0 / sums[0];
    double acc = 0.0;
    for (int j = threadIdx.x; j < d; j += kRowThreads) {
        const float ej = x[base + j] - xhat[base + j];
        e[base + j] = ej;
        dxhat[base + j] = static_cast<float>(scale * ej);
        acc += static_cast<double>(ej) * ej;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) row_sse[blockIdx.x] = acc;
}

// dê = α·2(ê − e)/aux_denom with aux_denom = sums[2] (dê = 0 when it is 0); row_sse[n] = ‖ê_n − e_n‖².
// grid N, kRowThreads threads.
extern "C" __global__ void __launch_bounds__(kRowThreads)
aux_residual(const float* ehat, const float* e, int d, const double* sums, float alpha, float* dehat, double* row_sse) {
    __shared__ double scratch[kRowThreads / kWarp];
    const size_t base = static_cast<size_t>(blockIdx.x) * d;
    const double aux_denom = sums[2];
    const double scale = aux_denom > 0.0 ? alpha * 2.0 / aux_denom : 0.0;
    double acc = 0.0;
    for (int j = threadIdx.x; j < d; j += kRowThreads) {
        const double diff = static_cast<double>(ehat[base + j]) - e[base + j];
        dehat[base + j] = static_cast<float>(scale * diff);
        acc += diff * diff;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) row_sse[blockIdx.x] = acc;
}

// dz[p] = (dout_n · W_dec[idx[p]]) · 1[val[p] > 0] for the `pairs` pairs p = n·kk + slot.
// grid ceil(pairs / kPairWarps), kPairWarps warps; lane-strided f32 dot, fixed shuffle tree.
extern "C" __global__ void __launch_bounds__(kPairWarps * kWarp)
pair_dz(const int* idx, const float* val, const float* dout, const float* w_dec, int pairs, int kk, int d, float* dz) {
    const int lane = threadIdx.x % kWarp;
    const int p = blockIdx.x * kPairWarps + threadIdx.x / kWarp;
    if (p >= pairs) return;
    const float* o = dout + static_cast<size_t>(p / kk) * d;
    const float* w = w_dec + static_cast<size_t>(idx[p]) * d;
    float acc = 0.0f;
    for (int j = lane; j < d; j += kWarp) acc = fmaf(o[j], w[j], acc);
    acc = warp_sum(acc);
    if (lane == 0) dz[p] = val[p] > 0.0f ? acc : 0.0f;
}

// chunk_count[c, i] = pairs of latent i in token rows [c·rows_per_chunk, ..) (zeroed by the host).
// grid chunks; rows walked in order, top then aux slots; a latent occurs once per row per selection.
extern "C" __global__ void __launch_bounds__(kChunkThreads)
csr_count(const int* idx_top, int k, const int* idx_aux, int ka, int n, int rows_per_chunk, int m, int* chunk_count) {
    int* counts = chunk_count + static_cast<size_t>(blockIdx.x) * m;
    const int first = blockIdx.x * rows_per_chunk, last = min(n, first + rows_per_chunk);
    for (int r = first; r < last; r++) {
        for (int s = threadIdx.x; s < k; s += kChunkThreads) counts[idx_top[static_cast<size_t>(r) * k + s]]++;
        __syncthreads();
        for (int s = threadIdx.x; s < ka; s += kChunkThreads) counts[idx_aux[static_cast<size_t>(r) * ka + s]]++;
        __syncthreads();
    }
}

// Per latent: chunk_count[c, i] ← Σ_{c' < c} chunk_count[c', i]; totals[i] ← Σ_c.  grid ceil(M/256).
extern "C" __global__ void __launch_bounds__(kColThreads) csr_scan_chunks(int* chunk_count, int chunks, int m, int* totals) {
    const int i = blockIdx.x * kColThreads + threadIdx.x;
    if (i >= m) return;
    int run = 0;
    for (int c = 0; c < chunks; c++) {
        int* at = chunk_count + static_cast<size_t>(c) * m + i;
        const int here = *at;
        *at = run;
        run += here;
    }
    totals[i] = run;
}

// offsets[i] = Σ_{i' < i} v[i'], offsets[count] = Σ v.  grid 1, kScanThreads threads; thread t scans
// one contiguous run, the run sums are scanned by thread 0.
extern "C" __global__ void __launch_bounds__(kScanThreads) exclusive_scan(const int* v, int count, int* offsets) {
    __shared__ int run_start[kScanThreads + 1];
    const int per = ceil_div(count, kScanThreads), begin = min(count, threadIdx.x * per), end = min(count, begin + per);
    int sum = 0;
    for (int i = begin; i < end; i++) sum += v[i];
    run_start[threadIdx.x + 1] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        run_start[0] = 0;
        for (int t = 1; t <= kScanThreads; t++) run_start[t] += run_start[t - 1];
    }
    __syncthreads();
    int at = run_start[threadIdx.x];
    for (int i = begin; i < end; i++) {
        offsets[i] = at;
        at += v[i];
    }
    if (threadIdx.x == kScanThreads - 1) offsets[count] = run_start[kScanThreads];
}

// pairs[offsets[i] + chunk_prefix[c, i] + (earlier rows of chunk c with latent i)] = n·(k+ka) + s.
// grid chunks; the same walk as csr_count, so each latent's pairs land in token order.
extern "C" __global__ void __launch_bounds__(kChunkThreads)
csr_fill(const int* idx_top, int k, const int* idx_aux, int ka, int n, int rows_per_chunk, int m, int* chunk_prefix,
         const int* offsets, int* pairs) {
    int* cursor = chunk_prefix + static_cast<size_t>(blockIdx.x) * m;
    const int first = blockIdx.x * rows_per_chunk, last = min(n, first + rows_per_chunk), width = k + ka;
    for (int r = first; r < last; r++) {
        for (int s = threadIdx.x; s < k; s += kChunkThreads) {
            const int i = idx_top[static_cast<size_t>(r) * k + s];
            pairs[offsets[i] + cursor[i]++] = r * width + s;
        }
        __syncthreads();
        for (int s = threadIdx.x; s < ka; s += kChunkThreads) {
            const int i = idx_aux[static_cast<size_t>(r) * ka + s];
            pairs[offsets[i] + cursor[i]++] = r * width + k + s;
        }
        __syncthreads();
    }
}

// Block i owns latent i:  dW_dec[i] = Σ_p a_p·dout_p,  dW_enc[i] = Σ_p dz_p·(x_n − b_dec),
// db_enc[i] = Σ_p dz_p (also kept in f64 for bias_dec_partial). Zero rows for unselected latents.
// grid M, kLatentThreads threads over d.
extern "C" __global__ void __launch_bounds__(kLatentThreads)
latent_grads(const int* offsets, const int* pairs, const float* val_top, const float* dz_top, const float* val_aux,
             const float* dz_aux, const float* dxhat, const float* dehat, const float* x, const float* b_dec, int k,
             int ka, int d, float* dw_dec, float* dw_enc, float* db_enc, double* db_enc_sum) {
    const int i = blockIdx.x, begin = offsets[i], end = offsets[i + 1], width = k + ka;
    const size_t row = static_cast<size_t>(i) * d;
    for (int j0 = 0; j0 < d; j0 += kLatentThreads) {
        const int j = j0 + threadIdx.x;
        double acc_dec = 0.0, acc_enc = 0.0, acc_b = 0.0;
        for (int o = begin; o < end; o++) {
            const int code = pairs[o], n = code / width, s = code % width;
            const bool top = s < k;
            const float a = top ? val_top[static_cast<size_t>(n) * k + s] : val_aux[static_cast<size_t>(n) * ka + s - k];
            const float dz = top ? dz_top[static_cast<size_t>(n) * k + s] : dz_aux[static_cast<size_t>(n) * ka + s - k];
            acc_b += dz;
            if (j < d) {
                const float* dout = top ? dxhat : dehat;
                acc_dec += static_cast<double>(a) * dout[static_cast<size_t>(n) * d + j];
                acc_enc += static_cast<double>(dz) * (static_cast<double>(x[static_cast<size_t>(n) * d + j]) - b_dec[j]);
            }
        }
        if (j < d) {
            dw_dec[row + j] = static_cast<float>(acc_dec);
            dw_enc[row + j] = static_cast<float>(acc_enc);
        }
        if (j0 == 0 && threadIdx.x == 0) {
            db_enc[i] = static_cast<float>(acc_b);
            db_enc_sum[i] = acc_b;
        }
    }
}

// Slice blockIdx.y of db_dec[j] = Σ_n dx̂[n, j] − Σ_i db_enc_sum[i]·W_enc[i, j]: its contiguous share
// of tokens and of latents; thread (c, g) sums every 8th of them, the 8 partials are added in order
// into partial[s, j].  grid (ceil(d/32), slices), 256 threads.
extern "C" __global__ void __launch_bounds__(kBiasCols * kBiasGroups)
bias_dec_partial(const float* dxhat, const double* db_enc_sum, const float* w_enc, int n, int m, int d, int slices,
                 double* partial) {
    __shared__ double part[kBiasGroups][kBiasCols];
    const int c = threadIdx.x % kBiasCols, g = threadIdx.x / kBiasCols, j = blockIdx.x * kBiasCols + c, s = blockIdx.y;
    const int r0 = static_cast<int>(static_cast<long long>(n) * s / slices), r1 = static_cast<int>(static_cast<long long>(n) * (s + 1) / slices);
    const int i0 = static_cast<int>(static_cast<long long>(m) * s / slices), i1 = static_cast<int>(static_cast<long long>(m) * (s + 1) / slices);
    double acc = 0.0;
    if (j < d) {
        for (int r = r0 + g; r < r1; r += kBiasGroups) acc += dxhat[static_cast<size_t>(r) * d + j];
        for (int i = i0 + g; i < i1; i += kBiasGroups) {
            const double b = db_enc_sum[i];
            if (b != 0.0) acc -= b * w_enc[static_cast<size_t>(i) * d + j];
        }
    }
    part[g][c] = acc;
    __syncthreads();
    if (g == 0 && j < d) {
        double total = 0.0;
        for (int q = 0; q < kBiasGroups; q++) total += part[q][c];
        partial[static_cast<size_t>(s) * d + j] = total;
    }
}

// db_dec[j] = Σ_s partial[s, j] in slice order.  grid ceil(d/256).
extern "C" __global__ void __launch_bounds__(kColThreads) bias_dec_finish(const double* partial, int slices, int d, float* db_dec) {
    const int j = blockIdx.x * kColThreads + threadIdx.x;
    if (j >= d) return;
    double total = 0.0;
    for (int s = 0; s < slices; s++) total += partial[static_cast<size_t>(s) * d + j];
    db_dec[j] = static_cast<float>(total);
}
