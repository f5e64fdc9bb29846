package gsae.comm;

import java.lang.foreign.MemorySegment;

/** The group of one: every collective leaves its buffers as they are (all-gather copies). */
public final class SingleProcess implements Collectives {

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public boolean deviceMemory() {
        return false;
    }

    @Override
    public void allReduce(MemorySegment buf, ElementType type, ReduceOp op) {}

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, ElementType type) {
        Collectives.checkGather(send, recv, 1);
        MemorySegment.copy(send, 0, recv, 0, send.byteSize());
    }

    @Override
    public void broadcast(MemorySegment buf, ElementType type, int root) {
        Collectives.checkRoot(root, 1);
    }

    @Override
    public void barrier() {}

    @Override
    public void close() {}
}
