// encode_select.cu — the fused g-SAE encoder and its top-k selection (SPEC §2, AuxK of §3).
//
// Computes, without ever writing an [N, M] array:
//   z     = (x − b_dec)·W_encᵀ + b_enc                    pre-activations
//   s     = |g·W_decᵀ|                                      gradient projection (skipped when β = 0)
//   score = z + β·z∘s
//   S_n   = the k latents of smallest selection key (= largest score, then lower index; common.cuh)
//   aux_n = the k_aux dead latents of smallest key (AuxK), k_aux = min(aux_k, #dead) chosen by the host
// and a = ReLU(z) at the selected latents, recomputed in f32 from the parameters so that the values
// never carry the bf16 mode's rounding (only the choice of latents does).
//
// Two kernels per batch chunk of `rows` tokens starting at token row0:
//  1. encode_tile_f32 / encode_tile_bf16 — grid (ceil(M/kTileM), ceil(rows/kTileN)), 256 threads.
//     One block computes z and s for kTileN tokens × kTileM latents (f32: FMA from shared memory;
//     bf16: WMMA 16×16×16 bf16 tensor-core products with f32 accumulation), then each warp takes
//     whole token rows and keeps the min(k, kTileM) smallest keys of the tile (and the
//     min(k_aux, kTileM) smallest among dead latents), written in ascending latent order.
//  2. encode_merge — grid rows, 256 threads. A radix select over the row's candidates finds the
//     k-th key, a block-wide compaction writes the kept latents in ascending order (candidates are
//     already in latent order), and one warp per kept latent recomputes z in f32 for its value.
//
// Pointers (row-major, f32 unless said):
//   x [N, d], g [N, d] (may be null when β = 0), w_enc [M, d], b_enc [M], w_dec [M, d], b_dec [d],
//   dead [M] u8 (null: no AuxK), cand [rows, tiles, kc] u64, cand_aux [rows, tiles, kca] u64,
//   out_idx [N, k_out] i32, out_val [N, k_out].
//
// Tile sizes: kTileN × kTileM = 32 × 128 gives each of the 8 warps one 16 × 32 WMMA slab (two
// 16×16 accumulators for z and two for s: 32 f32 registers) and each f32 thread 4 × 4 outputs;
// 128 latents per tile make the per-row selection 4 keys per lane. The z and s tiles are staged in
// shared memory (2 × 32 × 132 f32 = 33 KiB) so that both modes share one selection epilogue; the
// operand staging area (f32: kTileKF = 16 deep, 21 KiB; bf16: kTileKH = 32 deep, 25 KiB) aliases
// the s tile, keeping every block under the 48 KiB static limit on sm_80 and sm_90 (42,496 bytes).
// ptxas (nvcc 13.0, sm_90): encode_tile_f32 80 registers, encode_tile_bf16 66, encode_merge 32,
// no spills, no stack: 3 blocks (24 warps) per SM by registers, 5 by shared memory.
// The per-tile selection ranks each key against the tile's 128 (O(kTileM²) compares per row,
// about a tenth of the f32 products at d = 768 by instruction count). No timing on a GPU has been
// made yet; the 32-token tile re-reads each weight tile N/32 times, the first thing to measure.
// encode_geometry reports these constants so that the host can refuse a mismatched build.
#include <mma.h>
#include <cuda_bf16.h>

#include "common.cuh"

