package gsae.config;

/** Learning-rate decay after warm-up. */
public enum LrDecay {
    /** Constant learning rate after warm-up. */
    NONE,
    /** Linear from the full rate at the end of warm-up to zero at the last step. */
    LINEAR
}
