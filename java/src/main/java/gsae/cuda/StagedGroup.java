package gsae.cuda;

import gsae.comm.Collectives;
import gsae.comm.ElementType;
import gsae.comm.ReduceOp;

import java.lang.foreign.MemorySegment;

/**
 * Device buffers reduced over a host group (MPI): each collective copies the buffer to host memory
 * {@link #chunkBytes} at a time, runs the host collective on it and copies the result back. It is
 * what data-parallel training on devices falls back to where NCCL is missing, and what the
 * emulated device uses. The copies are synchronous, so a collective sees every kernel queued before
 * it and the kernels queued after it see its result. Closing it leaves the host group open.
 */
final class StagedGroup implements Collectives {

    /** Bytes staged per host collective; a knob only so that tests cross chunk boundaries at small sizes. */
    static long chunkBytes = 64L << 20;

    private final Driver driver;
    private final Collectives host;
    private final long chunk = chunkBytes;
    private long[] stage = new long[0];

    StagedGroup(Driver driver, Collectives host) {
        if (host.deviceMemory()) throw new IllegalArgumentException("staging needs a host group, got a device group");
        this.driver = driver;
        this.host = host;
    }

    @Override
    public int rank() {
        return host.rank();
    }

    @Override
    public int size() {
        return host.size();
    }

    @Override
    public boolean deviceMemory() {
        return true;
    }

    @Override
    public void allReduce(MemorySegment buf, ElementType type, ReduceOp op) {
        type.count(buf);
        for (long at = 0, len; at < buf.byteSize(); at += len) {
            len = piece(buf.byteSize() - at, type);
            MemorySegment h = staged(len);
            driver.copyOut(stage, buf.address() + at, len, "all-reduce staging");
            host.allReduce(h, type, op);
            driver.copyIn(buf.address() + at, stage, len, "all-reduce staging");
        }
    }

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, ElementType type) {
        type.count(send);
        Collectives.checkGather(send, recv, size());
        long bytes = send.byteSize();
        for (long at = 0, len; at < bytes; at += len) {
            len = piece(bytes - at, type);
            long[] mine = new long[(int) ((len + 7) / 8)], all = new long[(int) ((len * size() + 7) / 8)];
            driver.copyOut(mine, send.address() + at, len, "all-gather staging");
            host.allGather(MemorySegment.ofArray(mine).asSlice(0, len), MemorySegment.ofArray(all).asSlice(0, len * size()), type);
            for (int r = 0; r < size(); r++) {
                MemorySegment.copy(MemorySegment.ofArray(all), r * len, MemorySegment.ofArray(mine), 0, len);
                driver.copyIn(recv.address() + r * bytes + at, mine, len, "all-gather staging");
            }
        }
    }

    @Override
    public void broadcast(MemorySegment buf, ElementType type, int root) {
        type.count(buf);
        Collectives.checkRoot(root, size());
        for (long at = 0, len; at < buf.byteSize(); at += len) {
            len = piece(buf.byteSize() - at, type);
            MemorySegment h = staged(len);
            if (rank() == root) driver.copyOut(stage, buf.address() + at, len, "broadcast staging");
            host.broadcast(h, type, root);
            if (rank() != root) driver.copyIn(buf.address() + at, stage, len, "broadcast staging");
        }
    }

    @Override
    public void barrier() {
        host.barrier();
    }

    /** Nothing to release: the host group belongs to the caller. */
    @Override
    public void close() {}

    /** The next piece: at most {@link #chunk} bytes, whole elements. */
    private long piece(long left, ElementType type) {
        return Math.min(left, chunk - chunk % type.size);
    }

    /** The first {@code bytes} of the staging array, grown to fit; 8-byte aligned for every element type. */
    private MemorySegment staged(long bytes) {
        if (8L * stage.length < bytes) stage = new long[(int) ((bytes + 7) / 8)];
        return MemorySegment.ofArray(stage).asSlice(0, bytes);
    }
}
