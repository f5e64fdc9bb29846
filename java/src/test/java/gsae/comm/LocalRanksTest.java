package gsae.comm;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The thread-backed test group computes what MPI's collectives are defined to compute. */
class LocalRanksTest {

    @Test
    void everyCollectiveOnThreeRanks() {
        List<Object[]> out = LocalRanks.run(3, c -> {
            int r = c.rank();
            float[] f = {r, 10f * r + 1};
            c.allReduce(f, ReduceOp.SUM);
            long[] l = {5 - r, r};
            c.allReduce(l, ReduceOp.MIN);
            int[] gathered = c.allGather(new int[] {r, -r});
            float[] b = {r == 2 ? 7f : 0f};
            c.broadcast(b, 2);
            c.barrier();
            return new Object[] {f, l, gathered, b};
        });
        for (Object[] o : out) {
            assertArrayEquals(new float[] {3f, 33f}, (float[]) o[0]);
            assertArrayEquals(new long[] {3, 0}, (long[]) o[1]);
            assertArrayEquals(new int[] {0, 0, 1, -1, 2, -2}, (int[]) o[2]);
            assertArrayEquals(new float[] {7f}, (float[]) o[3]);
        }
    }

    /** Repeated: the failing rank may throw before or after the other reaches the barrier. */
    @RepeatedTest(200)
    void aFailingRankFailsTheRun() {
        var e = assertThrows(IllegalArgumentException.class, () -> LocalRanks.run(2, c -> {
            if (c.rank() == 1) throw new IllegalArgumentException("rank 1 broke");
            c.barrier();
            return 0;
        }));
        assertEquals("rank 1 broke", e.getMessage());
    }

    @Test
    void singleProcessLeavesBuffersAndCopiesGathers() {
        try (SingleProcess one = new SingleProcess()) {
            float[] a = {1f, 2f};
            one.allReduce(a, ReduceOp.SUM);
            assertArrayEquals(new float[] {1f, 2f}, a);
            assertArrayEquals(new int[] {4, 5}, one.allGather(new int[] {4, 5}));
        }
    }
}
