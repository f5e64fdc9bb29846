package gsae.train;

import gsae.config.SaeConfig;

/**
 * Defaults that depend on the length of the run. SPEC's values assume long runs (hundreds of
 * millions of tokens); short runs clamp them so that warm-up and dead-latent revival still happen.
 */
public final class TrainDefaults {

    /** SPEC §5 warm-up length. */
    public static final int SPEC_WARMUP_STEPS = 1_000;

    /** Tokens sampled to estimate the scales (SPEC §6). */
    public static final int SCALE_TOKENS = 65_536;

    private TrainDefaults() {}

    /** min(1,000, steps / 10): SPEC's 1,000 steps, but never more than a tenth of a short run. */
    public static int warmupSteps(int steps) {
        return Math.min(SPEC_WARMUP_STEPS, steps / 10);
    }

    /**
     * min(10M, max(N, steps·N / 10)): SPEC's 10M tokens, but at most a tenth of the run's tokens, so
     * that a latent can be declared dead (and revived by AuxK) within a short run; at least one batch.
     */
    public static long deadTokens(int steps, int batch) {
        return Math.min(SaeConfig.DEFAULT_DEAD_TOKENS, Math.max(batch, (long) steps * batch / 10));
    }
}
