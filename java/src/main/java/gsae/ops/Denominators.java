package gsae.ops;

/**
 * The two denominators of SPEC §3 taken over a batch larger than the one a backward call sees: in
 * data-parallel training each rank holds a slice of the global batch, and the losses and gradients
 * of the global batch are the sums over ranks of per-slice terms divided by these global values.
 *
 * @param fvu  Σ_n ‖x_n − x̄‖² over the global batch, x̄ its mean; must be &gt; 0
 * @param auxk Σ_n ‖e_n − ē‖² over the global batch (e = x − x̂), ē its mean; AuxK is 0 when it is 0
 */
public record Denominators(double fvu, double auxk) {

    public Denominators {
        if (!(fvu > 0) || !Double.isFinite(fvu))
            throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens); denominator " + fvu);
        if (!(auxk >= 0) || !Double.isFinite(auxk)) throw new IllegalArgumentException("AuxK denominator must be finite and ≥ 0, got " + auxk);
    }

    /** Σ_n ‖v_n − v̄‖² over the rows of v [N, d], in double: one batch's denominator, as the dense and latent-sharded backwards take it. */
    public static double centredSumOfSquares(float[] v, int n, int d) {
        double[] mean = new double[d];
        for (int i = 0; i < n * d; i++) mean[i % d] += v[i];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double total = 0;
        for (int i = 0; i < n * d; i++) total += (v[i] - mean[i % d]) * (v[i] - mean[i % d]);
        return total;
    }
}
