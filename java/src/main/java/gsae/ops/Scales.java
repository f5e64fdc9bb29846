package gsae.ops;

/**
 * SPEC §6: scalars that make β dimensionless, saved with the model and applied again at evaluation.
 *
 * @param gradScale multiplies g so that the mean ‖g‖ over the estimation sample is 1
 * @param actScale  multiplies x so that the mean ‖x‖ is √d (1 when not estimated)
 */
public record Scales(float gradScale, float actScale) {

    public static final Scales NONE = new Scales(1f, 1f);

    public Scales {
        if (!(gradScale > 0f && Float.isFinite(gradScale)) || !(actScale > 0f && Float.isFinite(actScale)))
            throw new IllegalArgumentException("scales must be finite and > 0, got grad_scale=" + gradScale + ", act_scale=" + actScale);
    }

    /** Scales x and g ([n, d] each; g may be null) in place and wraps them as a batch. */
    public Batch apply(float[] x, float[] g, int n, int d) {
        if (actScale != 1f) for (int i = 0; i < n * d; i++) x[i] *= actScale;
        if (g != null && gradScale != 1f) for (int i = 0; i < n * d; i++) g[i] *= gradScale;
        return new Batch(n, d, x, g);
    }
}
