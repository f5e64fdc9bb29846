package gsae.train;

import gsae.config.Sizes;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.ops.Batch;
import gsae.ops.Scales;

import java.util.Arrays;

/** Reads fixed-size batches from a source into reused arrays and applies the model's scales. */
final class Batches {

    private final BatchSource source;
    private final Scales scales;
    private final int n;
    private final float[] x, g; // [N, d] each

    Batches(BatchSource source, Scales scales, int n) {
        this.source = source;
        this.scales = scales;
        this.n = n;
        int values = Sizes.hostArray("batch", "tokens per batch", n, source.d());
        this.x = new float[values];
        this.g = new float[values];
    }

    /** The next N tokens, scaled; the arrays are reused, so a batch is valid until the next call. */
    Batch next() {
        long at = source.position();
        source.next(x, g, n);
        if (allRowsEqual())
            throw new UserError(source.describe() + ": the " + n + " tokens from data position " + at
                    + " are all the same row, so FVU is undefined (the data needs distinct tokens)");
        return scales.apply(x, g, n, source.d());
    }

    /** True when every row of x equals the first; O(d) for any real batch, whose second row already differs. */
    private boolean allRowsEqual() {
        int d = source.d();
        for (int r = 1; r < n; r++)
            if (!Arrays.equals(x, r * d, r * d + d, x, 0, d)) return false;
        return true;
    }

    /** Column mean of a batch: x̄_j = (1/N) Σ_n x[n, j]. */
    static float[] mean(Batch b) {
        double[] sum = new double[b.d()];
        for (int r = 0; r < b.n(); r++)
            for (int j = 0; j < b.d(); j++) sum[j] += b.x()[r * b.d() + j];
        float[] mean = new float[b.d()];
        for (int j = 0; j < b.d(); j++) mean[j] = (float) (sum[j] / b.n());
        return mean;
    }
}
