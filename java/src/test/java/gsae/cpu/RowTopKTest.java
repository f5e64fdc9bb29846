package gsae.cpu;

import gsae.ops.Selection;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RowTopKTest {

    /** The k best of scores by sorting: larger score first, then lower index; returned ascending. */
    private static int[] bySorting(float[] scores, int k) {
        Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i));
        int[] best = new int[k];
        for (int j = 0; j < k; j++) best[j] = order[j];
        Arrays.sort(best);
        return best;
    }

    @Test
    void keepsTheKBestInAnyOfferOrder() {
        SplittableRandom rng = new SplittableRandom(3);
        int rows = 4, m = 500;
        for (int k : new int[]{1, 2, 7, 64, 500}) {
            RowTopK heap = new RowTopK(rows, k);
            float[][] scores = new float[rows][m];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < m; i++) scores[r][i] = (float) Math.floor(rng.nextDouble() * 50) - 25;
                int[] order = IntStream.range(0, m).toArray();
                for (int i = m - 1; i > 0; i--) {
                    int j = rng.nextInt(i + 1), t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                for (int i : order) heap.offer(r, scores[r][i], scores[r][i], i);
            }
            Selection out = Selection.empty(rows, k);
            for (int r = 0; r < rows; r++) heap.write(r, out, r);
            for (int r = 0; r < rows; r++) {
                int[] want = bySorting(scores[r], k);
                assertArrayEquals(want, Arrays.copyOfRange(out.indices(), r * k, r * k + k), "k=" + k + " row " + r);
                for (int j = 0; j < k; j++) assertEquals(Math.max(0f, scores[r][want[j]]), out.values()[r * k + j]);
            }
        }
    }

    @Test
    void thresholdIsTheWorstKeptScoreOnceFull() {
        RowTopK heap = new RowTopK(1, 3);
        heap.offer(0, 5f, 5f, 0);
        heap.offer(0, 1f, 1f, 1);
        assertEquals(Float.NEGATIVE_INFINITY, heap.threshold(0));
        heap.offer(0, 3f, 3f, 2);
        assertEquals(1f, heap.threshold(0));
        heap.offer(0, 4f, 4f, 3);
        assertEquals(3f, heap.threshold(0));
        heap.offer(0, 3f, 3f, 4);
        assertEquals(3f, heap.threshold(0), "a tie with a higher index is not better");
        Selection out = Selection.empty(1, 3);
        heap.write(0, out, 0);
        assertArrayEquals(new int[]{0, 2, 3}, out.indices());
    }

    @Test
    void refusesToWriteAnIncompleteRow() {
        RowTopK heap = new RowTopK(1, 2);
        heap.offer(0, 1f, 1f, 0);
        assertThrows(IllegalStateException.class, () -> heap.write(0, Selection.empty(1, 2), 0));
    }
}
