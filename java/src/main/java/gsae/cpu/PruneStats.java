package gsae.cpu;

/**
 * What the pruned encode-select did in one call (issue #14), for benchmarks.
 *
 * @param rows      tokens in the batch (N)
 * @param latents   M
 * @param fullRows  rows the bound cannot serve (fewer than k or k_aux positive z, or a large β‖g‖): all M marked
 * @param denseRows rows whose block's marks covered too much for the sampled pass, scored by the dense tiles
 * @param marked    (row, latent) pairs that survive the bound, full rows counted whole
 * @param products  (row, latent) dot products of the sampled pass: one per marked pair of a pruned row
 *                  (along d, {@link PairScores}) and M per full row, in blocks not scored densely
 * @param exact     pairs whose s the sampled pass then recomputed exactly (the possible winners)
 */
public record PruneStats(long rows, long latents, long fullRows, long denseRows, long marked, long products, long exact) {

    /** Fraction of the N·M (row, latent) pairs that survive the bound. */
    public double survivorFraction() {
        return marked / ((double) rows * latents);
    }

    /** The sampled pass's dot products (both kinds) against the N·M of the full gradient projection. */
    public double workFraction() {
        return (products + exact) / ((double) rows * latents);
    }

    /** Fraction of the rows whose gradient projection ran in full (dense tiles). */
    public double denseFraction() {
        return denseRows / (double) rows;
    }
}
