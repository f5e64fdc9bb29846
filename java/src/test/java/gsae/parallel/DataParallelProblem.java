package gsae.parallel;

import gsae.comm.Collectives;
import gsae.comm.LocalRanks;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.HostTrainingStep;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data-parallel tests' problem (host steps here, device steps in {@code gsae.cuda}): N = 31 is
 * not divisible by 2 or 3; M = 96 with k = 2 and a dead window of one batch leaves latents dead
 * after every step, so AuxK (k_aux = 5) runs from step 2 on.
 */
public final class DataParallelProblem {

    public static final int D = 12, M = 96, K = 2, N = 31, STEPS = 6, AUX_K = 5;
    public static final float LR = 1e-3f;
    /** A floor of one unit in the last place at 1 (unit-norm rows), for runs whose rounding happens to agree. */
    public static final double ULP = Math.ulp(1f);

    private DataParallelProblem() {}

    public static SaeConfig cfg(float beta) {
        return new SaeConfig(D, M, K, beta, AUX_K, 1f / 32, N);
    }

    /** Seeded batches: activations with a per-column offset (so x̄ matters), gradients, both Gaussian. */
    public static List<Batch> batches(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Batch> out = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            float[] x = new float[N * D], g = new float[N * D];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (Params.gaussian(rng) + 0.5 * (i % D) / D);
                g[i] = (float) Params.gaussian(rng);
            }
            out.add(new Batch(N, D, x, g));
        }
        return out;
    }

    public static TrainState start(long seed) {
        float[] mean = new float[D];
        for (int j = 0; j < D; j++) mean[j] = 0.25f * j / D;
        return TrainState.fresh(Params.init(D, M, seed, mean));
    }

    /** The run's final state and each step's metrics. */
    public record Run(TrainState state, List<StepMetrics> metrics) {}

    /** Trains {@code step} on the batches, then closes it. */
    public static Run train(TrainingStep step, List<Batch> batches) {
        try (step) {
            List<StepMetrics> m = new ArrayList<>();
            for (Batch b : batches) m.add(step.step(b, LR));
            return new Run(step.snapshot(), m);
        }
    }

    public static Run single(SaeConfig cfg, Ops ops, List<Batch> batches) {
        return train(new HostTrainingStep(cfg, ops, start(7)), batches);
    }

    /** P ranks of {@link DataParallelStep} on the host ops each rank gets from {@code ops}. */
    static List<Run> parallel(int p, SaeConfig cfg, Supplier<Ops> ops, List<Batch> batches) {
        return LocalRanks.run(p, group -> {
            Ops mine = ops.get();
            try {
                return train(new DataParallelStep(cfg, mine, start(group), group), slices(batches, group));
            } finally {
                if (mine instanceof AutoCloseable c) close(c);
            }
        });
    }

    /**
     * P ranks, each training the step {@code open} makes from its group and start state on its slice
     * of every batch; ranks other than 0 start from another state, which rank 0's broadcast must replace.
     */
    public static List<Run> parallel(int p, List<Batch> batches, BiFunction<Collectives, TrainState, TrainingStep> open) {
        return LocalRanks.run(p, group -> train(open.apply(group, start(group)), slices(batches, group)));
    }

    /** Rank 0 starts from {@link #single}'s state, every other rank from its own. */
    private static TrainState start(Collectives group) {
        return start(group.rank() == 0 ? 7 : 100 + group.rank());
    }

    private static List<Batch> slices(List<Batch> batches, Collectives group) {
        return batches.stream().map(b -> Slices.of(b, group.rank(), group.size())).toList();
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What one rank saw around a drift: {@code agree()} before it, at the check after it and once more, then its state. */
    public record Resync(boolean before, boolean drifted, boolean after, TrainState state) {}

    /** Every rank saw no drift before, the drift at the check, none after it, and holds rank 0's state. */
    public static void assertResynced(List<Resync> ranks) {
        TrainState root = ranks.getFirst().state();
        for (Resync r : ranks) {
            assertFalse(r.before(), "identical ranks: no resync");
            assertTrue(r.drifted(), "a rank that drifted is seen by every rank");
            assertFalse(r.after(), "after the resync the ranks agree");
            assertEquals(0.0, distance(root, r.state()), "every rank holds rank 0's state");
            assertArrayEquals(root.sinceFired(), r.state().sinceFired());
        }
    }

    /** Largest |a − b| over every parameter and Adam moment. */
    public static double distance(TrainState a, TrainState b) {
        double worst = 0;
        Params[][] pairs = {{a.params(), b.params()}, {a.adamM(), b.adamM()}, {a.adamV(), b.adamV()}};
        for (Params[] p : pairs) {
            float[][] x = {p[0].wEnc(), p[0].bEnc(), p[0].wDec(), p[0].bDec()}, y = {p[1].wEnc(), p[1].bEnc(), p[1].wDec(), p[1].bDec()};
            for (int t = 0; t < x.length; t++)
                for (int i = 0; i < x[t].length; i++) worst = Math.max(worst, Math.abs((double) x[t][i] - y[t][i]));
        }
        return worst;
    }
}
