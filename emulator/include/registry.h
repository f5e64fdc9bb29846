// registry.h — how a generated kernel unit (gen_registry.py) tells the runtime about its kernels.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace emu {

/** One `extern "C" __global__` kernel: the trampoline calls it with arguments unpacked from `args`. */
struct KernelEntry {
    const char* family;
    const char* name;
    void (*invoke)(void* const* args);
    int max_threads;              // __launch_bounds__, else 1024
    int arg_count;
    const int* arg_sizes;         // arg_count entries
};

template <typename F> struct Signature;
template <typename... A> struct Signature<void (*)(A...)> {
    static constexpr int count = sizeof...(A);
    static constexpr int sizes[sizeof...(A) + 1] = {static_cast<int>(sizeof(std::remove_reference_t<A>))..., 0};
    template <auto Fn, std::size_t... I>
    static void call(void* const* args, std::index_sequence<I...>) {
        Fn(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
    }
    template <auto Fn>
    static void invoke(void* const* args) {
        call<Fn>(args, std::index_sequence_for<A...>{});
    }
};

template <auto Fn>
constexpr KernelEntry entry(const char* family, const char* name, int max_threads) {
    using S = Signature<decltype(Fn)>;
    return KernelEntry{family, name, &S::template invoke<Fn>, max_threads, S::count, S::sizes};
}

__attribute__((visibility("hidden"))) void register_kernels(const KernelEntry* entries, std::size_t count);

}  // namespace emu
