package gsae.data;

/**
 * The shape of a synthetic teacher: how many true features of each family, how often and how
 * strongly they fire, and how the downstream classifier reads them.
 *
 * <p>A feature of family f has the direction √(1−ρ_f²)·n + ρ_f·r for random unit vectors n in the
 * null space of the classifier and r in its row space, so ρ_f ("read") is the share of the direction
 * the classifier sees.
 *
 * @param d                 width of x and g
 * @param classes           C, outputs of the downstream classifier; its row space has dimension C
 * @param loudInert         features in the loud-but-inert family
 * @param quietDecisive     features in the quiet-but-decisive family
 * @param ordinary          features in the ordinary family
 * @param minRate           smallest firing probability per token (rates are log-uniform in [min, max])
 * @param maxRate           largest firing probability per token
 * @param loudMagnitude     mean activation of a loud-but-inert feature when it fires
 * @param quietMagnitude    mean activation of a quiet-but-decisive feature when it fires
 * @param ordinaryMagnitude mean activation of an ordinary feature when it fires
 * @param loudRead          ρ of loud-but-inert directions (near 0: in the classifier's near-null space)
 * @param quietRead         ρ of quiet-but-decisive directions (near 1: read with full weight)
 * @param ordinaryRead      ρ of ordinary directions
 * @param gain              the classifier's weight: logits = gain·Qᵀx for an orthonormal Q [d, C]
 * @param noise             standard deviation of the isotropic Gaussian noise added to x
 */
public record TeacherConfig(int d, int classes, int loudInert, int quietDecisive, int ordinary,
                            double minRate, double maxRate,
                            double loudMagnitude, double quietMagnitude, double ordinaryMagnitude,
                            double loudRead, double quietRead, double ordinaryRead, double gain, double noise) {

    public TeacherConfig {
        if (d < 2) throw new IllegalArgumentException("teacher d must be ≥ 2, got " + d);
        if (classes < 1 || classes >= d)
            throw new IllegalArgumentException("teacher classes must be in [1, d) so that a null space exists, got " + classes + " for d=" + d);
        if (loudInert < 0 || quietDecisive < 0 || ordinary < 0 || loudInert + quietDecisive + ordinary < 1)
            throw new IllegalArgumentException("teacher family sizes must be ≥ 0 with at least one feature");
        if (!(minRate > 0 && minRate <= maxRate && maxRate <= 1))
            throw new IllegalArgumentException("teacher rates need 0 < min ≤ max ≤ 1, got [" + minRate + ", " + maxRate + "]");
        if (!(loudMagnitude > 0 && quietMagnitude > 0 && ordinaryMagnitude > 0))
            throw new IllegalArgumentException("teacher magnitudes must be > 0");
        if (!(loudRead >= 0 && loudRead <= 1 && quietRead >= 0 && quietRead <= 1 && ordinaryRead >= 0 && ordinaryRead <= 1))
            throw new IllegalArgumentException("teacher read fractions must be in [0, 1]");
        if (!(gain > 0 && Double.isFinite(gain))) throw new IllegalArgumentException("teacher gain must be finite and > 0, got " + gain);
        if (!(noise >= 0 && Double.isFinite(noise))) throw new IllegalArgumentException("teacher noise must be finite and ≥ 0, got " + noise);
    }

    /**
     * The embedded default: d = 64, 16 classes, 256 features (64 loud-but-inert, 64 quiet-but-decisive,
     * 128 ordinary), about 14 firing per token, more than a k = 8 SAE can keep. Loud features fire about
     * 5× stronger than quiet ones, while the classifier reads quiet directions 19× more strongly than loud
     * ones (and ordinary ones at 0.2). The clean loss is about 1.8 nats against ln 16 ≈ 2.77 at x = 0.
     */
    public static TeacherConfig standard() {
        return new TeacherConfig(64, 16, 64, 64, 128, 0.02, 0.12, 4.0, 0.8, 1.5, 0.05, 0.95, 0.2, 4.0, 0.05);
    }

    /** F, the number of true features. */
    public int features() {
        return loudInert + quietDecisive + ordinary;
    }
}
