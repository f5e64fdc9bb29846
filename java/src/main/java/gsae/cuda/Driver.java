package gsae.cuda;

/**
 * The device operations the CUDA backend uses, so that the same stages run on a GPU through JCuda
 * ({@link CudaContext}) or on the emulated device ({@link EmulatedDevice}, the kernels compiled for
 * the host). Device memory is named by its address; host arrays are float[], int[], long[], byte[]
 * or double[]. Errors are {@link CudaException}s naming the call.
 */
interface Driver extends AutoCloseable {

    /** "NVIDIA H200 (sm_90, 132 SMs)" or the emulated device and its settings. */
    String describe();

    /** Binds the device to the calling thread (a CUDA context is per thread). */
    void makeCurrent();

    /** Waits for the queued work; asynchronous faults surface here, named by {@code after}. */
    void sync(String after);

    /** A device buffer of {@code bytes} (at least 1) for {@code what}; out of memory is one line. */
    long allocate(long bytes, String what);

    void free(long address, String what);

    /** Copies {@code bytes} of {@code array} to device address {@code dst}. */
    void copyIn(long dst, Object array, long bytes, String what);

    /** Copies {@code bytes} from device address {@code src} into {@code array}. */
    void copyOut(Object array, long src, long bytes, String what);

    /** Sets {@code words} 32-bit words at {@code dst} to {@code bits}. */
    void fill32(long dst, int bits, long words, String what);

    void zero(long dst, long bytes, String what);

    /** Host memory the device copies from asynchronously (page-locked on a GPU); its native address. */
    long hostAllocate(long bytes, String what);

    void hostFree(long address);

    /** Queues a copy of {@code bytes} from host memory of {@link #hostAllocate} to {@code dst}. */
    void copyInAsync(long dst, long hostSrc, long bytes);

    /**
     * Copies {@code bytes} from {@code offset} bytes into the device buffer at {@code src} to host
     * memory of {@link #hostAllocate} at {@code hostDst}, after the queued work (checkpoints read
     * device state a chunk at a time through such a buffer).
     */
    void copyOutToHost(long hostDst, long src, long offset, long bytes, String what);

    /** Loads kernel family {@code family} (kernels/{@code family}.cu). */
    void loadModule(String family);

    /** Unloads every loaded family. */
    void unloadModules();

    /** The launcher of kernel {@code name} of a loaded {@code family}. */
    Kernel.Launcher launcher(String family, String name);

    /** The GEMMs of the dense baseline: cuBLAS on a GPU. */
    Gemm gemm();

    @Override
    void close();
}
