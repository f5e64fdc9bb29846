package gsae.api;

/** The learning rate for each optimizer step, 1-based. Implement it for any schedule, or use the ones here. */
@FunctionalInterface
public interface LearningRate {

    /** The rate for step {@code step} (1 for the first); must be finite and &gt; 0. */
    float at(long step);

    /** The same rate at every step. */
    static LearningRate constant(float lr) {
        check(lr);
        return step -> lr;
    }

    /** Linear warm-up from 0 to {@code peak} over {@code warmupSteps}, then constant: SPEC §5's schedule. */
    static LearningRate warmup(float peak, long warmupSteps) {
        check(peak);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmup steps must be ≥ 0, got " + warmupSteps);
        return step -> step <= warmupSteps ? peak * step / warmupSteps : peak;
    }

    /** SPEC §5's default peak for {@code latents}: 2e-4 / sqrt(M / 2^14). */
    static float specPeak(int latents) {
        return (float) (2e-4 / Math.sqrt(latents / 16384.0));
    }

    private static void check(float lr) {
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and > 0, got " + lr);
    }
}
