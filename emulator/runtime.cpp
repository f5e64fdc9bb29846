// runtime.cpp — the emulated CUDA device behind libgsae_emu.so (C ABI at the end, bound by
// gsae.cuda.EmulatedDevice through FFM).
//
// Execution: blocks run one after another; inside a block every CUDA thread is a fiber with its
// own stack (x86-64 context switch below) and the scheduler resumes one ready fiber at a time,
// which runs until it blocks at a collective (__syncthreads, a warp intrinsic, a WMMA call) or
// exits. Which ready thread comes next, and the order of the blocks, is forward (lowest first),
// reverse or seeded random; lowest-first lets a warp run ahead of the others as far as its own
// collectives allow, which is what exposes a missing barrier between warps.
//
// What it refuses, as one error line naming kernel, block and thread:
//   - launch geometry beyond CUDA's limits or the kernel's __launch_bounds__, wrong argument count
//     or sizes;
//   - an access into the guard page after (or before) a device buffer, or to no buffer at all
//     (SIGSEGV, caught only on the launching thread during a launch, others chained on);
//   - a __syncthreads that not every live thread reaches (one exited, one is at another barrier
//     or in a warp collective), a warp collective whose mask omits the caller, names an absent or
//     exited lane or a lane waiting at another collective, a shuffle reading a lane outside the
//     mask, and a deadlock;
//   - with verification on, a launch whose device memory differs bit for bit when rerun from the
//     same inputs under another thread and block order with another shared-memory poison.
// Fresh device buffers and every block's shared memory are filled with a poison word that depends
// on the seed, so that a read of unwritten memory does not quietly see zeros.
#include "registry.h"

#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cuda_emu.h"

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

// Bounds of the kernels' __shared__ statics, gathered by shared.ld.
extern "C" char __start_gsae_shared[] __attribute__((visibility("hidden")));
extern "C" char __stop_gsae_shared[] __attribute__((visibility("hidden")));

// Fiber switch: saves the callee-saved registers on the current stack, stores its pointer in
// *from, and resumes the stack `to`. The FP control words (MXCSR, x87) are shared by all fibers:
// no kernel changes rounding modes. A new fiber's stack is laid out so that
// the switch "returns" into emu_fiber_start with the fiber in r12.
extern "C" void emu_switch(void** from, void* to) __attribute__((visibility("hidden")));
extern "C" void emu_fiber_start() __attribute__((visibility("hidden")));
extern "C" [[noreturn]] void emu_fiber_main(void* fiber) __attribute__((visibility("hidden")));
asm(R"(
    .text
    .globl emu_switch
    .hidden emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch

    .globl emu_fiber_start
    .hidden emu_fiber_start
    .type emu_fiber_start, @function
emu_fiber_start:
    movq %r12, %rdi
    call emu_fiber_main
    ud2
    .size emu_fiber_start, .-emu_fiber_start
)");

