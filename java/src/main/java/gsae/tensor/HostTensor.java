package gsae.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense row-major tensor in host memory: a heap array wrapped as a segment, or a slice of a
 * memory-mapped file. Bytes are little-endian when the segment comes from a file.
 *
 * @param dtype element type
 * @param shape dimensions, outermost first
 * @param data  exactly numel·dtype.size bytes
 */
public record HostTensor(Dtype dtype, long[] shape, MemorySegment data) {

    public HostTensor {
        shape = shape.clone();
        if (data.byteSize() != Math.multiplyExact(numel(shape), dtype.size))
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and " + dtype + " needs "
                    + numel(shape) * dtype.size + " bytes, got " + data.byteSize());
    }

    /** The product of the dimensions; one that overflows 64 bits is an {@link ArithmeticException}, never a wrapped count. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    public static HostTensor of(float[] values, long... shape) {
        return new HostTensor(Dtype.F32, shape, MemorySegment.ofArray(values));
    }

    public static HostTensor of(int[] values, long... shape) {
        return new HostTensor(Dtype.I32, shape, MemorySegment.ofArray(values));
    }

    public static HostTensor of(byte[] values, long... shape) {
        return new HostTensor(Dtype.U8, shape, MemorySegment.ofArray(values));
    }

    /** All elements converted to float32 (float types only). */
    public float[] toFloats() {
        if (numel() > Integer.MAX_VALUE) throw new IllegalStateException("tensor too large for one array: " + Arrays.toString(shape));
        float[] out = new float[(int) numel()];
        dtype.toFloats(data, 0, out, 0, out.length);
        return out;
    }

    /** Little-endian copy for I32 tensors. */
    public int[] toInts() {
        if (dtype != Dtype.I32) throw new IllegalStateException("expected I32, have " + dtype);
        int[] out = new int[(int) numel()];
        MemorySegment.copy(data, ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, out, 0, out.length);
        return out;
    }

    public byte[] toBytes() {
        return data.toArray(ValueLayout.JAVA_BYTE);
    }
}
