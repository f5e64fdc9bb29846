// cuda_emu.h — the CUDA execution model as far as kernels/*.cu use it, for the host C++ compiler.
//
// Force-included (g++ -include cuda_emu.h) when emulator/emulator.mk compiles the kernels a
// second time into libgsae_emu.so; the kernels' source does not change. What each piece means:
//   __global__/__device__/__host__   plain host functions; __launch_bounds__ is read by the
//                                    registry generator (gen_registry.py), not here
//   threadIdx, blockIdx, blockDim,   the running emulated thread's coordinates, set by the
//   gridDim                          scheduler (scheduler.cpp) before it switches to its fiber
//   __shared__                       `static`: the linker script shared.ld gathers every static of
//                                    the kernel objects (templates included) into one section that
//                                    the runtime poisons before each block; blocks run one at a time
//   __syncthreads, __shfl_*_sync,    real collectives across fibers: a thread blocks until every
//   __ballot_sync, __any/__all_sync, thread (barrier) or every lane of the mask (warp) arrives, and
//   __syncwarp, wmma::*_sync         the runtime reports partial barriers, bad masks and deadlocks
//   atomics                          relaxed __atomic builtins (fibers never switch inside one;
//                                    the builtins keep ThreadSanitizer informed)
//   __nv_bfloat16, *_rn              round to nearest even, as the device; the kernels are compiled
//                                    with -ffp-contract=off so that no multiply-add is fused
//                                    unless the source says fmaf
// Dynamic shared memory (extern __shared__) is not supported: no kernel uses it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __restrict__ __restrict

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {

#define EMU_HIDDEN __attribute__((visibility("hidden")))

/** The coordinates of the emulated thread now running (one launch at a time per process). */
struct Coordinates {
    uint3 thread, block;
    dim3 block_dim, grid_dim;
};
extern EMU_HIDDEN Coordinates now;

enum Collective : int { kShflIdx, kShflXor, kShflUp, kShflDown, kBallot, kAny, kAll, kSyncWarp, kWmma };

/** Blocks the calling thread at the block barrier until every live thread of its block arrives. */
EMU_HIDDEN void syncthreads(const char* file, int line);
/** A warp collective: returns this lane's result once every lane of `mask` has arrived at the same one. */
EMU_HIDDEN uint64_t collective(Collective kind, unsigned mask, uint64_t value, int arg, int width, const char* file, int line);
/** Memory private to the caller's warp for the current block (`serial` changes with each block). */
EMU_HIDDEN void* warp_scratch(std::size_t bytes, uint64_t* serial);
/** Mask of the lanes of the calling thread's warp that have not exited. */
EMU_HIDDEN unsigned live_lanes();

template <typename T>
inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffles move at most 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}
template <typename T>
inline T from_bits(uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}
template <typename T>
inline T shfl(Collective kind, const char* file, int line, unsigned mask, T v, int arg, int width = 32) {
    return from_bits<T>(collective(kind, mask, to_bits(v), arg, width, file, line));
}

}  // namespace emu

#define threadIdx (::emu::now.thread)
#define blockIdx (::emu::now.block)
#define blockDim (::emu::now.block_dim)
#define gridDim (::emu::now.grid_dim)
#define warpSize 32

// Collectives are functions whose defaulted last parameters capture the call site for reports.
#define EMU_SITE const char *file = __builtin_FILE(), int line = __builtin_LINE()
inline void __syncthreads(EMU_SITE) { ::emu::syncthreads(file, line); }
inline void __syncwarp(unsigned mask = 0xffffffffu, EMU_SITE) { (void)::emu::collective(::emu::kSyncWarp, mask, 0, 0, 32, file, line); }
template <typename T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, EMU_SITE) {
    return ::emu::shfl(::emu::kShflIdx, file, line, mask, v, src, width);
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, EMU_SITE) {
    return ::emu::shfl(::emu::kShflXor, file, line, mask, v, lane_mask, width);
}
template <typename T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, EMU_SITE) {
    return ::emu::shfl(::emu::kShflUp, file, line, mask, v, static_cast<int>(delta), width);
}
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, EMU_SITE) {
    return ::emu::shfl(::emu::kShflDown, file, line, mask, v, static_cast<int>(delta), width);
}
inline unsigned __ballot_sync(unsigned mask, int pred, EMU_SITE) {
    return static_cast<unsigned>(::emu::collective(::emu::kBallot, mask, pred != 0, 0, 32, file, line));
}
inline int __any_sync(unsigned mask, int pred, EMU_SITE) { return static_cast<int>(::emu::collective(::emu::kAny, mask, pred != 0, 0, 32, file, line)); }
inline int __all_sync(unsigned mask, int pred, EMU_SITE) { return static_cast<int>(::emu::collective(::emu::kAll, mask, pred != 0, 0, 32, file, line)); }
inline unsigned __activemask() { return ::emu::live_lanes(); }

