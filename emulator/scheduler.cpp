// scheduler.cpp — the emulated CUDA threads: each a fiber with its own stack, switched by the
// assembly below; the block barrier and the warp collectives that block and release them; and the
// scheduler that picks which ready thread runs next (lowest, highest or seeded random first, so
// that a warp runs ahead of the others as far as its own collectives allow).
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

#ifdef GSAE_EMU_TSAN
#include <sanitizer/tsan_interface.h>
#endif

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

// ThreadSanitizer (make emulator-tsan): every emulated thread is a TSan fiber, switched without
// implied synchronisation; the block barrier and each warp's collectives are release/acquire
// pairs, and so is the start and end of every block, so that TSan reports exactly the accesses
// that no barrier or collective orders. Without GSAE_EMU_TSAN these are empty.
namespace tsan {
#ifdef GSAE_EMU_TSAN
constexpr int kGenerations = 4096;  // sync objects per barrier/collective generation, reused modulo
void* scheduler;
std::vector<void*> fibers;           // one per thread index, reused by every block
std::vector<unsigned> barriers, collectives;  // per thread: how many it passed in this block
char block_token, barrier_tokens[kGenerations], warp_tokens[kMaxThreads / kWarpSize][kGenerations];
void block_start(int threads) {
    scheduler = __tsan_get_current_fiber();
    while (static_cast<int>(fibers.size()) < threads) fibers.push_back(__tsan_create_fiber(0));
    barriers.assign(threads, 0);
    collectives.assign(threads, 0);
    __tsan_release(&block_token);
}
void block_end() { __tsan_acquire(&block_token); }
void to_fiber(int t) { __tsan_switch_to_fiber(fibers[t], __tsan_switch_to_fiber_no_sync); }
void to_scheduler() { __tsan_switch_to_fiber(scheduler, __tsan_switch_to_fiber_no_sync); }
void thread_start() { __tsan_acquire(&block_token); }
void thread_end() { __tsan_release(&block_token); }
// A barrier (or a warp's collective) of generation g: every thread releases token g on arrival and
// acquires it on leaving, so that one generation orders nothing of the next.
void arrive(char* tokens, unsigned generation) { __tsan_release(&tokens[generation % kGenerations]); }
void leave(char* tokens, unsigned generation) { __tsan_acquire(&tokens[generation % kGenerations]); }
void at_barrier(int t) { arrive(barrier_tokens, barriers[t]); }
void past_barrier(int t) { leave(barrier_tokens, barriers[t]++); }
void at_collective(int t) { arrive(warp_tokens[t / kWarpSize], collectives[t]); }
void past_collective(int t) { leave(warp_tokens[t / kWarpSize], collectives[t]++); }
#else
void block_start(int) {}
void block_end() {}
void to_fiber(int) {}
void to_scheduler() {}
void thread_start() {}
void thread_end() {}
void at_barrier(int) {}
void past_barrier(int) {}
void at_collective(int) {}
void past_collective(int) {}
#endif
}  // namespace tsan

size_t page_size() {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

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
    tsan::to_scheduler();
    emu_switch(&me.sp, run.scheduler_sp);
    __builtin_trap();  // never resumed
}

void yield() {
    Fiber& me = run.fibers[run.current];
    const int self = run.current;
    run.current = -1;
    tsan::to_scheduler();
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


void syncthreads(const char* file, int line) {
    const int self = run.current;
    Fiber& me = run.fibers[self];
    if (const Group* g = group_naming(self)) fail(format("__syncthreads (%s:%d) while %s", base_name(file), line, describe_group(*g).c_str()));
    me.state = State::Barrier;
    me.file = file;
    me.line = line;
    if (++run.at_barrier == run.live) release_barrier();
    tsan::at_barrier(self);
    yield();
    tsan::past_barrier(self);
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
    tsan::at_collective(self);
    yield();
    tsan::past_collective(self);
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
    tsan::block_start(run.threads);
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
        tsan::to_fiber(t);
        emu_switch(&run.scheduler_sp, run.fibers[t].sp);
        run.current = -1;
        if (run.failed) return false;
        if (run.fibers[t].state != State::Ready) run.ready[t / 64] &= ~(1ull << (t % 64));
    }
    tsan::block_end();
    return true;
}

}  // namespace emu

extern "C" void emu_fiber_main(void* fiber) {
    using namespace emu;
    (void)fiber;
    tsan::thread_start();
    run.kernel->invoke(run.args);
    tsan::thread_end();
    thread_exit();
    Fiber& me = run.fibers[run.current];
    run.current = -1;
    tsan::to_scheduler();
    emu_switch(&me.sp, run.scheduler_sp);
    __builtin_trap();
}

