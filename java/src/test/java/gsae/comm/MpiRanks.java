package gsae.comm;

import gsae.config.UserError;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * One rank of {@link MpiGroupTest}, started by mpirun: {@code MpiRanks MAX_COUNT} runs every
 * collective over heap and native buffers of several sizes, calls of at most MAX_COUNT elements,
 * and checks each result against what it computes itself from every rank's (deterministic) input;
 * prints one line "rank r of P: N checks passed (library)" and exits 0, or exits 1 naming the first
 * wrong element. Values are small multiples of 1/4, so every sum is exact in any order.
 */
public final class MpiRanks {

    private static int checks;

    public static void main(String[] args) {
        int maxCount = Integer.parseInt(args[0]);
        MpiGroup g;
        try {
            g = MpiGroup.open(MpiLibrary.load(System.getenv()), maxCount);
        } catch (UserError e) {
            System.err.println("gsae: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            for (int n : new int[] {0, 1, 7, 1000, 12_345}) run(g, n);
            g.barrier();
            System.out.println("rank " + g.rank() + " of " + g.size() + ": " + checks + " checks passed (" + g.describe() + ")");
            g.finish();
        } catch (Throwable t) {
            System.err.println("rank " + g.rank() + ": " + t);
            System.err.flush();
            g.abort(1);
        }
    }

    /** Rank r's i-th input: exact in float, distinct per rank and element. */
    static float value(int r, int i) {
        return (i % 997) * (r + 1) + 0.25f * r;
    }

    private static void run(MpiGroup g, int n) {
        int p = g.size(), me = g.rank();
        float[] f = new float[n];
        double[] d = new double[n];
        long[] l = new long[n];
        int[] k = new int[n];
        for (int i = 0; i < n; i++) {
            f[i] = value(me, i);
            d[i] = value(me, i);
            l[i] = (long) value(me, i) * 1_000_003L - me;
            k[i] = (int) value(me, i) - 7 * me;
        }
        g.allReduce(f, ReduceOp.SUM);
        g.allReduce(d, ReduceOp.SUM);
        g.allReduce(l, ReduceOp.MIN);
        g.allReduce(k, ReduceOp.MAX);
        for (int i = 0; i < n; i++) {
            float sum = 0;
            long min = Long.MAX_VALUE;
            int max = Integer.MIN_VALUE;
            for (int r = 0; r < p; r++) {
                sum += value(r, i);
                min = Math.min(min, (long) value(r, i) * 1_000_003L - r);
                max = Math.max(max, (int) value(r, i) - 7 * r);
            }
            same(sum, f[i], "all-reduce sum f32", i);
            same(sum, (float) d[i], "all-reduce sum f64", i);
            same(min, l[i], "all-reduce min i64", i);
            same(max, k[i], "all-reduce max i32", i);
        }

        float[] mine = new float[n];
        int[] mineInt = new int[n];
        for (int i = 0; i < n; i++) {
            mine[i] = value(me, i);
            mineInt[i] = -me * 100_000 - i;
        }
        float[] all = g.allGather(mine);
        int[] allInt = g.allGather(mineInt);
        for (int r = 0; r < p; r++)
            for (int i = 0; i < n; i++) {
                same(value(r, i), all[r * n + i], "all-gather f32", r * n + i);
                same(-r * 100_000 - i, allInt[r * n + i], "all-gather i32", r * n + i);
            }

        int root = p - 1;
        float[] b = new float[n];
        long[] bl = new long[n];
        byte[] bb = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = value(me, i);
            bl[i] = me == 0 ? 3L * i + (1L << 40) : -1;
            bb[i] = (byte) (me == root ? i * 31 : 0);
        }
        g.broadcast(b, root);
        g.broadcast(bl, 0);
        g.broadcast(bb, root);
        for (int i = 0; i < n; i++) {
            same(value(root, i), b[i], "broadcast f32", i);
            same(3L * i + (1L << 40), bl[i], "broadcast i64", i);
            same((byte) (i * 31), bb[i], "broadcast u8", i);
        }
        nativeBuffers(g, n);
    }

    /** The same collectives over native segments: the direct path (no staging) when n ≤ MAX_COUNT. */
    private static void nativeBuffers(MpiGroup g, int n) {
        int p = g.size(), me = g.rank();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(JAVA_FLOAT, n), all = arena.allocate(JAVA_DOUBLE, (long) n * p),
                    mine = arena.allocate(JAVA_DOUBLE, n), bytes = arena.allocate(JAVA_BYTE, n);
            for (int i = 0; i < n; i++) {
                f.setAtIndex(JAVA_FLOAT, i, value(me, i));
                mine.setAtIndex(JAVA_DOUBLE, i, value(me, i) / 3.0);
                bytes.setAtIndex(JAVA_BYTE, i, (byte) (me == 0 ? i : 99));
            }
            g.allReduce(f, ElementType.F32, ReduceOp.SUM);
            g.allGather(mine, all, ElementType.F64);
            g.broadcast(bytes, ElementType.U8, 0);
            for (int i = 0; i < n; i++) {
                float sum = 0;
                for (int r = 0; r < p; r++) sum += value(r, i);
                same(sum, f.getAtIndex(JAVA_FLOAT, i), "native all-reduce f32", i);
                same((byte) i, bytes.getAtIndex(JAVA_BYTE, i), "native broadcast u8", i);
                for (int r = 0; r < p; r++)
                    same(value(r, i) / 3.0, all.getAtIndex(JAVA_DOUBLE, (long) r * n + i), "native all-gather f64", r * n + i);
            }
        }
    }

    private static void same(Object want, Object got, String what, long at) {
        checks++;
        if (!want.equals(got)) throw new AssertionError(what + " [" + at + "]: want " + want + ", got " + got);
    }
}
