package gsae.cuda;

/**
 * One device allocation, freed exactly once by {@link #close}. Host copies here are synchronous;
 * on a GPU they run on the legacy stream, which the context's stream (created blocking) is ordered with.
 */
public final class DeviceBuffer implements AutoCloseable {

    /** NaN as raw bits: the poison written into outputs before a launch so that unwritten slots show. */
    static final int NAN_BITS = Float.floatToRawIntBits(Float.NaN);

    private final Driver driver;
    private final long address;
    private final long bytes;
    private final String what;
    private boolean freed;

    private DeviceBuffer(Driver driver, long address, long bytes, String what) {
        this.driver = driver;
        this.address = address;
        this.bytes = bytes;
        this.what = what;
    }

    /** Allocates {@code bytes} (at least 1) for {@code what}; out of memory is one line with the bytes asked and free. */
    static DeviceBuffer allocate(Driver driver, long bytes, String what) {
        long size = Math.max(1, bytes);
        return new DeviceBuffer(driver, driver.allocate(size, what), size, what);
    }

    public long bytes() {
        return bytes;
    }

    String what() {
        return what;
    }

    /** The raw device address: a kernel's pointer argument, or for libraries bound through FFM (cuBLAS). */
    long address() {
        if (freed) throw new IllegalStateException(what + " was used after it was freed");
        return address;
    }

    void upload(float[] src) {
        copyIn(src, 4L * src.length);
    }

    void upload(int[] src) {
        copyIn(src, 4L * src.length);
    }

    void upload(long[] src) {
        copyIn(src, 8L * src.length);
    }

    void upload(double[] src) {
        copyIn(src, 8L * src.length);
    }

    void upload(byte[] src) {
        copyIn(src, src.length);
    }

    void download(float[] dst) {
        copyOut(dst, 4L * dst.length);
    }

    void download(int[] dst) {
        copyOut(dst, 4L * dst.length);
    }

    void download(long[] dst) {
        copyOut(dst, 8L * dst.length);
    }

    void download(double[] dst) {
        copyOut(dst, 8L * dst.length);
    }

    /** Sets the first {@code words} 32-bit words to {@code bits}. */
    void fill(int bits, long words) {
        fits(4 * words);
        driver.fill32(address(), bits, words, what);
    }

    void zero(long bytesToClear) {
        fits(bytesToClear);
        driver.zero(address(), bytesToClear, what);
    }

    private void copyIn(Object src, long count) {
        fits(count);
        driver.copyIn(address(), src, count, what);
    }

    private void copyOut(Object dst, long count) {
        fits(count);
        driver.copyOut(dst, address(), count, what);
    }

    private void fits(long count) {
        if (count > bytes) throw new IllegalArgumentException(count + " bytes do not fit " + what + " (" + bytes + " bytes)");
    }

    @Override
    public void close() {
        if (freed) return;
        freed = true;
        driver.free(address, what);
    }
}