namespace gsae {

constexpr int kThreads = 256;
constexpr int kTileN = 32;
constexpr int kTileM = 128;
constexpr int kTileKF = 16;   // f32 staging depth
constexpr int kTileKH = 32;   // bf16 staging depth (two 16-deep WMMA steps)
constexpr int kPadH = 8;      // bf16 row pad: keeps ldm a multiple of 8 and spreads banks
constexpr int kLdTile = kTileM + 4;  // z/s tile row stride (multiple of 4 for WMMA f32 stores)
constexpr int kKeysPerLane = kTileM / kWarp;
constexpr int kWarps = kThreads / kWarp;

static_assert(kThreads % kWarp == 0, "whole warps");
static_assert(kTileM % kWarp == 0, "each lane holds kTileM/32 keys of a row");
static_assert(kTileN % kWarps == 0, "each warp owns whole token rows in the epilogue");
static_assert(kTileN == 2 * 16 && kTileM == 4 * 32, "bf16 layout: 2 × 4 warps, each 16 rows × 32 latents");
static_assert(kTileN * kTileM == kThreads * 16, "f32 layout: 4 × 4 outputs per thread");
static_assert(kTileKH % 16 == 0 && (kTileKH + kPadH) % 8 == 0, "WMMA bf16 k-steps and ldm");
static_assert(kLdTile % 4 == 0, "WMMA f32 ldm");

struct StageF32 {
    float xs[kTileN][kTileKF + 1];
    float ws[kTileM][kTileKF + 1];
    float gs[kTileN][kTileKF + 1];
    float vs[kTileM][kTileKF + 1];
};
struct StageBf16 {
    alignas(32) __nv_bfloat16 xs[kTileN][kTileKH + kPadH];
    alignas(32) __nv_bfloat16 ws[kTileM][kTileKH + kPadH];
    alignas(32) __nv_bfloat16 gs[kTileN][kTileKH + kPadH];
    alignas(32) __nv_bfloat16 vs[kTileM][kTileKH + kPadH];
};
struct TileShared {
    alignas(32) float z[kTileN][kLdTile];
    union {
        alignas(32) float s[kTileN][kLdTile];
        StageF32 f32;
        StageBf16 bf16;
    };
};
static_assert(sizeof(TileShared) <= 48 * 1024, "static shared memory limit");

struct TileArgs {
    const float* x; const float* g; const float* w_enc; const float* b_enc; const float* w_dec;
    const float* b_dec; const unsigned char* dead;
    int row0, rows, d, m, k, k_aux; float beta;
    unsigned long long* cand; unsigned long long* cand_aux;
};

// Loads a [R × K] slab starting at (row0, k0) of a row-major [rows_total, d] matrix, minus `shift`
// along k when given; zero outside the matrix so that partial tiles add nothing.
template <int R, int K, typename T, int LD>
__device__ __forceinline__ void load_slab(T (*dst)[LD], const float* src, const float* shift, int row0, int rows_total,
                                          int k0, int d) {
    for (int e = threadIdx.x; e < R * K; e += kThreads) {
        const int r = e / K, kk = e % K, row = row0 + r, col = k0 + kk;
        float v = 0.0f;
        if (row < rows_total && col < d) {
            v = src[static_cast<size_t>(row) * d + col];
            if (shift != nullptr) v -= shift[col];
        }
        if constexpr (sizeof(T) == 4) dst[r][kk] = v;
        else dst[r][kk] = __float2bfloat16_rn(v);
    }
}

// Stages the k0 .. k0+K slice of x − b_dec and W_enc (and of g and W_dec when with_s) for one tile.
template <int K, typename Stage>
__device__ __forceinline__ void load_operands(Stage& st, const TileArgs& a, int tok0, int lat0, int k0, bool with_s) {
    const int tokens_end = a.row0 + a.rows;
    load_slab<kTileN, K>(st.xs, a.x, a.b_dec, tok0, tokens_end, k0, a.d);
    load_slab<kTileM, K>(st.ws, a.w_enc, nullptr, lat0, a.m, k0, a.d);
    if (with_s) {
        load_slab<kTileN, K>(st.gs, a.g, nullptr, tok0, tokens_end, k0, a.d);
        load_slab<kTileM, K>(st.vs, a.w_dec, nullptr, lat0, a.m, k0, a.d);
    }
}

// f32 products: thread (ty, tx) owns rows 4·ty .. 4·ty+3 and latents tx + 32·c, c < 4.
__device__ void tile_products_f32(const TileArgs& a, TileShared& sh, int tok0, int lat0, bool with_s) {
    const int tx = threadIdx.x % kWarp, ty = threadIdx.x / kWarp;
    float accz[4][4] = {}, accs[4][4] = {};
    for (int k0 = 0; k0 < a.d; k0 += kTileKF) {
        load_operands<kTileKF>(sh.f32, a, tok0, lat0, k0, with_s);
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTileKF; kk++) {
            float xv[4], wv[4];
#pragma unroll
            for (int r = 0; r < 4; r++) xv[r] = sh.f32.xs[4 * ty + r][kk];
#pragma unroll
            for (int c = 0; c < 4; c++) wv[c] = sh.f32.ws[tx + kWarp * c][kk];
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c = 0; c < 4; c++) accz[r][c] = fmaf(xv[r], wv[c], accz[r][c]);
            if (with_s) {
#pragma unroll
                for (int r = 0; r < 4; r++) xv[r] = sh.f32.gs[4 * ty + r][kk];
#pragma unroll
                for (int c = 0; c < 4; c++) wv[c] = sh.f32.vs[tx + kWarp * c][kk];
#pragma unroll
                for (int r = 0; r < 4; r++)
#pragma unroll
                    for (int c = 0; c < 4; c++) accs[r][c] = fmaf(xv[r], wv[c], accs[r][c]);
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int r = 0; r < 4; r++)
#pragma unroll
        for (int c = 0; c < 4; c++) {
            sh.z[4 * ty + r][tx + kWarp * c] = accz[r][c];
            sh.s[4 * ty + r][tx + kWarp * c] = accs[r][c];
        }
}

// bf16 products on tensor cores: warp w owns rows 16·(w / 4) .. +15 and latents 32·(w % 4) .. +31.
__device__ void tile_products_bf16(const TileArgs& a, TileShared& sh, int tok0, int lat0, bool with_s) {
    using namespace nvcuda;
    const int warp = threadIdx.x / kWarp, rb = 16 * (warp / 4), cb = 32 * (warp % 4);
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> accz[2], accs[2];
    for (int j = 0; j < 2; j++) {
        wmma::fill_fragment(accz[j], 0.0f);
        wmma::fill_fragment(accs[j], 0.0f);
    }
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb;
    constexpr int ld = kTileKH + kPadH;
    for (int k0 = 0; k0 < a.d; k0 += kTileKH) {
        load_operands<kTileKH>(sh.bf16, a, tok0, lat0, k0, with_s);
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < kTileKH; ks += 16) {
            wmma::load_matrix_sync(fa, &sh.bf16.xs[rb][ks], ld);
#pragma unroll
            for (int j = 0; j < 2; j++) {
                wmma::load_matrix_sync(fb, &sh.bf16.ws[cb + 16 * j][ks], ld);
                wmma::mma_sync(accz[j], fa, fb, accz[j]);
            }
            if (with_s) {
                wmma::load_matrix_sync(fa, &sh.bf16.gs[rb][ks], ld);
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    wmma::load_matrix_sync(fb, &sh.bf16.vs[cb + 16 * j][ks], ld);
                    wmma::mma_sync(accs[j], fa, fb, accs[j]);
                }
            }
        }
        __syncthreads();
    }
    for (int j = 0; j < 2; j++) {
        wmma::store_matrix_sync(&sh.z[rb][cb + 16 * j], accz[j], kLdTile, wmma::mem_row_major);
        wmma::store_matrix_sync(&sh.s[rb][cb + 16 * j], accs[j], kLdTile, wmma::mem_row_major);
    }
}