inline void __threadfence() {}
inline void __threadfence_block() {}
template <typename T> inline T __ldg(const T* p) { return *p; }

// Integer and bit intrinsics.
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline unsigned __float_as_uint(float f) { return emu::from_bits<unsigned>(emu::to_bits(f)); }
inline int __float_as_int(float f) { return emu::from_bits<int>(emu::to_bits(f)); }
inline float __uint_as_float(unsigned u) { return emu::from_bits<float>(u); }
inline float __int_as_float(int i) { return emu::from_bits<float>(static_cast<uint32_t>(i)); }
inline long long __double_as_longlong(double d) { return emu::from_bits<long long>(emu::to_bits(d)); }
inline double __longlong_as_double(long long v) { return emu::from_bits<double>(static_cast<uint64_t>(v)); }

// min/max as CUDA overloads them (mixed signed/unsigned picks the unsigned version).
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned min(int a, unsigned b) { return min(static_cast<unsigned>(a), b); }
inline unsigned min(unsigned a, int b) { return min(a, static_cast<unsigned>(b)); }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline unsigned max(int a, unsigned b) { return max(static_cast<unsigned>(a), b); }
inline unsigned max(unsigned a, int b) { return max(a, static_cast<unsigned>(b)); }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// Correctly rounded arithmetic. The host's IEEE operations round to nearest even already; the
// build's -ffp-contract=off keeps them from being fused, so each is exactly one rounding.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline double __dsqrt_rn(double a) { return sqrt(a); }
inline double __drcp_rn(double a) { return 1.0 / a; }

// Atomics: fibers switch only at collectives, so any read-modify-write is atomic here; they use the
// compiler's relaxed __atomic builtins all the same, so that ThreadSanitizer (make emulator-tsan)
// sees atomics and not races.
template <typename T, typename F> inline T atomic_update(T* p, F f) {
    T old;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    T desired = f(old);
    while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) desired = f(old);
    return old;
}
template <typename T> inline T atomicAdd(T* p, T v) { return atomic_update(p, [v](T o) { return static_cast<T>(o + v); }); }
template <typename T> inline T atomicSub(T* p, T v) { return atomic_update(p, [v](T o) { return static_cast<T>(o - v); }); }
template <typename T> inline T atomicExch(T* p, T v) { return atomic_update(p, [v](T) { return v; }); }
template <typename T> inline T atomicMax(T* p, T v) { return atomic_update(p, [v](T o) { return o > v ? o : v; }); }
template <typename T> inline T atomicMin(T* p, T v) { return atomic_update(p, [v](T o) { return o < v ? o : v; }); }
template <typename T> inline T atomicOr(T* p, T v) { return atomic_update(p, [v](T o) { return static_cast<T>(o | v); }); }
template <typename T> inline T atomicAnd(T* p, T v) { return atomic_update(p, [v](T o) { return static_cast<T>(o & v); }); }
template <typename T> inline T atomicCAS(T* p, T compare, T v) { return atomic_update(p, [compare, v](T o) { return o == compare ? v : o; }); }

// bfloat16: the upper half of an f32, converted with round-to-nearest-even (NaN stays NaN).
struct __nv_bfloat16 {
    uint16_t __x;
    __nv_bfloat16() = default;
    __nv_bfloat16(float f);
    operator float() const { return __uint_as_float(static_cast<uint32_t>(__x) << 16); }
};
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    const uint32_t u = __float_as_uint(f);
    __nv_bfloat16 h;
    if ((u & 0x7fffffffu) > 0x7f800000u) h.__x = 0x7fff;  // the device's canonical NaN
    else h.__x = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    return h;
}
inline __nv_bfloat16::__nv_bfloat16(float f) : __x(__float2bfloat16_rn(f).__x) {}
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return static_cast<float>(h); }

