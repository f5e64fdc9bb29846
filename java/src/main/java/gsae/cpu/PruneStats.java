package gsae.cpu;

/**
 * What the pruned encode-select did in one call (issue #14), for benchmarks.
 *
 * @param rows       tokens in the batch (N)
 * @param latents    M
 * @param fullRows   rows scored in full: fewer than k positive z, a large β‖g‖, or too many candidates
 * @param scored     (row, latent) pairs of the other rows whose s was computed
 * @param products   (row, latent-vector) products those rows needed, vectors of {@link #lanes()} latents
 */
public record PruneStats(long rows, long latents, long fullRows, long scored, long products) {

    /** Latents per vector product. */
    public static int lanes() {
        return MicroKernel.LANES;
    }

    /** Fraction of the N·M pairs whose s was computed, full rows counted whole. */
    public double survivorFraction() {
        return (scored + (double) fullRows * latents) / ((double) rows * latents);
    }

    /** The gradient projection's work as a fraction of the full one: vector products, full rows whole. */
    public double workFraction() {
        double perRow = Math.ceil((double) latents / lanes());
        return (products + fullRows * perRow) / (rows * perRow);
    }
}