// One warp keeps the `keep` smallest of the row's kTileM keys (lane holds keys[q] for latent
// lane + 32·q) and writes them in ascending latent order to out[0 .. keep), kInvalidKey after.
__device__ void warp_keep_smallest(const unsigned long long (&keys)[kKeysPerLane], int keep, unsigned long long* out) {
    const int lane = threadIdx.x % kWarp;
    int rank[kKeysPerLane] = {};
    for (int src = 0; src < kWarp; src++) {
#pragma unroll
        for (int q2 = 0; q2 < kKeysPerLane; q2++) {
            const unsigned long long other = __shfl_sync(0xffffffffu, keys[q2], src);
#pragma unroll
            for (int q = 0; q < kKeysPerLane; q++) rank[q] += other < keys[q] ? 1 : 0;
        }
    }
    int before = 0;
#pragma unroll
    for (int q = 0; q < kKeysPerLane; q++) {
        const bool kept = keys[q] != kInvalidKey && rank[q] < keep;
        const unsigned ballot = __ballot_sync(0xffffffffu, kept);
        if (kept) out[before + __popc(ballot & ((1u << lane) - 1u))] = keys[q];
        before += __popc(ballot);
    }
    for (int slot = before + lane; slot < keep; slot += kWarp) out[slot] = kInvalidKey;
}

