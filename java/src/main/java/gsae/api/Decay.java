package gsae.api;

/** How a {@link DataRun}'s learning rate falls after the warm-up. */
public enum Decay {
    /** Constant at the peak: a run may later be extended with more steps. */
    NONE,
    /** Linearly to 0 at the last step: the run's length is fixed. */
    LINEAR
}
