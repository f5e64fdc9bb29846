package gsae.train;

import gsae.config.Sizes;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.ops.Scales;

/** SPEC §6: the two scalars that make β dimensionless, estimated from the start of the stream. */
public final class ScaleEstimator {

    private ScaleEstimator() {}

    /**
     * grad_scale = 1 / mean_n ‖g_n‖ and, when {@code acts}, act_scale = √d / mean_n ‖x_n‖ (else 1),
     * over the next {@code tokens} tokens of {@code source}, read {@code chunk} rows at a time.
     * The source is left after those tokens; callers rewind it.
     */
    public static Scales estimate(BatchSource source, int tokens, int chunk, boolean acts) {
        int d = source.d();
        int rows = Math.min(chunk, tokens);
        int values = Sizes.hostArray("batch", "tokens per batch", rows, d);
        float[] x = new float[values], g = new float[values];
        double sumX = 0, sumG = 0;
        for (int done = 0; done < tokens; done += rows) {
            int n = Math.min(rows, tokens - done);
            source.next(x, g, n);
            sumX += sumOfRowNorms(x, n, d);
            sumG += sumOfRowNorms(g, n, d);
        }
        double meanG = sumG / tokens, meanX = sumX / tokens;
        if (!(meanG > 0) || !Double.isFinite(meanG))
            throw new UserError(source.describe() + ": mean gradient norm over the first " + tokens
                    + " tokens is " + meanG + ", so grad_scale cannot be estimated (are the gradients all zero or non-finite?)");
        if (acts && (!(meanX > 0) || !Double.isFinite(meanX)))
            throw new UserError(source.describe() + ": mean activation norm over the first " + tokens
                    + " tokens is " + meanX + ", so act_scale cannot be estimated");
        return new Scales((float) (1.0 / meanG), acts ? (float) (Math.sqrt(d) / meanX) : 1f);
    }

    /** Σ_n ‖v_n‖ over the first n rows. */
    static double sumOfRowNorms(float[] v, int n, int d) { // v: [n, d]
        double total = 0;
        for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) v[r * d + j] * v[r * d + j];
            total += Math.sqrt(ss);
        }
        return total;
    }
}