namespace emu {

Coordinates now;

namespace {

constexpr int kWarpSize = 32;
constexpr int kMaxThreads = 1024;
constexpr size_t kStackBytes = 128 << 10;

size_t page_size() {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

// ---------------------------------------------------------------- device memory

struct Allocation {
    std::string name;
    char* base;        // mapping start (guard page first)
    size_t mapped;     // whole mapping
    char* data;        // first byte of the buffer
    size_t bytes;
};
std::map<uintptr_t, Allocation> allocations;  // by data address

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

// ---------------------------------------------------------------- launch state

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
Launch run;

// Fiber stacks, each with a guard page below it, kept for the process.
char* stacks = nullptr;
size_t stack_stride = 0;

bool ensure_stacks() {
    if (stacks != nullptr) return true;
    stack_stride = kStackBytes + page_size();
    void* m = mmap(nullptr, stack_stride * kMaxThreads, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    stacks = static_cast<char*>(m);
    for (int t = 0; t < kMaxThreads; t++) mprotect(stacks + t * stack_stride, page_size(), PROT_NONE);
    return true;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

std::string where() {
    std::string s = format("%s, block (%u,%u,%u)", run.kernel->name, run.block_idx.x, run.block_idx.y, run.block_idx.z);
    if (run.current >= 0) s += format(", thread %d", run.current);
    return s;
}

const char* collective_name(Collective k) {
    switch (k) {
        case kShflIdx: return "__shfl_sync";
        case kShflXor: return "__shfl_xor_sync";
        case kShflUp: return "__shfl_up_sync";
        case kShflDown: return "__shfl_down_sync";
        case kBallot: return "__ballot_sync";
        case kAny: return "__any_sync";
        case kAll: return "__all_sync";
        case kSyncWarp: return "__syncwarp";
        case kWmma: return "wmma::*_sync";
    }
    return "?";
}

const char* base_name(const char* file) {
    const char* slash = std::strrchr(file, '/');
    return slash != nullptr ? slash + 1 : file;
}

std::string describe_fiber(int t) {
    const Fiber& f = run.fibers[t];
    switch (f.state) {
        case State::Ready: return format("thread %d is ready", t);
        case State::Done: return format("thread %d has exited", t);
        case State::Barrier: return format("thread %d waits at __syncthreads (%s:%d)", t, base_name(f.file), f.line);
        case State::Collective:
            return format("thread %d waits at %s (%s:%d, mask %08x)", t, collective_name(f.kind), base_name(f.file), f.line, f.mask);
    }
    return "";
}

/** Records the first error of the launch and returns to the scheduler for good. */
[[noreturn]] void fail(const std::string& what) {
    if (!run.failed) {
        run.failed = true;
        run.error = where() + ": " + what;
    }
    Fiber& me = run.fibers[run.current];
    run.current = -1;
    emu_switch(&me.sp, run.scheduler_sp);
    __builtin_trap();  // never resumed
}

void yield() {
    Fiber& me = run.fibers[run.current];
    const int self = run.current;
    run.current = -1;
    emu_switch(&me.sp, run.scheduler_sp);
    run.current = self;
}

// ---------------------------------------------------------------- collectives

void make_ready(int t) {
    run.fibers[t].state = State::Ready;
    run.ready[t / 64] |= 1ull << (t % 64);
}

void check_barrier_site() {
    const Fiber* first = nullptr;
    for (int t = 0; t < run.threads; t++) {
        const Fiber& f = run.fibers[t];
        if (f.state != State::Barrier) continue;
        if (first == nullptr) first = &f;
        else if (f.line != first->line || std::strcmp(f.file, first->file) != 0)
            fail(format("threads reach different __syncthreads: %s:%d and %s:%d (thread %d)", base_name(first->file), first->line,
                        base_name(f.file), f.line, t));
    }
}

void release_barrier() {
    check_barrier_site();
    if (run.live < run.threads)
        for (int t = 0; t < run.threads; t++)
            if (run.fibers[t].state == State::Done)
                fail(format("__syncthreads (%s:%d) is reached by only part of the block: thread %d exited without it",
                            base_name(run.fibers[run.current].file), run.fibers[run.current].line, t));
    for (Fiber& f : run.fibers)
        if (f.state == State::Barrier) make_ready(static_cast<int>(&f - run.fibers.data()));
    run.at_barrier = 0;
}

/** The pending collective of the caller's warp whose mask names the caller, or null. */
Group* group_naming(int self) {
    Group* g = &run.groups[self / kWarpSize * kGroupsPerWarp];
    const unsigned bit = 1u << (self % kWarpSize);
    for (int i = 0; i < kGroupsPerWarp; i++)
        if (g[i].mask & bit) return &g[i];
    return nullptr;
}

std::string describe_group(const Group& g) {
    return format("lanes of mask %08x wait at %s (%s:%d)", g.mask, collective_name(g.kind), base_name(g.file), g.line);
}

void resolve(int base, unsigned mask) {
    for (int lane = 0; lane < kWarpSize; lane++) {
        if (!(mask >> lane & 1u)) continue;
        Fiber& f = run.fibers[base + lane];
        const int width = f.width, seg = lane / width * width;
        int src = lane;
        switch (f.kind) {
            case kShflIdx: src = seg + (f.arg & (width - 1)); break;
            case kShflXor: src = lane ^ f.arg; break;
            case kShflUp: src = lane - f.arg; break;
            case kShflDown: src = lane + f.arg; break;
            default: break;
        }
        if (f.kind == kShflIdx || f.kind == kShflXor || f.kind == kShflUp || f.kind == kShflDown) {
            if (src < seg || src >= seg + width) src = lane;  // outside the segment: the caller's own value
            if (!(mask >> src & 1u)) {
                run.current = base + lane;
                fail(format("%s (%s:%d) reads lane %d, which mask %08x leaves out", collective_name(f.kind), base_name(f.file), f.line, src, mask));
            }
            f.result = run.fibers[base + src].value;
        } else if (f.kind == kBallot || f.kind == kAny || f.kind == kAll) {
            unsigned votes = 0;
            for (int l = 0; l < kWarpSize; l++)
                if ((mask >> l & 1u) && run.fibers[base + l].value != 0) votes |= 1u << l;
            f.result = f.kind == kBallot ? votes : f.kind == kAny ? (votes != 0) : (votes == mask);
        } else {
            f.result = 0;
        }
    }
    for (int lane = 0; lane < kWarpSize; lane++)
        if (mask >> lane & 1u) make_ready(base + lane);
}

}  // namespace

void syncthreads(const char* file, int line) {
    const int self = run.current;
    Fiber& me = run.fibers[self];
    if (const Group* g = group_naming(self)) fail(format("__syncthreads (%s:%d) while %s", base_name(file), line, describe_group(*g).c_str()));
    me.state = State::Barrier;
    me.file = file;
    me.line = line;
    if (++run.at_barrier == run.live) release_barrier();
    yield();
}

uint64_t collective(Collective kind, unsigned mask, uint64_t value, int arg, int width, const char* file, int line) {
    const int self = run.current, lane = self % kWarpSize, base = self - lane;
    if (!(mask >> lane & 1u))
        fail(format("%s (%s:%d) with mask %08x, which leaves out the calling lane %d", collective_name(kind), base_name(file), line, mask, lane));
    if (width < 1 || width > kWarpSize || (width & (width - 1)) != 0)
        fail(format("%s (%s:%d) with width %d", collective_name(kind), base_name(file), line, width));
    Group* g = group_naming(self);
    if (g != nullptr && (g->kind != kind || g->mask != mask))
        fail(format("%s (%s:%d, mask %08x) while %s", collective_name(kind), base_name(file), line, mask, describe_group(*g).c_str()));
    if (g == nullptr) {  // the first lane here: every other lane of the mask must be able to come
        Group* slots = &run.groups[base / kWarpSize * kGroupsPerWarp];
        for (int l = 0; l < kWarpSize; l++) {
            if (!(mask >> l & 1u) || l == lane) continue;
            const int t = base + l;
            if (t >= run.threads)
                fail(format("%s (%s:%d) with mask %08x names lane %d, absent from a block of %d threads", collective_name(kind), base_name(file),
                            line, mask, l, run.threads));
            const Fiber& f = run.fibers[t];
            if (f.state == State::Done || f.state == State::Barrier || f.state == State::Collective)
                fail(format("%s (%s:%d) with mask %08x names lane %d, but %s", collective_name(kind), base_name(file), line, mask, l,
                            describe_fiber(t).c_str()));
        }
        for (int i = 0; i < kGroupsPerWarp && g == nullptr; i++)
            if (slots[i].mask == 0) g = &slots[i];
        if (g == nullptr) fail(format("%s (%s:%d): more than %d collectives pending in one warp", collective_name(kind), base_name(file), line, kGroupsPerWarp));
        *g = Group{mask, kind, 0, file, line};
    }
    Fiber& me = run.fibers[self];
    me.state = State::Collective;
    me.kind = kind;
    me.mask = mask;
    me.value = value;
    me.arg = arg;
    me.width = width;
    me.file = file;
    me.line = line;
    if (++g->arrived == __builtin_popcount(mask)) {
        g->mask = 0;
        resolve(base, mask);
    }
    yield();
    return run.fibers[self].result;
}

void* warp_scratch(size_t bytes, uint64_t* serial) {
    if (bytes > kWarpScratch) fail(format("warp scratch of %zu bytes asked, %zu available", bytes, kWarpScratch));
    *serial = run.block_serial;
    return run.warp_scratch.data() + run.current / kWarpSize * kWarpScratch;
}

unsigned live_lanes() {
    const int base = run.current / kWarpSize * kWarpSize;
    unsigned mask = 0;
    for (int l = 0; l < kWarpSize && base + l < run.threads; l++)
        if (run.fibers[base + l].state != State::Done) mask |= 1u << l;
    return mask;
}

namespace {

// ---------------------------------------------------------------- scheduling

uint64_t next_random(uint64_t& s) {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/**
 * The next ready thread: the lowest-numbered (forward), the highest (reverse) or the first at or
 * after a random one (random), so that a warp whose collectives are met runs ahead of the others
 * as far as it can; -1 when none is ready.
 */
int pick(uint64_t& rng) {
    const int words = (run.threads + 63) / 64;
    if (run.order == kReverse) {
        for (int w = words - 1; w >= 0; w--)
            if (run.ready[w] != 0) return w * 64 + 63 - __builtin_clzll(run.ready[w]);
        return -1;
    }
    int start = run.order == kRandom ? static_cast<int>(next_random(rng) % static_cast<uint64_t>(run.threads)) : 0;
    for (int i = 0; i <= words; i++) {
        const int w = (start / 64 + i) % words;
        uint64_t bits = run.ready[w];
        if (i == 0) bits &= ~0ull << (start % 64);
        if (bits != 0) return w * 64 + __builtin_ctzll(bits);
    }
    return -1;
}

void thread_exit() {
    const int self = run.current;
    run.fibers[self].state = State::Done;
    run.live--;
    if (const Group* g = group_naming(self)) fail(format("thread %d exited while %s", self, describe_group(*g).c_str()));
    if (run.at_barrier > 0) {
        for (int t = 0; t < run.threads; t++)
            if (run.fibers[t].state == State::Barrier)
                fail(format("__syncthreads (%s:%d) is reached by only part of the block: thread %d exited without it",
                            base_name(run.fibers[t].file), run.fibers[t].line, self));
    }
}

void prepare_fiber(int t) {
    char* top = stacks + t * stack_stride + stack_stride;  // 16-byte aligned: page aligned
    auto* slot = reinterpret_cast<uint64_t*>(top);
    slot[-1] = reinterpret_cast<uint64_t>(&emu_fiber_start);  // "return" address
    slot[-2] = 0;                                              // rbp
    slot[-3] = 0;                                              // rbx
    slot[-4] = reinterpret_cast<uint64_t>(&run.fibers[t]);     // r12: the fiber
    slot[-5] = slot[-6] = slot[-7] = 0;                        // r13, r14, r15
    Fiber& f = run.fibers[t];
    f = Fiber{};
    f.sp = &slot[-7];
    f.state = State::Ready;
}

uint3 coordinates(unsigned linear, dim3 dims) {
    return uint3{linear % dims.x, linear / dims.x % dims.y, linear / (dims.x * dims.y)};
}

/** Runs one block to completion; false with run.error set when it fails. */
bool run_block(uint3 block, uint64_t& rng) {
    run.block_idx = block;
    now.block = block;
    fill_words(__start_gsae_shared, static_cast<size_t>(__stop_gsae_shared - __start_gsae_shared), run.shared_poison);
    std::fill(std::begin(run.ready), std::end(run.ready), 0ull);
    for (int t = 0; t < run.threads; t++) {
        prepare_fiber(t);
        run.ready[t / 64] |= 1ull << (t % 64);
    }
    std::fill(run.groups.begin(), run.groups.end(), Group{});
    run.block_serial++;
    run.live = run.threads;
    run.at_barrier = 0;
    while (run.live > 0) {
        const int t = pick(rng);
        if (t < 0) {
            std::string states;
            for (int u = 0; u < run.threads; u++)
                if (run.fibers[u].state != State::Done) {
                    states = describe_fiber(u);
                    break;
                }
            run.failed = true;
            run.error = where() + ": deadlock: no thread can move on; " + states;
            return false;
        }
        run.current = t;
        now.thread = run.block.y == 1 && run.block.z == 1 ? uint3{static_cast<unsigned>(t), 0, 0}
                                                          : coordinates(static_cast<unsigned>(t), run.block);
        emu_switch(&run.scheduler_sp, run.fibers[t].sp);
        run.current = -1;
        if (run.failed) return false;
        if (run.fibers[t].state != State::Ready) run.ready[t / 64] &= ~(1ull << (t % 64));
    }
    return true;
}

}  // namespace
}  // namespace emu

extern "C" void emu_fiber_main(void* fiber) {
    using namespace emu;
    (void)fiber;
    run.kernel->invoke(run.args);
    thread_exit();
    Fiber& me = run.fibers[run.current];
    run.current = -1;
    emu_switch(&me.sp, run.scheduler_sp);
    __builtin_trap();
}

namespace emu {
namespace {

// ---------------------------------------------------------------- faults

sigjmp_buf fault_jump;
volatile sig_atomic_t in_launch = 0;
pthread_t launch_thread;
struct sigaction previous_segv, previous_bus;
char fault_message[512];
char alt_stack[64 << 10];

void describe_fault(uintptr_t address) {
    const uintptr_t stack_lo = reinterpret_cast<uintptr_t>(stacks);
    if (stacks != nullptr && address >= stack_lo && address < stack_lo + stack_stride * kMaxThreads) {
        snprintf(fault_message, sizeof fault_message, "stack overflow of the emulated thread (%zu KiB per thread)", kStackBytes >> 10);
        return;
    }
    if (const Allocation* a = allocation_at(address)) {
        const uintptr_t data = reinterpret_cast<uintptr_t>(a->data);
        if (address >= data + a->bytes)
            snprintf(fault_message, sizeof fault_message, "out-of-bounds access %zu bytes past the end of device buffer '%s' (%zu bytes)",
                     static_cast<size_t>(address - data - a->bytes), a->name.c_str(), a->bytes);
        else
            snprintf(fault_message, sizeof fault_message, "out-of-bounds access %zu bytes before device buffer '%s' (%zu bytes)",
                     static_cast<size_t>(data - address), a->name.c_str(), a->bytes);
        return;
    }
    snprintf(fault_message, sizeof fault_message, "illegal address 0x%zx: in no device buffer", static_cast<size_t>(address));
}

void chain(const struct sigaction& old, int sig, siginfo_t* info, void* context) {
    if (old.sa_flags & SA_SIGINFO) {
        if (old.sa_sigaction != nullptr) old.sa_sigaction(sig, info, context);
        return;
    }
    if (old.sa_handler == SIG_IGN) return;
    if (old.sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    old.sa_handler(sig);
}

void on_fault(int sig, siginfo_t* info, void* context) {
    if (in_launch && pthread_equal(pthread_self(), launch_thread) && run.current >= 0) {
        describe_fault(reinterpret_cast<uintptr_t>(info->si_addr));
        siglongjmp(fault_jump, 1);
    }
    chain(sig == SIGBUS ? previous_bus : previous_segv, sig, info, context);
}

void install_fault_handler(stack_t& previous_stack) {
    stack_t alt{};
    alt.ss_sp = alt_stack;
    alt.ss_size = sizeof alt_stack;
    sigaltstack(&alt, &previous_stack);
    struct sigaction sa{};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

void remove_fault_handler(const stack_t& previous_stack) {
    sigaction(SIGSEGV, &previous_segv, nullptr);
    sigaction(SIGBUS, &previous_bus, nullptr);
    sigaltstack(&previous_stack, nullptr);
}

// ---------------------------------------------------------------- the registry and launches

std::vector<const KernelEntry*>& registry() {
    static std::vector<const KernelEntry*> entries;
    return entries;
}

std::mutex device_lock;
std::string last_error;
int default_order = kForward;
int verify_runs = 0;
uint64_t launch_count = 0;

int error(const std::string& message) {
    last_error = message;
    return 1;
}

/** Runs the blocks in the order given with the fault handler in place; false with run.error set on failure. */
__attribute__((noinline)) bool run_blocks(const unsigned* block_order, unsigned blocks, uint64_t* rng) {
    stack_t previous_stack;
    install_fault_handler(previous_stack);
    launch_thread = pthread_self();
    bool ok = true;
    if (sigsetjmp(fault_jump, 1) != 0) {
        in_launch = 0;
        run.failed = true;
        run.error = where() + ": " + fault_message;
        ok = false;
    } else {
        in_launch = 1;
        for (unsigned i = 0; i < blocks; i++)
            if (!run_block(coordinates(block_order[i], run.grid), *rng)) {
                ok = false;
                break;
            }
        in_launch = 0;
    }
    remove_fault_handler(previous_stack);
    run.current = -1;
    return ok;
}

/** Runs every block of the launch in `order`; false with run.error set on the first failure. */
bool run_grid(Order order, uint64_t salt) {
    run.order = order;
    run.order_seed = seed ^ (salt * 0x94D049BB133111EBull);
    run.shared_poison = poison_word(salt + 0x5bd1e995);
    run.failed = false;
    run.error.clear();
    run.current = -1;
    uint64_t rng = run.order_seed;
    const unsigned blocks = run.grid.x * run.grid.y * run.grid.z;
    std::vector<unsigned> block_order(blocks);
    for (unsigned b = 0; b < blocks; b++) block_order[b] = order == kReverse ? blocks - 1 - b : b;
    if (order == kRandom)
        for (unsigned i = blocks; i-- > 1;) std::swap(block_order[i], block_order[next_random(rng) % (i + 1)]);
    return run_blocks(block_order.data(), blocks, &rng);
}

struct Snapshot {
    std::vector<std::vector<char>> bytes;
};

Snapshot snapshot() {
    Snapshot s;
    for (auto& [at, a] : allocations) s.bytes.emplace_back(a.data, a.data + a.bytes);
    return s;
}

void restore(const Snapshot& s) {
    size_t i = 0;
    for (auto& [at, a] : allocations) std::memcpy(a.data, s.bytes[i++].data(), a.bytes);
}

/** Empty when device memory equals the snapshot, else where it first differs. */
std::string compare(const Snapshot& s) {
    size_t i = 0;
    for (auto& [at, a] : allocations) {
        const std::vector<char>& was = s.bytes[i++];
        if (std::memcmp(was.data(), a.data, a.bytes) == 0) continue;
        size_t off = 0;
        while (was[off] == a.data[off]) off++;
        off &= ~size_t{3};
        uint32_t x = 0, y = 0;
        std::memcpy(&x, was.data() + off, std::min<size_t>(4, a.bytes - off));
        std::memcpy(&y, a.data + off, std::min<size_t>(4, a.bytes - off));
        return format("buffer '%s' differs at byte %zu (word %08x, then %08x)", a.name.c_str(), off, x, y);
    }
    return "";
}

const char* order_name(int order) {
    return order == kForward ? "forward" : order == kReverse ? "reverse" : "random";
}

int launch(const KernelEntry* k, dim3 grid, dim3 block, unsigned dynamic_shared, int nargs, void* const* args, const int* sizes) {
    const unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (block.x == 0 || block.y == 0 || block.z == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
        return error(format("%s: empty launch, grid (%u,%u,%u) block (%u,%u,%u)", k->name, grid.x, grid.y, grid.z, block.x, block.y, block.z));
    if (block.x > 1024 || block.y > 1024 || block.z > 64 || threads > static_cast<unsigned long long>(kMaxThreads))
        return error(format("%s: block (%u,%u,%u) exceeds CUDA's limits (1024 threads, z ≤ 64)", k->name, block.x, block.y, block.z));
    if (threads > static_cast<unsigned long long>(k->max_threads))
        return error(format("%s: %llu threads per block exceed its __launch_bounds__(%d)", k->name, threads, k->max_threads));
    if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
        return error(format("%s: grid (%u,%u,%u) exceeds CUDA's limits", k->name, grid.x, grid.y, grid.z));
    if (dynamic_shared != 0) return error(format("%s: dynamic shared memory (%u bytes) is not emulated", k->name, dynamic_shared));
    if (nargs != k->arg_count) return error(format("%s: %d arguments passed, the kernel takes %d", k->name, nargs, k->arg_count));
    for (int i = 0; i < nargs; i++)
        if (sizes[i] != k->arg_sizes[i])
            return error(format("%s: argument %d is %d bytes, the kernel's parameter is %d", k->name, i, sizes[i], k->arg_sizes[i]));
    if (!ensure_stacks()) return error("cannot map the emulated threads' stacks");

    run.kernel = k;
    run.args = args;
    run.grid = grid;
    run.block = block;
    run.threads = static_cast<int>(threads);
    run.fibers.assign(run.threads, Fiber{});
    run.groups.assign((run.threads + kWarpSize - 1) / kWarpSize * kGroupsPerWarp, Group{});
    run.warp_scratch.assign((run.threads + kWarpSize - 1) / kWarpSize * kWarpScratch, 0);
    now.block_dim = block;
    now.grid_dim = grid;
    const uint64_t salt = ++launch_count;
    const Order first = static_cast<Order>(default_order);
    if (verify_runs == 0) return run_grid(first, salt) ? 0 : error(run.error);

    const Snapshot before = snapshot();
    if (!run_grid(first, salt)) return error(run.error);
    const Snapshot after = snapshot();
    for (int v = 1; v <= verify_runs; v++) {
        const Order other = static_cast<Order>((first + v) % 3);
        restore(before);
        if (!run_grid(other, salt + 0x1000 * v)) return error(run.error);
        const std::string diff = compare(after);
        if (!diff.empty())
            return error(format("%s is not deterministic: rerun from the same inputs with %s thread and block order and another "
                                "shared-memory poison, %s (first run: %s order) — a race between threads, a read of unwritten "
                                "shared memory, or a result that depends on the order of blocks",
                                k->name, order_name(other), diff.c_str(), order_name(first)));
    }
    return 0;
}

}  // namespace

void register_kernels(const KernelEntry* entries, std::size_t count) {
    for (std::size_t i = 0; i < count; i++) registry().push_back(&entries[i]);
}

}  // namespace emu

// ---------------------------------------------------------------- C ABI

using namespace emu;

/** The ABI version gsae.cuda.EmulatedDevice expects. */
EMU_EXPORT int gsae_emu_version() { return 1; }

/** The last failure's message (one line), valid until the next call. */
EMU_EXPORT const char* gsae_emu_error() { return last_error.c_str(); }

/**
 * schedule: 0 forward, 1 reverse, 2 random; verify: extra runs of every launch under the other
 * orders whose results must match bit for bit (0: none); seed: poison words and random orders.
 */
EMU_EXPORT void gsae_emu_configure(int schedule, int verify, uint64_t poison_seed) {
    std::lock_guard<std::mutex> hold(device_lock);
    default_order = schedule < 0 || schedule > 2 ? 0 : schedule;
    verify_runs = verify < 0 ? 0 : verify > 2 ? 2 : verify;
    seed = poison_seed;
}

/** Bytes of static shared memory all kernels together declare (the size of the poisoned section). */
EMU_EXPORT uint64_t gsae_emu_static_shared_bytes() { return static_cast<uint64_t>(__stop_gsae_shared - __start_gsae_shared); }

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

/** Index of kernel `name` of `family` for gsae_emu_launch, or -1. */
EMU_EXPORT int gsae_emu_kernel(const char* family, const char* name) {
    const auto& r = registry();
    for (size_t i = 0; i < r.size(); i++)
        if (std::strcmp(r[i]->family, family) == 0 && std::strcmp(r[i]->name, name) == 0) return static_cast<int>(i);
    return -1;
}

/** 1 when the library holds kernels of `family`. */
EMU_EXPORT int gsae_emu_has_family(const char* family) {
    for (const KernelEntry* e : registry())
        if (std::strcmp(e->family, family) == 0) return 1;
    return 0;
}

/** Runs kernel `index` to completion; args[i] points to argument i, sizes[i] is its size. 0 or 1 (gsae_emu_error). */
EMU_EXPORT int gsae_emu_launch(int index, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared,
                               int nargs, void* const* args, const int* sizes) {
    std::lock_guard<std::mutex> hold(device_lock);
    const auto& r = registry();
    if (index < 0 || static_cast<size_t>(index) >= r.size()) return error(format("no kernel %d", index));
    return launch(r[index], dim3(gx, gy, gz), dim3(bx, by, bz), shared, nargs, args, sizes);
}
