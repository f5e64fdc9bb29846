// Shared device helpers for the gsae kernels (SPEC.md §2–5).
//
// Selection keys: every (score, latent) pair is packed into one 64-bit key whose unsigned order is
// exactly SPEC §2's preference order — larger score first, then lower latent index — so that every
// top-k in this project is "the k smallest keys". The high word is the bitwise complement of the
// score's order-preserving bit pattern, the low word the latent index. Keys are unique per row
// because indices are, which lets a radix select find the k-th key exactly.
#pragma once

#include <cstdint>

namespace gsae {

constexpr int kWarp = 32;
constexpr unsigned long long kInvalidKey = ~0ull;  // sorts after every real key

__host__ __device__ constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Unsigned pattern whose order is the float order (−0 below +0, as Java's Double.compare).
__device__ __forceinline__ uint32_t ordered_bits(float f) {
    uint32_t b = __float_as_uint(f);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// key = (~ordered(score) << 32) | index: ascending keys = descending score, then ascending index.
__device__ __forceinline__ unsigned long long selection_key(float score, int index) {
    return (static_cast<unsigned long long>(~ordered_bits(score)) << 32) | static_cast<uint32_t>(index);
}

__device__ __forceinline__ int key_index(unsigned long long key) {
    return static_cast<int>(key & 0xffffffffu);
}

// score = z + β·z·s (SPEC §2), with β = 0 leaving z untouched bit for bit.
__device__ __forceinline__ float gsae_score(float z, float s, float beta) {
    return beta == 0.0f ? z : __fadd_rn(z, __fmul_rn(__fmul_rn(beta, z), s));
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum over the block in a fixed tree order (deterministic); every thread gets the total.
// `scratch` needs blockDim.x / 32 entries; blockDim.x must be a multiple of 32.
template <typename T>
__device__ T block_sum(T v, T* scratch) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    T total = 0;
    for (int w = 0; w < warps; w++) total += scratch[w];
    return total;
}

// Exclusive prefix count of `flag` over the block in thread order; `total` receives the block's
// count. `scratch` needs blockDim.x / 32 ints; blockDim.x must be a multiple of 32.
__device__ __forceinline__ int block_exclusive_count(bool flag, int* scratch, int* total) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
    const unsigned ballot = __ballot_sync(0xffffffffu, flag);
    const int within = __popc(ballot & ((1u << lane) - 1u));
    __syncthreads();
    if (lane == 0) scratch[warp] = __popc(ballot);
    __syncthreads();
    int before = 0, sum = 0;
    for (int w = 0; w < warps; w++) {
        if (w < warp) before += scratch[w];
        sum += scratch[w];
    }
    *total = sum;
    return before + within;
}

// Finds the k-th smallest (1-based) of `count` unique keys key_at(0 .. count−1), k ≤ the number of
// keys below kInvalidKey. Eight 8-bit radix passes, each a shared-memory histogram (integer atomics:
// the counts, hence the result, do not depend on their order). Every thread returns the key.
// `hist` needs 256 ints, `state` 2 unsigned long longs.
template <typename KeyAt>
__device__ unsigned long long block_radix_select(KeyAt key_at, int count, int k, int* hist, unsigned long long* state) {
    unsigned long long prefix = 0, mask = 0;
    int remaining = k;
    for (int shift = 56; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        for (int c = threadIdx.x; c < count; c += blockDim.x) {
            const unsigned long long key = key_at(c);
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 0xff], 1);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int below = 0, digit = 0;
            while (below + hist[digit] < remaining) below += hist[digit++];
            state[0] = prefix | (static_cast<unsigned long long>(digit) << shift);
            state[1] = static_cast<unsigned long long>(remaining - below);
        }
        __syncthreads();
        prefix = state[0];
        remaining = static_cast<int>(state[1]);
        mask |= 0xffull << shift;
        __syncthreads();
    }
    return prefix;
}

// Writes, in ascending c, key_index(key_at(c)) of every key ≤ threshold to out[0 ..], and returns
// how many (every thread). `scratch` needs blockDim.x / 32 ints.
template <typename KeyAt>
__device__ int block_compact_indices(KeyAt key_at, int count, unsigned long long threshold, int* out, int* scratch) {
    int written = 0;
    for (int base = 0; base < count; base += blockDim.x) {
        const int c = base + threadIdx.x;
        const unsigned long long key = c < count ? key_at(c) : kInvalidKey;
        const bool keep = key <= threshold && key != kInvalidKey;
        int total;
        const int at = block_exclusive_count(keep, scratch, &total);
        if (keep) out[written + at] = key_index(key);
        written += total;
    }
    return written;
}

}  // namespace gsae
