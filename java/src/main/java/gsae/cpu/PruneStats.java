package gsae.cpu;

/**
 * What the pruned encode-select did in one call (issue #14), for benchmarks.
 *
 * @param rows      tokens in the batch (N)
 * @param latents   M
 * @param vectors   vectors of {@link MicroKernel#LANES} latents per row, the unit of the sampled product
 * @param fullRows  rows the bound cannot serve (fewer than k or k_aux positive z, or a large β‖g‖): all M marked
 * @param denseRows rows whose block's marks covered too much for the sampled product, scored by the dense tiles
 * @param marked    (row, latent) pairs that survive the bound, full rows counted whole
 * @param products  (row, vector) pairs with a survivor: the sampled product's work
 */
public record PruneStats(long rows, long latents, long vectors, long fullRows, long denseRows, long marked, long products) {

    /** Fraction of the N·M (row, latent) pairs that survive the bound. */
    public double survivorFraction() {
        return marked / ((double) rows * latents);
    }

    /** The sampled product's work against the full gradient projection: (row, vector) products over N·vectors. */
    public double workFraction() {
        return products / ((double) rows * vectors);
    }

    /** Fraction of the rows whose gradient projection ran in full (dense tiles). */
    public double denseFraction() {
        return denseRows / (double) rows;
    }
}
