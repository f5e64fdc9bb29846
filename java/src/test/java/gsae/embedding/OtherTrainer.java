package gsae.embedding;

import gsae.api.Codes;
import gsae.api.LearningRate;
import gsae.api.Metrics;
import gsae.api.Sae;
import gsae.api.SaeBackend;
import gsae.api.SaeTrainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small trainer of someone else's, written against gsae.api alone (OtherTrainerTest checks its
 * imports): a toy model makes activations from sparse features and the gradient of a linear
 * read-out's squared error, and pushes each batch to a g-SAE, as a real trainer would from a hook.
 */
final class OtherTrainer {

    static final int D = 16, LATENTS = 64, K = 4, ROWS = 64;

    private final SplittableRandom rng = new SplittableRandom(42);
    private final float[][] features = new float[24][D];
    private final float[] readout = new float[D];

    OtherTrainer() {
        for (float[] f : features) for (int j = 0; j < D; j++) f[j] = (float) rng.nextGaussian();
        for (int j = 0; j < D; j++) readout[j] = (float) rng.nextGaussian();
    }

    /** One batch of the toy model: x from three random features per row, g = ∂(w·x − 1)²/∂x = 2(w·x − 1)·w. */
    void batch(float[] x, float[] g) {
        for (int r = 0; r < ROWS; r++) {
            for (int f = 0; f < 3; f++) {
                float[] dir = features[rng.nextInt(features.length)];
                float a = 1 + (float) rng.nextDouble();
                for (int j = 0; j < D; j++) x[r * D + j] += a * dir[j];
            }
            double y = -1;
            for (int j = 0; j < D; j++) y += readout[j] * x[r * D + j];
            for (int j = 0; j < D; j++) g[r * D + j] = (float) (2 * y * readout[j]);
        }
    }

    /** Trains for {@code steps} steps, checkpointing into {@code dir} every 20; returns every step's metrics. */
    List<Metrics> train(int steps, Path dir) {
        List<Metrics> seen = new ArrayList<>();
        try (SaeTrainer sae = SaeTrainer.builder(D, LATENTS, K).beta(0.5f).auxK(8).deadTokens(4L * ROWS).seed(7)
                .learningRate(LearningRate.warmup(1e-2f, 5)).backend(SaeBackend.CPU).threads(1)
                .onMetrics(seen::add).checkpointEvery(20, dir).build()) {
            for (int t = 0; t < steps; t++) {
                float[] x = new float[ROWS * D], g = new float[ROWS * D];
                batch(x, g);
                sae.step(x, g, ROWS);
            }
            sae.save(dir);
        }
        return seen;
    }

    /** The trained SAE's latents for one fresh batch, and its reconstruction. */
    static Codes encode(Path dir, float[] x) {
        return Sae.load(dir).encode(x, ROWS);
    }
}
