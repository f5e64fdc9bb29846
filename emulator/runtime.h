// runtime.h — what the parts of the emulated device's runtime share (not for kernels: those see
// only cuda_emu.h). memory.cpp: device buffers and poison; scheduler.cpp: fibers, barriers, warp
// collectives and the order threads run in; launch.cpp: launches, their checks, faults, the
// rerun verification and the C ABI that gsae.cuda.EmulatedDevice binds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "registry.h"

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

// Bounds of the kernels' __shared__ statics, gathered by shared.ld.
extern "C" char __start_gsae_shared[] __attribute__((visibility("hidden")));
extern "C" char __stop_gsae_shared[] __attribute__((visibility("hidden")));

namespace emu {

constexpr int kWarpSize = 32;
constexpr int kMaxThreads = 1024;
constexpr size_t kStackBytes = 128 << 10;

size_t page_size();
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// ---------------------------------------------------------------- memory.cpp

struct Allocation {
    std::string name;
    char* base;        // mapping start (guard page first)
    size_t mapped;     // whole mapping
    char* data;        // first byte of the buffer
    size_t bytes;
};
/** Live device buffers by data address. */
extern std::map<uintptr_t, Allocation> allocations;
/** Seeds the poison words and the random orders. */
extern uint64_t seed;
/** A NaN pattern as f32 words (an odd, large integer as i32), varied by the seed and `salt`. */
uint32_t poison_word(uint64_t salt);
void fill_words(void* at, size_t bytes, uint32_t word);
/** The buffer whose mapping (guard pages included) holds `address`, or null. */
const Allocation* allocation_at(uintptr_t address);

// ---------------------------------------------------------------- scheduler.cpp

enum class State : uint8_t { Ready, Barrier, Collective, Done };

struct Fiber {
    void* sp;
    State state;
    Collective kind;
    unsigned mask;
    int arg, width;
    uint64_t value, result;
    const char* file;
    int line;
};

enum Order : int { kForward = 0, kReverse = 1, kRandom = 2 };

/** A warp collective some lanes of `mask` have reached; the others must reach the same one. */
struct Group {
    unsigned mask = 0;  // 0: free
    Collective kind;
    int arrived;
    const char* file;
    int line;
};
constexpr int kGroupsPerWarp = 4;

struct Launch {
    const KernelEntry* kernel = nullptr;
    void* const* args = nullptr;
    dim3 grid, block;
    int threads = 0;
    Order order = kForward;
    uint64_t order_seed = 0;
    uint32_t shared_poison = 0;
    // the block being run
    std::vector<Fiber> fibers;
    std::vector<Group> groups;  // kGroupsPerWarp per warp
    uint64_t ready[kMaxThreads / 64];  // bit t: fiber t is Ready
    int current = -1;     // running fiber, -1 while the scheduler runs
    int live = 0, at_barrier = 0;
    void* scheduler_sp = nullptr;
    bool failed = false;
    std::string error;
    uint3 block_idx{0, 0, 0};
    uint64_t block_serial = 0;
    std::vector<char> warp_scratch;  // kWarpScratch per warp
};
constexpr size_t kWarpScratch = 16 << 10;
/** The launch being run (one at a time per process, under device_lock). */
extern Launch run;
/** Fiber stacks, kMaxThreads of stack_stride bytes, each with a guard page below it. */
extern char* stacks;
extern size_t stack_stride;
bool ensure_stacks();
/** "kernel, block (x,y,z), thread t" of what is running. */
std::string where();
uint64_t next_random(uint64_t& s);
uint3 coordinates(unsigned linear, dim3 dims);
/** Runs one block to completion; false with run.error set when it fails. */
bool run_block(uint3 block, uint64_t& rng);

// ---------------------------------------------------------------- launch.cpp

/** Serialises every entry of the C ABI. */
extern std::mutex device_lock;
/** Records `message` for gsae_emu_error and returns 1. */
int error(const std::string& message);

}  // namespace emu
