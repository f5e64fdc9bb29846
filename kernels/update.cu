// update.cu — the optimizer step (SPEC §5) and the dead-latent counters (SPEC §3).
//
// adam_update, block i < M owns latent i, block M owns b_dec:
//   (1) g_dec[i] ← g_dec[i] − (g_dec[i]·W_dec[i] / ‖W_dec[i]‖²)·W_dec[i]     (skipped when ‖W_dec[i]‖ = 0)
//   (2) Adam on W_enc[i], b_enc[i], W_dec[i] (and b_dec in block M):
//       m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr·(m/c1)/(√(v/c2) + ε),
//       c1 = 1 − β1^t, c2 = 1 − β2^t given by the host in f64
//   (3) W_dec[i] ← W_dec[i] / ‖W_dec[i]‖
// The rounding follows gsae.cpu.ReferenceOps.update step for step (moments in f32 with no fused
// multiply-add, the step in f64, norms in f64), so the two agree to the last bit or nearly: only
// the order of the f64 row sums differs.
// Pointers: w_enc, w_dec and their g_/m_/v_ twins [M, d]; b_enc and twins [M]; b_dec and twins [d];
// since [M] i64; dead [M] u8; counters [2] u64 {a > 0 count, dead count}; idx [N, k] i32, val [N, k].
// Launch: grid M + 1, kUpdateThreads threads (d = 768 is 3 elements per thread).
//
// since_fired_advance / since_fired_reset / dead_mark keep the counters of HostTrainingStep on the
// device: since[i] += N; since[i] = 0 for every selected latent (and count a > 0 for L0);
// dead[i] = since[i] ≥ dead_tokens (and count them). Integer atomics only, for the two counts.
// state_fingerprint hashes the state for data-parallel ranks' comparison (gsae.ops.StateFingerprint).
//
// init_decoder draws SPEC §5's initial W_dec on the device and sets W_enc = W_dec: the twin of
// gsae.ops.InitRandom, bit for bit (integer hashing and only exactly rounded f64 operations, each
// written as an _rn intrinsic so that nvcc fuses no multiply-add). Block i owns row i: its threads
// draw columns j (element i·d + j, 64-bit), then thread 0 sums the squares in column order in f64
// as the host does, and every thread scales by the same f32 inverse norm.
// Pointers: w_enc, w_dec [M, d]. Launch: grid M, kInitThreads threads. The sequential f64 sum is
// what makes the host's order reproducible; it runs once per run, reading the row just written
// (L2-resident). ptxas (nvcc 13.0, sm_90): 34 registers, no spills. Not yet timed on a GPU.
#include "common.cuh"

