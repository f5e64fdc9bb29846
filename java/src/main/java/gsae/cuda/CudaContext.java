package gsae.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUpointer_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GPU through JCuda: the device, its primary context and the one stream gsae works on. The
 * stream is created blocking, so the synchronous copies and memsets of {@link DeviceBuffer}
 * (legacy stream) stay ordered with the kernels. Every public entry of the backend calls
 * {@link #makeCurrent} first, because a CUDA context is bound per thread. Device pointers are
 * handed out as raw addresses and mapped back to JCuda's CUdeviceptr here.
 */
final class CudaContext implements Driver {

    /** The oldest compute capability the kernels are built for (sm_80). */
    static final int MIN_MAJOR = 8;

    final CUdevice device = new CUdevice();
    final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    final String deviceName;
    final int major, minor, multiprocessors;
    private final Map<Long, CUdeviceptr> pointers = new HashMap<>();
    private final Map<Long, Pointer> pinned = new HashMap<>();
    private final Map<String, CUmodule> modules = new LinkedHashMap<>();
    private boolean closed;

    private CudaContext(int ordinal) {
        CudaException.check(JCudaDriver.cuInit(0), "cuInit");
        int[] count = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0])
            throw new IllegalStateException("no CUDA device " + ordinal + " (" + count[0] + " device(s) present)");
        CudaException.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        deviceName = name(device);
        major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        if (major < MIN_MAJOR)
            throw new IllegalStateException("GPU " + ordinal + " (" + deviceName + ") has compute capability " + major + "." + minor
                    + "; gsae's CUDA kernels need " + MIN_MAJOR + ".0 or newer");
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        makeCurrent();
        CudaException.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
    }

    static CudaContext open(int ordinal) {
        return new CudaContext(ordinal);
    }

    @Override
    public void makeCurrent() {
        CudaException.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for the stream; asynchronous kernel faults surface here, named by {@code after}. */
    @Override
    public void sync(String after) {
        CudaException.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize after " + after);
    }

    /**
     * The stream's native CUstream handle, for cuBLAS bound through FFM. JCuda keeps it in the
     * protected {@code NativePointerObject.getNativePointer()}; gsae and JCuda share the unnamed
     * module, so a private lookup may read it. (Device pointers go through the driver's own
     * cuPointerGetAttribute instead; a stream has no such query.)
     */
    long streamAddress() {
        try {
            MethodHandle get = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                    .findVirtual(NativePointerObject.class, "getNativePointer", MethodType.methodType(long.class));
            return (long) get.invoke(stream);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the CUDA stream handle from JCuda: " + t, t);
        }
    }

    /** "NVIDIA H200 (sm_90, 132 SMs)". */
    @Override
    public String describe() {
        return deviceName + " (sm_" + major + minor + ", " + multiprocessors + " SMs)";
    }

    @Override
    public long allocate(long bytes, String what) {
        CUdeviceptr ptr = new CUdeviceptr();
        int result = JCudaDriver.cuMemAlloc(ptr, bytes);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] free = new long[1], total = new long[1];
            JCudaDriver.cuMemGetInfo(free, total);
            throw new CudaException("out of GPU memory: asked for " + bytes + " bytes (" + what + "), " + free[0] + " of " + total[0] + " bytes free");
        }
        CudaException.check(result, "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        long[] address = new long[1];
        CudaException.check(JCudaDriver.cuPointerGetAttribute(Pointer.to(address), CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, ptr),
                "cuPointerGetAttribute(DEVICE_POINTER of " + what + ")");
        pointers.put(address[0], ptr);
        return address[0];
    }

    @Override
    public void free(long address, String what) {
        CudaException.check(JCudaDriver.cuMemFree(pointer(address)), "cuMemFree(" + what + ")");
        pointers.remove(address);
    }

    @Override
    public void copyIn(long dst, Object array, long bytes, String what) {
        CudaException.check(JCudaDriver.cuMemcpyHtoD(pointer(dst), host(array), bytes), "cuMemcpyHtoD(" + bytes + " bytes into " + what + ")");
    }

    @Override
    public void copyOut(Object array, long src, long bytes, String what) {
        CudaException.check(JCudaDriver.cuMemcpyDtoH(host(array), pointer(src), bytes), "cuMemcpyDtoH(" + bytes + " bytes from " + what + ")");
    }

    @Override
    public void fill32(long dst, int bits, long words, String what) {
        CudaException.check(JCudaDriver.cuMemsetD32(pointer(dst), bits, words), "cuMemsetD32(" + what + ")");
    }

    @Override
    public void zero(long dst, long bytes, String what) {
        CudaException.check(JCudaDriver.cuMemsetD8(pointer(dst), (byte) 0, bytes), "cuMemsetD8(" + what + ")");
    }

    @Override
    public long hostAllocate(long bytes, String what) {
        Pointer host = new Pointer();
        CudaException.check(JCudaDriver.cuMemHostAlloc(host, bytes, 0), "cuMemHostAlloc(" + bytes + " bytes for " + what + ")");
        long address = MemorySegment.ofBuffer(host.getByteBuffer(0, bytes)).address();
        pinned.put(address, host);
        return address;
    }

    @Override
    public void hostFree(long address) {
        Pointer host = pinned.remove(address);
        if (host == null) throw new IllegalArgumentException("no page-locked host memory at 0x" + Long.toHexString(address));
        CudaException.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost");
    }

    @Override
    public void copyInAsync(long dst, long hostSrc, long bytes) {
        Pointer host = pinned.get(hostSrc);
        if (host == null) throw new IllegalArgumentException("no page-locked host memory at 0x" + Long.toHexString(hostSrc));
        CudaException.check(JCudaDriver.cuMemcpyHtoDAsync(pointer(dst), host, bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
    }

    @Override
    public void copyOutToHost(long hostDst, long src, long offset, long bytes, String what) {
        Pointer host = pinned.get(hostDst);
        if (host == null) throw new IllegalArgumentException("no page-locked host memory at 0x" + Long.toHexString(hostDst));
        CudaException.check(JCudaDriver.cuMemcpyDtoHAsync(host, pointer(src).withByteOffset(offset), bytes, stream),
                "cuMemcpyDtoHAsync(" + bytes + " bytes at " + offset + " of " + what + ")");
        sync("reading " + what);
    }

    /** Loads {@code gsae/kernels/<family>.fatbin} from the jar with cuModuleLoadData. */
    @Override
    public void loadModule(String family) {
        CUmodule module = new CUmodule();
        CudaException.check(JCudaDriver.cuModuleLoadData(module, fatbin(family)), "cuModuleLoadData(" + Kernels.resource(family) + ") on " + describe());
        modules.put(family, module);
    }

    @Override
    public void unloadModules() {
        for (Map.Entry<String, CUmodule> e : modules.entrySet())
            CudaException.check(JCudaDriver.cuModuleUnload(e.getValue()), "cuModuleUnload(" + e.getKey() + ")");
        modules.clear();
    }

    @Override
    public Kernel.Launcher launcher(String family, String name) {
        CUmodule module = modules.get(family);
        if (module == null) throw new IllegalArgumentException("no kernel family " + family);
        CUfunction function = new CUfunction();
        CudaException.check(JCudaDriver.cuModuleGetFunction(function, module, name), "cuModuleGetFunction(" + family + "/" + name + ")");
        return (gridX, gridY, threads, args) -> {
            NativePointerObject[] packed = new NativePointerObject[args.length];
            for (int i = 0; i < args.length; i++) packed[i] = pack(args[i]);
            CudaException.check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1, threads, 1, 1, 0, stream, Pointer.to(packed), null),
                    "cuLaunchKernel(" + name + ", grid " + gridX + "×" + gridY + ", " + threads + " threads)");
        };
    }

    @Override
    public Gemm gemm() {
        return new Cublas(streamAddress());
    }

    private Pointer pack(Object arg) {
        return switch (arg) {
            case null -> Pointer.to(new CUdeviceptr());
            case DeviceBuffer b -> Pointer.to(pointer(b.address()));
            case Integer v -> Pointer.to(new int[]{v});
            case Long v -> Pointer.to(new long[]{v});
            case Float v -> Pointer.to(new float[]{v});
            case Double v -> Pointer.to(new double[]{v});
            default -> throw new IllegalArgumentException("cannot pass a " + arg.getClass().getSimpleName() + " to a kernel");
        };
    }

    private CUdeviceptr pointer(long address) {
        CUdeviceptr p = pointers.get(address);
        if (p == null) throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not the start of a device buffer of this context");
        return p;
    }

    private static Pointer host(Object array) {
        return switch (array) {
            case float[] a -> Pointer.to(a);
            case int[] a -> Pointer.to(a);
            case long[] a -> Pointer.to(a);
            case byte[] a -> Pointer.to(a);
            case double[] a -> Pointer.to(a);
            default -> throw new IllegalArgumentException("cannot copy a " + array.getClass().getSimpleName());
        };
    }

    private static byte[] fatbin(String family) {
        try (InputStream in = CudaContext.class.getClassLoader().getResourceAsStream(Kernels.resource(family))) {
            if (in == null) throw new IllegalStateException(Kernels.resource(family) + " is not in the jar: run make kernels (needs nvcc), then rebuild");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(Kernels.resource(family) + ": " + e.getMessage(), e);
        }
    }

    private int attribute(int which) {
        int[] v = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(v, which, device), "cuDeviceGetAttribute(" + which + ")");
        return v[0];
    }

    private static String name(CUdevice device) {
        byte[] raw = new byte[256];
        CudaException.check(JCudaDriver.cuDeviceGetName(raw, raw.length, device), "cuDeviceGetName");
        int end = 0;
        while (end < raw.length && raw[end] != 0) end++;
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        unloadModules();
        CudaException.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}
