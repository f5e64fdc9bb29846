package gsae.api;

import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.cpu.CpuBackend;
import gsae.cpu.FastOps;
import gsae.cpu.PruneStats;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.train.MemoryNeed;

import java.io.PrintStream;
import java.util.SplittableRandom;

/**
 * Times training steps of one SAE shape on one random batch (what {@code gsae bench} measures):
 * Gaussian x with ‖x‖ ≈ √d and g scaled to mean norm 1, as the trainer's scales would leave them,
 * parameters from SPEC §5's initialisation with a zero decoder bias. Each {@link #step} runs one
 * forward, backward and Adam update at a fixed learning rate and returns its wall time.
 */
public final class StepBench implements AutoCloseable {

    /** The learning rate of every timed step. */
    static final float LR = 1e-4f;

    private final Engine engine;
    private final TrainingStep step;
    private final Batch data;

    private StepBench(Engine engine, TrainingStep step, Batch data) {
        this.engine = engine;
        this.step = step;
        this.data = data;
    }

    /** The SAE shape benchmarked; {@code k ≤ latents} and sizes that fit a Java array are checked here, naming the option. */
    public record Shape(int d, int latents, int k, float beta, int batch) {
        public Shape {
            Sizes.hostArray("--latents", "latents", latents, d);
            Sizes.hostArray("--batch", "tokens per batch", batch, d);
            SaeConfig.of(d, latents, k, beta);
        }

        /** Estimated peak heap bytes of training this shape on a CPU backend. */
        public long heapBytes() {
            return MemoryNeed.trainingBytes(config(), batch);
        }

        SaeConfig config() {
            return SaeConfig.of(d, latents, k, beta);
        }
    }

    /**
     * Opens the backend and builds the batch and the training state.
     *
     * @param kind    the backend; {@code noPrune} asks for the fused CPU path with exact pruning off (issue #14)
     * @param threads CPU worker threads
     * @param log     where AUTO's fallback line goes
     */
    public static StepBench open(Shape shape, SaeBackend kind, boolean noPrune, int threads, long seed, PrintStream log) {
        Batch data = randomBatch(shape, seed);
        Engine engine = noPrune ? Engine.of(CpuBackend.fast(threads, false)) : Engine.open(kind, threads, log, false);
        try {
            TrainingStep step = engine.backend().adopt(shape.config(),
                    TrainState.fresh(Params.init(shape.d(), shape.latents(), seed, new float[shape.d()])));
            return new StepBench(engine, step, data);
        } catch (RuntimeException | Error e) {
            engine.close();
            throw e;
        }
    }

    /** One training step; returns its wall time in seconds. */
    public double step() {
        long t0 = System.nanoTime();
        step.step(data, LR);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The backend's name. */
    public String backendName() {
        return engine.name();
    }

    /** How much of the gradient projection the last step's exact pruning kept, or null off the fused CPU path. */
    public Pruning pruning() {
        if (!(engine.backend().ops() instanceof FastOps fast)) return null;
        PruneStats p = fast.lastPruneStats();
        return p == null ? null : new Pruning(p.survivorFraction(), p.workFraction(), p.denseRows(), p.rows());
    }

    /**
     * @param survivorFraction (token, latent) pairs that survive pruning
     * @param workFraction     share of the full gradient projection's work done
     * @param denseRows        tokens scored densely
     * @param rows             tokens in the batch
     */
    public record Pruning(double survivorFraction, double workFraction, long denseRows, long rows) {}

    @Override
    public void close() {
        try {
            step.close();
        } finally {
            engine.close();
        }
    }

    private static Batch randomBatch(Shape s, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[s.batch() * s.d()], g = new float[s.batch() * s.d()];
        float gScale = (float) (1 / Math.sqrt(s.d()));
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
            g[i] = gScale * (float) rng.nextGaussian();
        }
        return new Batch(s.batch(), s.d(), x, g);
    }
}
