package gsae.cuda;

import jcuda.NativePointerObject;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;

/**
 * The device, its primary context and the one stream gsae works on. The stream is created
 * blocking, so the synchronous copies and memsets of {@link DeviceBuffer} (legacy stream) stay
 * ordered with the kernels. Every public entry of the backend calls {@link #makeCurrent} first,
 * because a CUDA context is bound per thread.
 */
final class CudaContext implements AutoCloseable {

    /** The oldest compute capability the kernels are built for (sm_80). */
    static final int MIN_MAJOR = 8;

    final CUdevice device = new CUdevice();
    final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    final String deviceName;
    final int major, minor, multiprocessors;
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

    void makeCurrent() {
        CudaException.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for the stream; asynchronous kernel faults surface here, named by {@code after}. */
    void sync(String after) {
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
    String describe() {
        return deviceName + " (sm_" + major + minor + ", " + multiprocessors + " SMs)";
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
        CudaException.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}