template <bool kBf16>
__device__ void encode_tile(const TileArgs& a) {
    __shared__ TileShared sh;
    const int tile = blockIdx.x, tiles = gridDim.x;
    const int lat0 = tile * kTileM, local0 = blockIdx.y * kTileN, tok0 = a.row0 + local0;
    const bool with_s = a.beta != 0.0f;
    if constexpr (kBf16) tile_products_bf16(a, sh, tok0, lat0, with_s);
    else tile_products_f32(a, sh, tok0, lat0, with_s);
    __syncthreads();

    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const int kc = min(a.k, kTileM), kca = min(a.k_aux, kTileM);
    for (int r = warp; r < kTileN; r += kWarps) {
        const int local = local0 + r;
        if (local >= a.rows) break;
        unsigned long long keys[kKeysPerLane], aux[kKeysPerLane];
#pragma unroll
        for (int q = 0; q < kKeysPerLane; q++) {
            const int col = lane + kWarp * q, lat = lat0 + col;
            keys[q] = kInvalidKey;
            if (lat < a.m) {
                const float z = sh.z[r][col] + a.b_enc[lat];
                const float s = with_s ? fabsf(sh.s[r][col]) : 0.0f;
                keys[q] = selection_key(gsae_score(z, s, a.beta), lat);
            }
            aux[q] = (kca > 0 && lat < a.m && a.dead[lat] != 0) ? keys[q] : kInvalidKey;
        }
        warp_keep_smallest(keys, kc, a.cand + (static_cast<size_t>(local) * tiles + tile) * kc);
        if (kca > 0) warp_keep_smallest(aux, kca, a.cand_aux + (static_cast<size_t>(local) * tiles + tile) * kca);
    }
}

}  // namespace gsae

using gsae::TileArgs;

#define GSAE_TILE_PARAMS                                                                                        \
    const float *x, const float *g, const float *w_enc, const float *b_enc, const float *w_dec, const float *b_dec, \
        const unsigned char *dead, int row0, int rows, int d, int m, int k, int k_aux, float beta,                \
        unsigned long long *cand, unsigned long long *cand_aux
#define GSAE_TILE_ARGS TileArgs{x, g, w_enc, b_enc, w_dec, b_dec, dead, row0, rows, d, m, k, k_aux, beta, cand, cand_aux}

extern "C" __global__ void __launch_bounds__(gsae::kThreads) encode_tile_f32(GSAE_TILE_PARAMS) {
    gsae::encode_tile<false>(GSAE_TILE_ARGS);
}

extern "C" __global__ void __launch_bounds__(gsae::kThreads) encode_tile_bf16(GSAE_TILE_PARAMS) {
    gsae::encode_tile<true>(GSAE_TILE_ARGS);
}

// out = {kTileN, kTileM, kThreads}: the launch geometry the host must use.  grid 1, 1 thread.
extern "C" __global__ void encode_geometry(int* out) {
    out[0] = gsae::kTileN;
    out[1] = gsae::kTileM;
    out[2] = gsae::kThreads;
}

// Block per local row: the k smallest of the row's `count` candidate keys, ascending latent order,
// values ReLU(z) recomputed in f32. cand [rows, count]; out_* [N, k] at token row0 + blockIdx.x.
extern "C" __global__ void __launch_bounds__(gsae::kThreads)
encode_merge(const unsigned long long* cand, int count, int k, const float* x, const float* w_enc, const float* b_enc,
             const float* b_dec, int row0, int d, int* out_idx, float* out_val) {
    using namespace gsae;
    __shared__ int hist[256];
    __shared__ int scratch[kWarps];
    __shared__ unsigned long long state[2];
    const int local = blockIdx.x;
    const unsigned long long* keys = cand + static_cast<size_t>(local) * count;
    auto key_at = [keys](int c) { return keys[c]; };
    const unsigned long long kth = block_radix_select(key_at, count, k, hist, state);
    const size_t token = static_cast<size_t>(row0) + local;
    int* idx = out_idx + token * k;
    block_compact_indices(key_at, count, kth, idx, scratch);
    __syncthreads();

    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const float* xr = x + token * d;
    for (int slot = warp; slot < k; slot += kWarps) {
        const int i = idx[slot];
        const float* w = w_enc + static_cast<size_t>(i) * d;
        float acc = 0.0f;
        for (int j = lane; j < d; j += kWarp) acc = fmaf(xr[j] - b_dec[j], w[j], acc);
        acc = warp_sum(acc) + b_enc[i];
        if (lane == 0) out_val[token * k + slot] = fmaxf(acc, 0.0f);
    }
}
