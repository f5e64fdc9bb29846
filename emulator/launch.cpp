// launch.cpp — one kernel launch: its checks (geometry, launch bounds, arguments), the blocks in
// the chosen order under a SIGSEGV/SIGBUS handler that turns a fault on the launching thread into
// an error naming kernel, block, thread and buffer (other faults go to the handler before it, the
// JVM's), the rerun that must reproduce device memory bit for bit, and the C ABI.
#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

namespace emu {

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

// The watchdog: a thread that spins on memory another thread should change never reaches a
// collective, so no barrier check can see it; a timer on the launching thread ends the launch.
int timeout_ms = 120000;
struct sigaction previous_alarm;

void on_alarm(int sig, siginfo_t* info, void* context) {
    if (in_launch && pthread_equal(pthread_self(), launch_thread) && run.current >= 0) {
        snprintf(fault_message, sizeof fault_message,
                 "still running after %d ms: an endless loop, or threads spinning on memory that another thread should change "
                 "(a deadlock no collective sees)", timeout_ms);
        siglongjmp(fault_jump, 1);
    }
    if (info->si_code != SI_TIMER) chain(previous_alarm, sig, info, context);
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
    sa.sa_sigaction = on_alarm;
    sigaction(SIGALRM, &sa, &previous_alarm);
}

void remove_fault_handler(const stack_t& previous_stack) {
    sigaction(SIGSEGV, &previous_segv, nullptr);
    sigaction(SIGBUS, &previous_bus, nullptr);
    sigaction(SIGALRM, &previous_alarm, nullptr);
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
    struct sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev._sigev_un._tid = gettid();  // sigev_notify_thread_id, which glibc 2.36 does not name
    timer_t watchdog;
    const bool watching = timer_create(CLOCK_MONOTONIC, &ev, &watchdog) == 0;
    if (watching) {
        struct itimerspec when{};
        when.it_value.tv_sec = timeout_ms / 1000;
        when.it_value.tv_nsec = timeout_ms % 1000 * 1000000L;
        when.it_interval.tv_nsec = 100000000L;  // again every 0.1 s until it lands inside a thread
        timer_settime(watchdog, 0, &when, nullptr);
    }
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
    if (watching) timer_delete(watchdog);
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


void register_kernels(const KernelEntry* entries, std::size_t count) {
    for (std::size_t i = 0; i < count; i++) registry().push_back(&entries[i]);
}

}  // namespace emu


// ---------------------------------------------------------------- C ABI

using namespace emu;

/** The ABI version gsae.cuda.EmulatedDevice expects. */
EMU_EXPORT int gsae_emu_version() { return 2; }

/** The last failure's message (one line), valid until the next call. */
EMU_EXPORT const char* gsae_emu_error() { return last_error.c_str(); }

/**
 * schedule: 0 forward, 1 reverse, 2 random; verify: extra runs of every launch under the other
 * orders whose results must match bit for bit (0: none); seed: poison words and random orders;
 * timeout: milliseconds one run of a launch may take before the watchdog ends it.
 */
EMU_EXPORT void gsae_emu_configure(int schedule, int verify, uint64_t poison_seed, int timeout) {
    std::lock_guard<std::mutex> hold(device_lock);
    default_order = schedule < 0 || schedule > 2 ? 0 : schedule;
    verify_runs = verify < 0 ? 0 : verify > 2 ? 2 : verify;
    seed = poison_seed;
    timeout_ms = timeout < 1 ? 1 : timeout;
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
