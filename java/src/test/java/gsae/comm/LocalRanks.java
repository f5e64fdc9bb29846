package gsae.comm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * P ranks as P threads of one JVM, for tests of code written against {@link Collectives}: {@link
 * #run} starts one task per rank and returns their results in rank order. Reductions combine the
 * ranks in rank order, so every rank gets bit-identical results. A task that throws breaks the
 * group: the others' next collective throws too, and run rethrows the first failure.
 */
public final class LocalRanks {

    private final int size;
    private final CyclicBarrier barrier;
    private final MemorySegment[] posted;
    private volatile boolean failed;

    private LocalRanks(int size) {
        this.size = size;
        this.barrier = new CyclicBarrier(size);
        this.posted = new MemorySegment[size];
    }

    /** Runs {@code task} on ranks 0..size−1, one thread each, and returns the results in rank order. */
    public static <T> List<T> run(int size, Function<Collectives, T> task) {
        LocalRanks group = new LocalRanks(size);
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                Rank rank = group.new Rank(r);
                futures.add(pool.submit(() -> {
                    try {
                        return task.apply(rank);
                    } catch (Throwable t) {
                        group.failed = true;
                        throw t;
                    }
                }));
            }
            // A rank that failed may do so before another reaches the barrier, which a single reset
            // would then miss: keep breaking it until every rank has returned.
            while (!futures.stream().allMatch(Future::isDone)) {
                if (group.failed) group.barrier.reset();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            List<T> results = new ArrayList<>();
            Throwable first = null;
            for (Future<T> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    if (first == null || first instanceof OtherRankFailed) first = e.getCause();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            if (first instanceof RuntimeException re) throw re;
            if (first instanceof Error err) throw err;
            if (first != null) throw new IllegalStateException(first);
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private void await() {
        if (failed) throw new OtherRankFailed(null);
        try {
            barrier.await();
        } catch (InterruptedException | BrokenBarrierException e) {
            throw new OtherRankFailed(e);
        }
    }

    /** What a rank's collective throws when another rank has failed. */
    private static final class OtherRankFailed extends IllegalStateException {
        OtherRankFailed(Throwable cause) {
            super("another rank failed", cause);
        }
    }

    private final class Rank implements Collectives {
        private final int rank;

        Rank(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public boolean deviceMemory() {
            return false;
        }

        @Override
        public void allReduce(MemorySegment buf, ElementType type, ReduceOp op) {
            posted[rank] = buf;
            await();
            long n = buf.byteSize() / type.size;
            MemorySegment result = MemorySegment.ofArray(new byte[(int) buf.byteSize()]);
            for (long i = 0; i < n; i++) combine(result, i, type, op);
            await();
            MemorySegment.copy(result, 0, buf, 0, buf.byteSize());
        }

        private void combine(MemorySegment out, long i, ElementType type, ReduceOp op) {
            switch (type) {
                case F32 -> {
                    var l = ValueLayout.JAVA_FLOAT_UNALIGNED;
                    float acc = posted[0].getAtIndex(l, i);
                    for (int r = 1; r < size; r++) {
                        float v = posted[r].getAtIndex(l, i);
                        acc = switch (op) { case SUM -> acc + v; case MIN -> Math.min(acc, v); case MAX -> Math.max(acc, v); };
                    }
                    out.setAtIndex(l, i, acc);
                }
                case F64 -> {
                    var l = ValueLayout.JAVA_DOUBLE_UNALIGNED;
                    double acc = posted[0].getAtIndex(l, i);
                    for (int r = 1; r < size; r++) {
                        double v = posted[r].getAtIndex(l, i);
                        acc = switch (op) { case SUM -> acc + v; case MIN -> Math.min(acc, v); case MAX -> Math.max(acc, v); };
                    }
                    out.setAtIndex(l, i, acc);
                }
                case I32 -> {
                    var l = ValueLayout.JAVA_INT_UNALIGNED;
                    int acc = posted[0].getAtIndex(l, i);
                    for (int r = 1; r < size; r++) {
                        int v = posted[r].getAtIndex(l, i);
                        acc = switch (op) { case SUM -> acc + v; case MIN -> Math.min(acc, v); case MAX -> Math.max(acc, v); };
                    }
                    out.setAtIndex(l, i, acc);
                }
                case I64 -> {
                    var l = ValueLayout.JAVA_LONG_UNALIGNED;
                    long acc = posted[0].getAtIndex(l, i);
                    for (int r = 1; r < size; r++) {
                        long v = posted[r].getAtIndex(l, i);
                        acc = switch (op) { case SUM -> acc + v; case MIN -> Math.min(acc, v); case MAX -> Math.max(acc, v); };
                    }
                    out.setAtIndex(l, i, acc);
                }
                case U8 -> {
                    int acc = posted[0].get(ValueLayout.JAVA_BYTE, i) & 0xff;
                    for (int r = 1; r < size; r++) {
                        int v = posted[r].get(ValueLayout.JAVA_BYTE, i) & 0xff;
                        acc = switch (op) { case SUM -> acc + v; case MIN -> Math.min(acc, v); case MAX -> Math.max(acc, v); };
                    }
                    out.set(ValueLayout.JAVA_BYTE, i, (byte) acc);
                }
            }
        }

        @Override
        public void allGather(MemorySegment send, MemorySegment recv, ElementType type) {
            Collectives.checkGather(send, recv, size);
            posted[rank] = send;
            await();
            for (int r = 0; r < size; r++) MemorySegment.copy(posted[r], 0, recv, r * send.byteSize(), send.byteSize());
            await();
        }

        @Override
        public void broadcast(MemorySegment buf, ElementType type, int root) {
            posted[rank] = buf;
            await();
            if (rank != root) MemorySegment.copy(posted[root], 0, buf, 0, buf.byteSize());
            await();
        }

        @Override
        public void barrier() {
            await();
        }

        @Override
        public void close() {}
    }
}
