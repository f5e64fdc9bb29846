// faults.cu — kernels that break the CUDA execution model on purpose, one way each, built into
// emulator/build/faults/libgsae_emu.so for gsae.cuda.EmulatedDeviceTest, which checks that the
// emulated device reports each one (and runs `fine` without complaint). Not a kernel family of gsae.

// Correct: every thread writes its index after a barrier and a warp sum.
extern "C" __global__ void __launch_bounds__(64) fine(int* out) {
    __shared__ int seen[64];
    seen[threadIdx.x] = threadIdx.x;
    __syncthreads();
    int v = seen[(threadIdx.x + 1) % blockDim.x];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    out[threadIdx.x] = v;
}

// Thread 5 leaves before the barrier the others wait at.
extern "C" __global__ void partial_barrier(int* out) {
    if (threadIdx.x == 5) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

// The two halves of the block wait at different __syncthreads.
extern "C" __global__ void divergent_barrier(int* out) {
    if (threadIdx.x < 32) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

// Lanes 16–31 shuffle with a mask that names only lanes 0–15.
extern "C" __global__ void mask_without_caller(int* out) {
    out[threadIdx.x] = __shfl_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 0);
}

// Lane 31 has exited when the others shuffle with a full mask.
extern "C" __global__ void mask_names_exited(int* out) {
    if (threadIdx.x % 32 == 31) return;
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<int>(threadIdx.x), 1);
}

// Even lanes shuffle while odd lanes vote.
extern "C" __global__ void mismatched_collectives(int* out) {
    if (threadIdx.x % 2 == 1) out[threadIdx.x] = static_cast<int>(__ballot_sync(0xffffffffu, 1));
    else out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);
}

// Lane 0 goes to the block barrier while its warp waits for it at a shuffle (a deadlock on a GPU).
extern "C" __global__ void barrier_inside_shuffle(int* out) {
    if (threadIdx.x == 0) __syncthreads();
    else out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);
}

// Thread i reads in[i + 1]: the last thread reads one element past the end of `in`.
extern "C" __global__ void read_past_end(const float* in, float* out) {
    out[threadIdx.x] = in[threadIdx.x + 1];
}

// Reads in[index], wherever that is.
extern "C" __global__ void read_at(const float* in, long long index, float* out) {
    out[threadIdx.x] = in[index];
}

// Thread 0 writes a shared value the others read without a barrier: right only when thread 0 runs first.
extern "C" __global__ void racy_broadcast(int* out) {
    __shared__ int value;
    if (threadIdx.x == 0) value = 42;
    out[threadIdx.x] = value;
}

// Reads shared memory no thread wrote.
extern "C" __global__ void unwritten_shared(float* out) {
    __shared__ float never[64];
    out[threadIdx.x] = never[threadIdx.x];
}

// Thread 0 spins until thread 1 sets a flag: fine on a GPU, endless when thread 0 runs first here
// (threads switch only at collectives), which the watchdog must end.
extern "C" __global__ void spin_wait(int* flag) {
    if (threadIdx.x == 1) *flag = 1;
    else while (*reinterpret_cast<volatile int*>(flag) == 0) {}
}
