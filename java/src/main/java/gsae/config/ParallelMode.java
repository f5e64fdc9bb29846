package gsae.config;

/** How the processes (ranks) of one run share the training work (issue #15). */
public enum ParallelMode {
    /** One process trains alone. */
    NONE,
    /** Every rank holds the whole SAE and trains on its slice of each global batch; gradients are summed. */
    DATA,
    /** Every rank owns a contiguous range of the latents and sees the whole batch. */
    LATENTS
}
