package gsae.train;

import gsae.config.UserError;
import gsae.ops.Selection;

/**
 * Running sums for FVU, L0 and dead latents over many batches, so that the metrics are those of
 * all evaluation tokens at once rather than an average of per-batch ratios.
 *
 * <pre>
 *   FVU  = Σ_n ‖x_n − x̂_n‖² / Σ_n ‖x_n − x̄‖²      x̄ = mean over all evaluation tokens
 *   L0   = (number of selected latents with a > 0) / tokens
 *   dead = (latents in no S_n) / M
 * </pre>
 *
 * The denominator is accumulated as Σ‖x − c‖² − T·‖x̄ − c‖² about the first token c, which keeps
 * the subtraction well conditioned when the mean is large against the spread.
 */
final class ReconstructionStats {

    private final int d;
    private final boolean[] selected; // [M]
    private final double[] shift; // [d]
    private final double[] shiftedSum; // [d]
    private double shiftedSquares;
    private double squaredError;
    private long tokens;
    private long active;

    ReconstructionStats(int d, int m) {
        this.d = d;
        this.selected = new boolean[m];
        this.shift = new double[d];
        this.shiftedSum = new double[d];
    }

    /**
     * @param x    inputs as the SAE saw them [n, d]
     * @param xhat reconstructions of x         [n, d]
     * @param top  the latents selected for each row
     */
    void add(float[] x, float[] xhat, Selection top, int n) {
        if (tokens == 0) for (int j = 0; j < d; j++) shift[j] = x[j];
        for (int row = 0; row < n; row++) {
            for (int j = 0; j < d; j++) {
                int at = row * d + j;
                double e = (double) x[at] - xhat[at], c = x[at] - shift[j];
                squaredError += e * e;
                shiftedSum[j] += c;
                shiftedSquares += c * c;
            }
        }
        for (int j = 0; j < top.indices().length; j++) {
            selected[top.indices()[j]] = true;
            if (top.values()[j] > 0f) active++;
        }
        tokens += n;
    }

    long tokens() {
        return tokens;
    }

    double fvu() {
        double meanSquares = 0;
        for (int j = 0; j < d; j++) meanSquares += shiftedSum[j] * shiftedSum[j];
        double variance = shiftedSquares - meanSquares / tokens;
        if (!(variance > 0)) throw new UserError("the evaluation tokens have zero variance: FVU is undefined");
        return squaredError / variance;
    }

    double l0() {
        return (double) active / tokens;
    }

    double deadFraction() {
        int dead = 0;
        for (boolean s : selected) if (!s) dead++;
        return (double) dead / selected.length;
    }
}
