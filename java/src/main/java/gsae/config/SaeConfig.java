package gsae.config;

/**
 * The shape and selection rule of one g-SAE (SPEC §1–3).
 *
 * @param d          input width (activation and gradient dimension)
 * @param latents    M, number of latents
 * @param k          latents kept per token
 * @param beta       gradient weight β in score = z∘(1 + β s); 0 is plain TopK
 * @param auxK       k_aux, latents AuxK may select among dead ones per token
 * @param auxAlpha   α, weight of AuxK in the loss
 * @param deadTokens a latent unselected for this many training tokens is dead
 */
public record SaeConfig(int d, int latents, int k, float beta, int auxK, float auxAlpha, long deadTokens) {

    public static final float DEFAULT_AUX_ALPHA = 1f / 32f;
    public static final long DEFAULT_DEAD_TOKENS = 10_000_000L;

    public SaeConfig {
        if (d < 1) throw new IllegalArgumentException("d must be ≥ 1, got " + d);
        if (k < 1) throw new IllegalArgumentException("k must be ≥ 1, got " + k);
        if (latents < k) throw new IllegalArgumentException("latents (" + latents + ") must be ≥ k (" + k + ")");
        if (!(beta >= 0f) || Float.isInfinite(beta)) throw new IllegalArgumentException("beta must be finite and ≥ 0, got " + beta);
        if (auxK < 0) throw new IllegalArgumentException("aux-k must be ≥ 0, got " + auxK);
        if (!(auxAlpha >= 0f) || Float.isInfinite(auxAlpha)) throw new IllegalArgumentException("aux-alpha must be finite and ≥ 0, got " + auxAlpha);
        if (deadTokens < 1) throw new IllegalArgumentException("dead-tokens must be ≥ 1, got " + deadTokens);
    }

    /** The SPEC defaults for everything but the shape: aux_k = d/2 (at least 1), α = 1/32, 10M dead tokens. */
    public static SaeConfig of(int d, int latents, int k, float beta) {
        return new SaeConfig(d, latents, k, beta, Math.max(1, d / 2), DEFAULT_AUX_ALPHA, DEFAULT_DEAD_TOKENS);
    }

    public SaeConfig withBeta(float newBeta) {
        return new SaeConfig(d, latents, k, newBeta, auxK, auxAlpha, deadTokens);
    }

    public SaeConfig withDeadTokens(long tokens) {
        return new SaeConfig(d, latents, k, beta, auxK, auxAlpha, tokens);
    }

    /** SPEC §5: lr = 2e-4 / sqrt(M / 2^14). */
    public float defaultLearningRate() {
        return (float) (2e-4 / Math.sqrt(latents / 16384.0));
    }
}