// The WMMA fragment API. Each lane keeps the whole tile (the device spreads it over the lanes);
// every *_sync call is a full-warp collective, so a divergent warp is reported. mma_sync adds
// the products in k order with one f32 rounding each: bf16 × bf16 is exact in f32, but tensor
// cores may add in another order and round differently, which this cannot show.
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K> struct shape;
template <int M, int N, int K> struct shape<matrix_a, M, N, K> { static constexpr int rows = M, cols = K; };
template <int M, int N, int K> struct shape<matrix_b, M, N, K> { static constexpr int rows = K, cols = N; };
template <int M, int N, int K> struct shape<accumulator, M, N, K> { static constexpr int rows = M, cols = N; };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static constexpr int rows = shape<Use, M, N, K>::rows, cols = shape<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols;
    T x[rows * cols];  // logical [row][col]
};

#define EMU_WMMA_SYNC() (void)::emu::collective(::emu::kWmma, 0xffffffffu, 0, 0, 32, file, line)

template <typename Use, int M, int N, int K, typename T, typename L, typename V>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, V v, EMU_SITE) {
    EMU_WMMA_SYNC();
    for (int e = 0; e < f.num_elements; e++) f.x[e] = static_cast<T>(v);
}
template <typename Use, int M, int N, int K, typename T, typename L, typename S>
inline void load_tile(fragment<Use, M, N, K, T, L>& f, const S* p, unsigned ldm, bool row_major_memory) {
    for (int r = 0; r < f.rows; r++)
        for (int c = 0; c < f.cols; c++) f.x[r * f.cols + c] = row_major_memory ? p[r * ldm + c] : p[c * ldm + r];
}
template <typename Use, int M, int N, int K, typename T, typename L, typename S>
inline void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const S* p, unsigned ldm, EMU_SITE) {
    static_assert(!std::is_void_v<L>, "matrix_a/matrix_b fragments carry their layout");
    EMU_WMMA_SYNC();
    load_tile(f, p, ldm, std::is_same_v<L, row_major>);
}
template <int M, int N, int K, typename T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T, void>& f, const T* p, unsigned ldm, layout_t layout, EMU_SITE) {
    EMU_WMMA_SYNC();
    load_tile(f, p, ldm, layout == mem_row_major);
}
template <int M, int N, int K, typename T>
inline void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T, void>& f, unsigned ldm, layout_t layout, EMU_SITE) {
    EMU_WMMA_SYNC();
    // each element stored by one lane, as on the device (all lanes hold the whole tile here)
    const unsigned lane = (::emu::now.thread.x + ::emu::now.block_dim.x * (::emu::now.thread.y + ::emu::now.block_dim.y * ::emu::now.thread.z)) % 32;
    for (int r = 0; r < f.rows; r++)
        for (int c = 0; c < f.cols; c++)
            if (static_cast<unsigned>(r * f.cols + c) % 32 == lane) (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[r * f.cols + c];
}
// Every lane of a converged warp multiplies the same tiles; the first lane's product is kept in
// the warp's scratch and handed to each lane whose inputs are bit for bit the same.
template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB, typename TC>
inline void mma_sync(fragment<accumulator, M, N, K, TC, void>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, TC, void>& c, EMU_SITE) {
    EMU_WMMA_SYNC();
    struct Memo {
        uint64_t serial;
        fragment<matrix_a, M, N, K, TA, LA> a;
        fragment<matrix_b, M, N, K, TB, LB> b;
        fragment<accumulator, M, N, K, TC, void> c, d;
    };
#ifndef GSAE_EMU_TSAN  // under ThreadSanitizer lanes share no memo: TSan would see lane 0's writes as a race
    uint64_t serial = 0;
    Memo* memo = static_cast<Memo*>(::emu::warp_scratch(sizeof(Memo), &serial));
    if (memo->serial == serial && std::memcmp(&memo->a, &a, sizeof a) == 0 && std::memcmp(&memo->b, &b, sizeof b) == 0 &&
        std::memcmp(&memo->c, &c, sizeof c) == 0) {
        d = memo->d;
        return;
    }
#endif
    float fa[M * K], fb[K * N];
    for (int e = 0; e < M * K; e++) fa[e] = static_cast<float>(a.x[e]);
    for (int e = 0; e < K * N; e++) fb[e] = static_cast<float>(b.x[e]);
    fragment<accumulator, M, N, K, TC, void> out;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = static_cast<float>(c.x[i * N + j]);
            for (int kk = 0; kk < K; kk++) acc = fmaf(fa[i * K + kk], fb[kk * N + j], acc);
            out.x[i * N + j] = static_cast<TC>(acc);
        }
#ifndef GSAE_EMU_TSAN
    memo->serial = serial;
    memo->a = a;
    memo->b = b;
    memo->c = c;
    memo->d = out;
#endif
    d = out;
}
}  // namespace wmma
}  // namespace nvcuda
