package gsae.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor whose bytes are produced on demand, a chunk at a time: how state that is not one host
 * array (device memory, memory-mapped files, generated data) is written out without a whole host
 * copy. Sizes are {@code long}, so a tensor may exceed 2³¹ − 1 elements.
 *
 * @param dtype  element type
 * @param shape  dimensions, outermost first
 * @param chunks fills a destination with the bytes at a given offset (little-endian)
 */
public record ChunkedTensor(Dtype dtype, long[] shape, Chunks chunks) {

    /** Copies {@code into.byteSize()} bytes starting at byte {@code offset} of the tensor into {@code into}. */
    @FunctionalInterface
    public interface Chunks {
        void read(long offset, MemorySegment into);
    }

    public ChunkedTensor {
        shape = shape.clone();
        Math.multiplyExact(HostTensor.numel(shape), dtype.size); // a size that overflows 64 bits fails here
    }

    /** A host tensor read chunk by chunk. */
    public static ChunkedTensor of(HostTensor t) {
        return new ChunkedTensor(t.dtype(), t.shape(), (offset, into) -> MemorySegment.copy(t.data(), offset, into, 0, into.byteSize()));
    }

    public long byteSize() {
        return HostTensor.numel(shape) * dtype.size;
    }

    @Override
    public String toString() {
        return dtype + " " + Arrays.toString(shape);
    }
}
