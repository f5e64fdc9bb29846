package gsae.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

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

    /**
     * {@code parts} stacked along their first dimension, as if concatenated: each read takes its
     * bytes from the parts it covers and from no other. The parts agree in dtype and in every
     * dimension but the first.
     */
    public static ChunkedTensor stacked(List<ChunkedTensor> parts) {
        ChunkedTensor head = parts.getFirst();
        long[] shape = head.shape.clone();
        shape[0] = 0;
        for (ChunkedTensor p : parts) {
            if (p.dtype != head.dtype || p.shape.length != shape.length
                    || !Arrays.equals(p.shape, 1, shape.length, head.shape, 1, shape.length))
                throw new IllegalArgumentException("cannot stack " + p + " on " + head);
            shape[0] += p.shape[0];
        }
        List<ChunkedTensor> copy = List.copyOf(parts);
        return new ChunkedTensor(head.dtype, shape, (offset, into) -> {
            long end = offset + into.byteSize(), start = 0;
            for (ChunkedTensor p : copy) {
                long from = Math.max(offset, start), to = Math.min(end, start + p.byteSize());
                if (from < to) p.chunks.read(from - start, into.asSlice(from - offset, to - from));
                start += p.byteSize();
            }
        });
    }

    public long byteSize() {
        return HostTensor.numel(shape) * dtype.size;
    }

    @Override
    public String toString() {
        return dtype + " " + Arrays.toString(shape);
    }
}
