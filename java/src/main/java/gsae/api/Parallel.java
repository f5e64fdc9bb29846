package gsae.api;

/** How the processes of a {@link Group} share a training run ({@code gsae train --parallel}). */
public enum Parallel {
    /** One process trains alone (the default). */
    NONE,
    /**
     * Data parallel: every rank holds the whole SAE and trains on its slice of each global batch;
     * gradients, loss denominators, dead-latent counters and metrics are summed over ranks, so the
     * ranks take the step one process takes on the whole batch.
     */
    DATA,
    /** Latent sharded: every rank owns a contiguous range of the latents and sees the whole batch. */
    LATENTS
}
