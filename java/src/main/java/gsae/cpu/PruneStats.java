package gsae.cpu;

/**
 * What the pruned encode-select did in one call (issue #14), for benchmarks.
 *
 * @param rows     tokens in the batch (N)
 * @param latents  M
 * @param vectors  vectors of {@link MicroKernel#LANES} latents per row, the unit of the sampled product
 * @param fullRows rows scored in full: fewer than k (or k_aux) positive z, or a large β‖g‖
 * @param scored   (row, latent) pairs whose s was computed and offered, full rows included
 * @param products (row, vector) products computed, full rows included
 */
public record PruneStats(long rows, long latents, long vectors, long fullRows, long scored, long products) {

    /** Fraction of the N·M (row, latent) pairs that survived pruning. */
    public double survivorFraction() {
        return scored / ((double) rows * latents);
    }

    /** The gradient projection's work against the unpruned one: (row, vector) products over N·vectors. */
    public double workFraction() {
        return products / ((double) rows * vectors);
    }
}
