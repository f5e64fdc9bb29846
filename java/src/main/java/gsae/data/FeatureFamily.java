package gsae.data;

/**
 * The three kinds of true feature the teacher plants. They differ in how large a feature's
 * activation is and in how strongly the downstream network reads its direction.
 */
public enum FeatureFamily {
    /** Large activations along directions the downstream network barely reads. */
    LOUD_INERT("loud_inert"),
    /** Small activations along directions the downstream network reads with large weight. */
    QUIET_DECISIVE("quiet_decisive"),
    /** Middling activations along random directions. */
    ORDINARY("ordinary");

    private final String key;

    FeatureFamily(String key) {
        this.key = key;
    }

    /** The name used in reports and JSON, e.g. "quiet_decisive". */
    public String key() {
        return key;
    }
}
