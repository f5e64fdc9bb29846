package gsae.cuda;

import gsae.tensor.ChunkedTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host memory for batches on their way to the device and for checkpoints on their way out (page-locked on a GPU, so copies from it are
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

    /**
     * Uploads all of {@code src} into {@code dst} through this memory, one buffer-full at a time,
     * waiting for each copy before the buffer is refilled: a tensor of any size, e.g. from a
     * memory-mapped checkpoint, goes to the device without a host copy of it.
     */
    void send(ChunkedTensor src, DeviceBuffer dst) {
        if (freed) throw new IllegalStateException("staging memory used after it was freed");
        long size = src.byteSize();
        if (size > dst.bytes()) throw new IllegalArgumentException(src + " does not fit " + dst.what() + " (" + dst.bytes() + " bytes)");
        for (long at = 0, len; at < size; at += len) {
            len = Math.min(bytes, size - at);
            src.chunks().read(at, memory.asSlice(0, len));
            driver.copyInAsync(dst.address() + at, host, len);
            driver.sync("upload of " + dst.what());
        }
    }

    /**
     * Copies {@code len} bytes at byte {@code offset} of device buffer {@code src} through this
     * memory into {@code dst} at {@code dstOffset}, after the queued work.
     */
    void receive(DeviceBuffer src, long offset, MemorySegment dst, long dstOffset, long len) {
        if (freed) throw new IllegalStateException("staging memory read after the training step was closed");
        if (len > bytes || offset < 0 || offset + len > src.bytes())
            throw new IllegalArgumentException(len + " bytes at " + offset + " do not fit " + src.what() + " or the staging buffer");
        driver.copyOutToHost(host, src.address(), offset, len, src.what());
        MemorySegment.copy(memory, 0, dst, dstOffset, len);
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        driver.hostFree(host);
    }
}
