package gsae.config;

/**
 * How one training run proceeds.
 *
 * @param steps           optimizer steps in the whole run
 * @param batch           tokens per step (N)
 * @param lr              peak learning rate; NaN means SPEC §5's default for the SAE's M
 * @param warmupSteps     linear warm-up length in steps (SPEC default 1,000)
 * @param decay           decay after warm-up
 * @param seed            seeds initialisation, data order and the teacher
 * @param checkpointEvery steps between checkpoints; 0 writes only the final one
 * @param threads         CPU worker threads; results are deterministic for a fixed count
 * @param scaleActs       also estimate act_scale (SPEC §6); grad_scale is always estimated
 * @param scaleTokens     tokens sampled to estimate the scales
 */
public record TrainConfig(int steps, int batch, float lr, int warmupSteps, LrDecay decay, long seed,
                          int checkpointEvery, int threads, boolean scaleActs, int scaleTokens) {

    public TrainConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be ≥ 1, got " + steps);
        if (batch < 2) throw new IllegalArgumentException("batch must be ≥ 2 tokens (FVU needs a batch variance), got " + batch);
        if (!Float.isNaN(lr) && !(lr > 0f && Float.isFinite(lr))) throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmup must be ≥ 0, got " + warmupSteps);
        if (decay == null) throw new IllegalArgumentException("decay must be set");
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint-every must be ≥ 0, got " + checkpointEvery);
        if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        if (scaleTokens < 1) throw new IllegalArgumentException("scale-tokens must be ≥ 1, got " + scaleTokens);
    }

    /** The learning rate actually used at peak: {@code lr}, or the SPEC default for this SAE. */
    public float peakLr(SaeConfig sae) {
        return Float.isNaN(lr) ? sae.defaultLearningRate() : lr;
    }

    /** Learning rate for 1-based step t: linear warm-up, then {@link #decay}. */
    public float lrAt(SaeConfig sae, long t) {
        float peak = peakLr(sae);
        if (t <= warmupSteps) return peak * t / warmupSteps;
        if (decay == LrDecay.LINEAR) {
            long span = Math.max(1, steps - warmupSteps);
            return peak * Math.max(0f, (float) (steps - t + 1) / span);
        }
        return peak;
    }
}