namespace gsae {
constexpr int kUpdateThreads = 256;
constexpr int kCounterThreads = 256;
constexpr int kInitThreads = 128;
constexpr int kLogTerms = 14;  // InitRandom.LOG_TERMS
constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 6.25e-10f;
constexpr float kOneMinusBeta1 = 1.0f - kBeta1, kOneMinusBeta2 = 1.0f - kBeta2;  // in f32, as Java's 1 - β
static_assert(kUpdateThreads % kWarp == 0, "whole warps");

__device__ __forceinline__ void adam(float* p, const float* g, float* m, float* v, size_t at, float lr, double c1,
                                     double c2) {
    const float gi = g[at];
    const float mi = __fadd_rn(__fmul_rn(kBeta1, m[at]), __fmul_rn(kOneMinusBeta1, gi));
    const float vi = __fadd_rn(__fmul_rn(kBeta2, v[at]), __fmul_rn(__fmul_rn(kOneMinusBeta2, gi), gi));
    m[at] = mi;
    v[at] = vi;
    const double denom = __dadd_rn(__dsqrt_rn(__ddiv_rn(static_cast<double>(vi), c2)), static_cast<double>(kEps));
    const double step = __ddiv_rn(__dmul_rn(static_cast<double>(lr), __ddiv_rn(static_cast<double>(mi), c1)), denom);
    p[at] = __fsub_rn(p[at], static_cast<float>(step));
}

// splitmix64's finaliser (InitRandom.mix).
__device__ __forceinline__ unsigned long long init_mix(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// (h + ½)·2⁻³¹ − 1, exact (InitRandom.uniform).
__device__ __forceinline__ double init_uniform(uint32_t h) {
    return __dsub_rn(__dmul_rn(__dadd_rn(static_cast<double>(h), 0.5), 4.656612873077392578125e-10), 1.0);
}

// ln x for a normal x > 0 by the atanh series on the mantissa (InitRandom.log).
__device__ double init_log(double x) {
    const unsigned long long bits = static_cast<unsigned long long>(__double_as_longlong(x));
    int e = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    double m = __longlong_as_double(static_cast<long long>((bits & 0xFFFFFFFFFFFFFull) | 0x3FF0000000000000ull));
    if (m > 1.4142135623730951) {
        m = __dmul_rn(m, 0.5);
        e++;
    }
    const double t = __ddiv_rn(__dsub_rn(m, 1.0), __dadd_rn(m, 1.0)), t2 = __dmul_rn(t, t);
    double p = __ddiv_rn(1.0, static_cast<double>(2 * kLogTerms + 1));
    for (int n = kLogTerms - 1; n >= 0; n--) p = __dadd_rn(__dmul_rn(p, t2), __ddiv_rn(1.0, static_cast<double>(2 * n + 1)));
    return __dadd_rn(__dmul_rn(static_cast<double>(e), 0.6931471805599453), __dmul_rn(__dmul_rn(2.0, t), p));
}

// The index-th standard normal of seed: Marsaglia's polar method (InitRandom.gaussian).
__device__ double init_gaussian(unsigned long long seed, unsigned long long index) {
    const unsigned long long stream = init_mix(init_mix(seed) + index);
    for (unsigned long long a = 1;; a++) {
        const unsigned long long bits = init_mix(stream + a * 0x9E3779B97F4A7C15ull);
        const double u = init_uniform(static_cast<uint32_t>(bits >> 32)), v = init_uniform(static_cast<uint32_t>(bits));
        const double s = __dadd_rn(__dmul_rn(u, u), __dmul_rn(v, v));
        if (s < 1.0 && s > 0.0) return __dmul_rn(u, __dsqrt_rn(__ddiv_rn(__dmul_rn(-2.0, init_log(s)), s)));
    }
}
}  // namespace gsae

using namespace gsae;

extern "C" __global__ void __launch_bounds__(kInitThreads) init_decoder(float* w_enc, float* w_dec, int m, int d, long long seed) {
    __shared__ float inv_norm;
    const size_t row = static_cast<size_t>(blockIdx.x) * d;
    for (int j = threadIdx.x; j < d; j += kInitThreads)
        w_dec[row + j] = static_cast<float>(init_gaussian(static_cast<unsigned long long>(seed), row + j));
    __syncthreads();
    if (threadIdx.x == 0) {
        double ss = 0.0;
        for (int j = 0; j < d; j++) {
            const double w = w_dec[row + j];
            ss = __dadd_rn(ss, __dmul_rn(w, w));
        }
        inv_norm = ss == 0.0 ? 1.0f : static_cast<float>(__ddiv_rn(1.0, __dsqrt_rn(ss)));
    }
    __syncthreads();
    for (int j = threadIdx.x; j < d; j += kInitThreads) {
        const float w = __fmul_rn(w_dec[row + j], inv_norm);
        w_dec[row + j] = w;
        w_enc[row + j] = w;
    }
}

extern "C" __global__ void __launch_bounds__(kUpdateThreads)
adam_update(float* w_enc, float* b_enc, float* w_dec, float* b_dec, const float* g_w_enc, const float* g_b_enc,
            float* g_w_dec, const float* g_b_dec, float* m_w_enc, float* m_b_enc, float* m_w_dec, float* m_b_dec,
            float* v_w_enc, float* v_b_enc, float* v_w_dec, float* v_b_dec, int m, int d, float lr, double c1,
            double c2) {
    __shared__ double scratch[kUpdateThreads / kWarp];
    const int i = blockIdx.x;
    if (i == m) {
        for (int j = threadIdx.x; j < d; j += kUpdateThreads) adam(b_dec, g_b_dec, m_b_dec, v_b_dec, j, lr, c1, c2);
        return;
    }
    const size_t row = static_cast<size_t>(i) * d;
    double gw = 0.0, ww = 0.0;
    for (int j = threadIdx.x; j < d; j += kUpdateThreads) {
        gw += static_cast<double>(g_w_dec[row + j]) * w_dec[row + j];
        ww += static_cast<double>(w_dec[row + j]) * w_dec[row + j];
    }
    gw = block_sum(gw, scratch);
    ww = block_sum(ww, scratch);
    const double along = ww == 0.0 ? 0.0 : __ddiv_rn(gw, ww);
    for (int j = threadIdx.x; j < d; j += kUpdateThreads) {
        if (ww != 0.0) g_w_dec[row + j] = __fsub_rn(g_w_dec[row + j], static_cast<float>(__dmul_rn(along, w_dec[row + j])));
        adam(w_dec, g_w_dec, m_w_dec, v_w_dec, row + j, lr, c1, c2);
        adam(w_enc, g_w_enc, m_w_enc, v_w_enc, row + j, lr, c1, c2);
    }
    if (threadIdx.x == 0) adam(b_enc, g_b_enc, m_b_enc, v_b_enc, i, lr, c1, c2);
    double ss = 0.0;
    for (int j = threadIdx.x; j < d; j += kUpdateThreads) ss += static_cast<double>(w_dec[row + j]) * w_dec[row + j];
    ss = block_sum(ss, scratch);
    if (ss == 0.0) return;
    const float inv = static_cast<float>(__ddiv_rn(1.0, __dsqrt_rn(ss)));
    for (int j = threadIdx.x; j < d; j += kUpdateThreads) w_dec[row + j] = __fmul_rn(w_dec[row + j], inv);
}

// since[i] += n.  grid ceil(M/256).
extern "C" __global__ void __launch_bounds__(kCounterThreads) since_fired_advance(long long* since, int m, int n) {
    const int i = blockIdx.x * kCounterThreads + threadIdx.x;
    if (i < m) since[i] += n;
}

// since[idx[p]] = 0 for every pair p < pairs; counters[0] += #(val[p] > 0).  grid ceil(pairs/256).
extern "C" __global__ void __launch_bounds__(kCounterThreads)
since_fired_reset(const int* idx, const float* val, int pairs, long long* since, unsigned long long* counters) {
    const int p = blockIdx.x * kCounterThreads + threadIdx.x;
    const bool fired = p < pairs && val[p] > 0.0f;
    if (p < pairs) since[idx[p]] = 0;
    const unsigned ballot = __ballot_sync(0xffffffffu, fired);
    if (threadIdx.x % kWarp == 0 && ballot != 0) atomicAdd(&counters[0], static_cast<unsigned long long>(__popc(ballot)));
}

// fingerprint[0] += Σ_i mix(words[i] ^ i·φ ^ tensor·ψ) over `count` 32-bit words, wrapping: one tensor's
// part of gsae.ops.StateFingerprint (the twin). A sum, so the integer atomics leave the same bits in any
// order.  grid ≤ 1024 (grid-stride), kCounterThreads threads; one atomic per thread.
extern "C" __global__ void __launch_bounds__(kCounterThreads)
state_fingerprint(const unsigned* words, long long count, int tensor, unsigned long long* fingerprint) {
    const unsigned long long salt = static_cast<unsigned long long>(tensor) * 0xC2B2AE3D27D4EB4Full;
    const long long stride = static_cast<long long>(gridDim.x) * kCounterThreads;
    unsigned long long acc = 0;
    for (long long i = static_cast<long long>(blockIdx.x) * kCounterThreads + threadIdx.x; i < count; i += stride)
        acc += init_mix(static_cast<unsigned long long>(words[i]) ^ (static_cast<unsigned long long>(i) * 0x9E3779B97F4A7C15ull) ^ salt);
    if (acc != 0) atomicAdd(fingerprint, acc);
}

// dead[i] = since[i] ≥ dead_tokens; counters[1] += #dead.  grid ceil(M/256).
extern "C" __global__ void __launch_bounds__(kCounterThreads)
dead_mark(const long long* since, int m, long long dead_tokens, unsigned char* dead, unsigned long long* counters) {
    const int i = blockIdx.x * kCounterThreads + threadIdx.x;
    const bool is_dead = i < m && since[i] >= dead_tokens;
    if (i < m) dead[i] = is_dead ? 1 : 0;
    const unsigned ballot = __ballot_sync(0xffffffffu, is_dead);
    if (threadIdx.x % kWarp == 0 && ballot != 0) atomicAdd(&counters[1], static_cast<unsigned long long>(__popc(ballot)));
}
