package gsae.cuda;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Page-locked host memory (cuMemHostAlloc) for batches on their way to the device: copies from it
 * are truly asynchronous on the stream. Freed exactly once by {@link #close}.
 */
final class PinnedBuffer implements AutoCloseable {

    private final Pointer host = new Pointer();
    private final long bytes;
    private final FloatBuffer floats;
    private boolean freed;

    PinnedBuffer(long bytes, String what) {
        this.bytes = bytes;
        CudaException.check(JCudaDriver.cuMemHostAlloc(host, bytes, 0), "cuMemHostAlloc(" + bytes + " bytes for " + what + ")");
        floats = host.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    long bytes() {
        return bytes;
    }

    /**
     * Copies {@code src} into the staging memory and queues its transfer into {@code dst} on the
     * stream. The previous transfer from this buffer must have finished (the training step waits
     * on its stream at the end of every step, before the next batch arrives).
     */
    void sendAsync(float[] src, DeviceBuffer dst, CudaContext ctx) {
        long count = 4L * src.length;
        if (count > bytes || count > dst.bytes()) throw new IllegalArgumentException(src.length + " floats do not fit the staging buffers");
        floats.clear();
        floats.put(src);
        CudaException.check(JCudaDriver.cuMemcpyHtoDAsync(dst.ptr(), host, count, ctx.stream), "cuMemcpyHtoDAsync(" + count + " bytes)");
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        CudaException.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost");
    }
}
