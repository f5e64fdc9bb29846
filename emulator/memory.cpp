// memory.cpp — device buffers: host memory between two guard pages, filled with a poison word
// when allocated, so that an access past either end faults and a read of unwritten memory sees NaN.
#include <cstring>

#include <sys/mman.h>

#include "runtime.h"

namespace emu {

std::map<uintptr_t, Allocation> allocations;

// Poison: a NaN pattern as f32 words, varied by the seed; two runs of a verified launch use
// different shared-memory poisons.
uint64_t seed = 0x9E3779B97F4A7C15ull;
uint32_t poison_word(uint64_t salt) {
    uint64_t x = seed ^ (salt * 0xD1B54A32D192ED03ull);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    const uint32_t low = static_cast<uint32_t>(x) & 0x003fffffu;
    return ((x >> 40) & 1 ? 0xffc00000u : 0x7fc00000u) | low | 1u;
}
void fill_words(void* at, size_t bytes, uint32_t word) {
    char* p = static_cast<char*>(at);
    size_t i = 0;
    for (; i + 4 <= bytes; i += 4) std::memcpy(p + i, &word, 4);
    for (int b = 0; i < bytes; i++, b++) p[i] = static_cast<char>(word >> (8 * b));
}

const Allocation* allocation_at(uintptr_t address) {
    auto it = allocations.upper_bound(address);
    if (it == allocations.begin()) return nullptr;
    --it;
    const Allocation& a = it->second;
    uintptr_t base = reinterpret_cast<uintptr_t>(a.base);
    return address >= base && address < base + a.mapped ? &a : nullptr;
}

}  // namespace emu

using namespace emu;

/** A device buffer of `bytes` filled with the poison word, between two guard pages; 0 on failure. */
EMU_EXPORT uint64_t gsae_emu_malloc(uint64_t bytes, const char* name) {
    std::lock_guard<std::mutex> hold(device_lock);
    const size_t page = page_size(), n = bytes == 0 ? 1 : bytes;
    const size_t body = (n + page - 1) / page * page, mapped = body + 2 * page;
    void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        error(format("cannot map %zu bytes for device buffer '%s'", mapped, name));
        return 0;
    }
    char* base = static_cast<char*>(m);
    mprotect(base, page, PROT_NONE);
    mprotect(base + page + body, page, PROT_NONE);
    char* data = base + page + body - (n + 7) / 8 * 8;  // 8-byte aligned, ending at most 7 bytes before the guard
    fill_words(base + page, body, poison_word(reinterpret_cast<uintptr_t>(data)));
    allocations[reinterpret_cast<uintptr_t>(data)] = Allocation{name, base, mapped, data, n};
    return reinterpret_cast<uint64_t>(data);
}

EMU_EXPORT int gsae_emu_free(uint64_t address) {
    std::lock_guard<std::mutex> hold(device_lock);
    auto it = allocations.find(static_cast<uintptr_t>(address));
    if (it == allocations.end()) return error(format("free of 0x%llx, which is no device buffer", static_cast<unsigned long long>(address)));
    munmap(it->second.base, it->second.mapped);
    allocations.erase(it);
    return 0;
}

/** 0 when [address, address + bytes) lies inside one live device buffer, else 1 with the reason. */
EMU_EXPORT int gsae_emu_check_range(uint64_t address, uint64_t bytes) {
    std::lock_guard<std::mutex> hold(device_lock);
    const Allocation* a = allocation_at(static_cast<uintptr_t>(address));
    const uintptr_t data = a == nullptr ? 0 : reinterpret_cast<uintptr_t>(a->data);
    if (a == nullptr || address < data || address + bytes > data + a->bytes)
        return error(format("%llu bytes at 0x%llx are not inside one device buffer", static_cast<unsigned long long>(bytes),
                            static_cast<unsigned long long>(address)));
    return 0;
}
