package gsae.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host memory for batches on their way to the device (page-locked on a GPU, so copies from it are
 * truly asynchronous on the stream). Freed exactly once by {@link #close}.
 */
final class PinnedBuffer implements AutoCloseable {

    private final Driver driver;
    private final long host;
    private final long bytes;
    private final MemorySegment memory;
    private boolean freed;

    PinnedBuffer(Driver driver, long bytes, String what) {
        this.driver = driver;
        this.bytes = bytes;
        this.host = driver.hostAllocate(bytes, what);
        this.memory = MemorySegment.ofAddress(host).reinterpret(bytes);
    }

    long bytes() {
        return bytes;
    }

    /**
     * Copies {@code src} into the staging memory and queues its transfer into {@code dst}. The
     * previous transfer from this buffer must have finished (the training step waits on its
     * stream at the end of every step, before the next batch arrives).
     */
    void sendAsync(float[] src, DeviceBuffer dst) {
        long count = 4L * src.length;
        if (count > bytes || count > dst.bytes()) throw new IllegalArgumentException(src.length + " floats do not fit the staging buffers");
        MemorySegment.copy(src, 0, memory, ValueLayout.JAVA_FLOAT, 0, src.length);
        driver.copyInAsync(dst.address(), host, count);
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        driver.hostFree(host);
    }
}
