import java.util.*;
public class MergeCost {
    public static void main(String[] a) {
        int n = 65536, pk = 8 * 32;
        long[] keys = new long[pk];
        SplittableRandom r = new SplittableRandom(1);
        long sink = 0;
        for (int rep = 0; rep < 4; rep++) {
            long t0 = System.nanoTime();
            for (int row = 0; row < n; row++) {
                for (int i = 0; i < pk; i++) keys[i] = r.nextLong();
                Arrays.sort(keys);
                sink += keys[pk - 1];
            }
            System.out.printf("rep %d: %d rows x %d candidates: %.1f ms (incl. drawing the keys)%n", rep, n, pk, (System.nanoTime() - t0) / 1e6);
        }
        System.out.println(sink);
    }
}
