package gsae.parallel;

import gsae.ops.Batch;

import java.util.Arrays;

/**
 * Which rows of a global batch each rank of a data-parallel run trains on: rank r of P takes the
 * contiguous rows [⌊N·r/P⌋, ⌊N·(r+1)/P⌋), so every row belongs to exactly one rank and the slices,
 * concatenated in rank order, are the global batch. Sizes differ by at most one row.
 */
public final class Slices {

    private Slices() {}

    /** The first row of rank {@code rank}'s slice of {@code n} rows over {@code size} ranks. */
    public static int start(int n, int rank, int size) {
        return (int) ((long) n * rank / size);
    }

    /** Rank {@code rank}'s rows of {@code global}, copied (the caller's batch arrays are reused between steps). */
    public static Batch of(Batch global, int rank, int size) {
        if (global.n() < size)
            throw new IllegalArgumentException("a batch of " + global.n() + " tokens cannot give each of " + size + " ranks a row");
        int d = global.d(), lo = start(global.n(), rank, size), hi = start(global.n(), rank + 1, size);
        float[] x = Arrays.copyOfRange(global.x(), lo * d, hi * d);
        float[] g = global.hasGradients() ? Arrays.copyOfRange(global.g(), lo * d, hi * d) : null;
        return new Batch(hi - lo, d, x, g);
    }
}
