package gsae.comm;

import java.lang.foreign.MemorySegment;

/**
 * The collectives a multi-process run needs, over one fixed group of {@link #size} ranks. Every
 * rank calls the same operations in the same order with buffers of the same size (MPI's rule);
 * each call returns when this rank's part is done and its result is in place.
 *
 * <p>Buffers are {@link MemorySegment}s: host memory (heap or native) for host groups, device
 * memory (a segment that only carries the device address and size) for device groups; {@link
 * #deviceMemory} says which. Element counts are {@code buffer.byteSize() / type.size}, any long.
 * The array overloads are for host groups.
 */
public interface Collectives extends AutoCloseable {

    /** This process's rank, 0 ≤ rank < size. */
    int rank();

    /** The number of ranks. */
    int size();

    /** True when buffers are device memory (NCCL), false when host memory. */
    boolean deviceMemory();

    /** buf ← op over ranks of buf, element by element, on every rank. */
    void allReduce(MemorySegment buf, ElementType type, ReduceOp op);

    /** recv ← the ranks' {@code send} buffers in rank order; recv holds size × send's elements. */
    void allGather(MemorySegment send, MemorySegment recv, ElementType type);

    /** buf ← root's buf, on every rank. */
    void broadcast(MemorySegment buf, ElementType type, int root);

    /** Returns on every rank once every rank has called it. */
    void barrier();

    /** Releases the group's resources; a collective call afterwards is an error. */
    @Override
    void close();

    /** Refuses a broadcast {@code root} that is not a rank of a group of {@code size}. */
    static void checkRoot(int root, int size) {
        if (root < 0 || root >= size) throw new IllegalArgumentException("root " + root + " is not a rank of a group of " + size);
    }

    /** Refuses an all-gather whose {@code recv} does not hold {@code size} times {@code send}. */
    static void checkGather(MemorySegment send, MemorySegment recv, int size) {
        if (recv.byteSize() != send.byteSize() * size)
            throw new IllegalArgumentException("all-gather of " + send.byteSize() + " bytes into " + recv.byteSize() + " on " + size
                    + (size == 1 ? " rank" : " ranks"));
    }

    default void allReduce(float[] a, ReduceOp op) {
        allReduce(MemorySegment.ofArray(a), ElementType.F32, op);
    }

    default void allReduce(double[] a, ReduceOp op) {
        allReduce(MemorySegment.ofArray(a), ElementType.F64, op);
    }

    default void allReduce(long[] a, ReduceOp op) {
        allReduce(MemorySegment.ofArray(a), ElementType.I64, op);
    }

    default void allReduce(int[] a, ReduceOp op) {
        allReduce(MemorySegment.ofArray(a), ElementType.I32, op);
    }

    /** The ranks' arrays concatenated in rank order. */
    default float[] allGather(float[] mine) {
        float[] all = new float[Math.multiplyExact(mine.length, size())];
        allGather(MemorySegment.ofArray(mine), MemorySegment.ofArray(all), ElementType.F32);
        return all;
    }

    /** The ranks' arrays concatenated in rank order. */
    default int[] allGather(int[] mine) {
        int[] all = new int[Math.multiplyExact(mine.length, size())];
        allGather(MemorySegment.ofArray(mine), MemorySegment.ofArray(all), ElementType.I32);
        return all;
    }

    default void broadcast(float[] a, int root) {
        broadcast(MemorySegment.ofArray(a), ElementType.F32, root);
    }

    default void broadcast(long[] a, int root) {
        broadcast(MemorySegment.ofArray(a), ElementType.I64, root);
    }

    default void broadcast(byte[] a, int root) {
        broadcast(MemorySegment.ofArray(a), ElementType.U8, root);
    }
}
