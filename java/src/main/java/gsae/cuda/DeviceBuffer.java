package gsae.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUpointer_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * One device allocation, freed exactly once by {@link #close}. Host copies here are synchronous and
 * run on the legacy stream, which the context's stream (created blocking) is ordered with.
 */
public final class DeviceBuffer implements AutoCloseable {

    /** NaN as raw bits: the poison written into outputs before a launch so that unwritten slots show. */
    static final int NAN_BITS = Float.floatToRawIntBits(Float.NaN);

    private final CUdeviceptr ptr = new CUdeviceptr();
    private final long bytes;
    private final String what;
    private boolean freed;

    private DeviceBuffer(long bytes, String what) {
        this.bytes = bytes;
        this.what = what;
    }

    /** Allocates {@code bytes} (at least 1) for {@code what}; out of memory is one line with the bytes asked and free. */
    static DeviceBuffer allocate(long bytes, String what) {
        DeviceBuffer b = new DeviceBuffer(Math.max(1, bytes), what);
        int result = JCudaDriver.cuMemAlloc(b.ptr, b.bytes);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] free = new long[1], total = new long[1];
            JCudaDriver.cuMemGetInfo(free, total);
            throw new CudaException("out of GPU memory: asked for " + b.bytes + " bytes (" + what + "), "
                    + free[0] + " of " + total[0] + " bytes free");
        }
        CudaException.check(result, "cuMemAlloc(" + b.bytes + " bytes for " + what + ")");
        return b;
    }

    public long bytes() {
        return bytes;
    }

    CUdeviceptr ptr() {
        if (freed) throw new IllegalStateException(what + " was used after it was freed");
        return ptr;
    }

    /**
     * The raw device address, for libraries bound through FFM (cuBLAS). Asked of the driver
     * (CU_POINTER_ATTRIBUTE_DEVICE_POINTER) rather than read from JCuda's protected field.
     */
    long address() {
        long[] out = new long[1];
        CudaException.check(JCudaDriver.cuPointerGetAttribute(Pointer.to(out), CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, ptr()),
                "cuPointerGetAttribute(DEVICE_POINTER of " + what + ")");
        return out[0];
    }

    void upload(float[] src) {
        copyIn(Pointer.to(src), 4L * src.length);
    }

    void upload(int[] src) {
        copyIn(Pointer.to(src), 4L * src.length);
    }

    void upload(long[] src) {
        copyIn(Pointer.to(src), 8L * src.length);
    }

    void upload(byte[] src) {
        copyIn(Pointer.to(src), src.length);
    }

    void download(float[] dst) {
        copyOut(Pointer.to(dst), 4L * dst.length);
    }

    void download(int[] dst) {
        copyOut(Pointer.to(dst), 4L * dst.length);
    }

    void download(long[] dst) {
        copyOut(Pointer.to(dst), 8L * dst.length);
    }

    void download(double[] dst) {
        copyOut(Pointer.to(dst), 8L * dst.length);
    }

    /** Sets the first {@code words} 32-bit words to {@code bits}. */
    void fill(int bits, long words) {
        fits(4 * words);
        CudaException.check(JCudaDriver.cuMemsetD32(ptr(), bits, words), "cuMemsetD32(" + what + ")");
    }

    void zero(long bytesToClear) {
        fits(bytesToClear);
        CudaException.check(JCudaDriver.cuMemsetD8(ptr(), (byte) 0, bytesToClear), "cuMemsetD8(" + what + ")");
    }

    private void copyIn(Pointer src, long count) {
        fits(count);
        CudaException.check(JCudaDriver.cuMemcpyHtoD(ptr(), src, count), "cuMemcpyHtoD(" + count + " bytes into " + what + ")");
    }

    private void copyOut(Pointer dst, long count) {
        fits(count);
        CudaException.check(JCudaDriver.cuMemcpyDtoH(dst, ptr(), count), "cuMemcpyDtoH(" + count + " bytes from " + what + ")");
    }

    private void fits(long count) {
        if (count > bytes) throw new IllegalArgumentException(count + " bytes do not fit " + what + " (" + bytes + " bytes)");
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        CudaException.check(JCudaDriver.cuMemFree(ptr), "cuMemFree(" + what + ")");
    }
}
