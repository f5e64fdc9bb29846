package gsae.parallel;

import gsae.comm.LocalRanks;
import gsae.config.SaeConfig;
import gsae.cpu.FastOps;
import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.HostTrainingStep;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * P ranks ({@link LocalRanks}: threads as ranks) training data-parallel take the step one process
 * takes on the whole batch. The two differ only in the order of floating-point sums (per-slice
 * sums, then a float sum over ranks, instead of one sum), so they may drift apart by rounding
 * alone. The tolerance is derived from a measured rounding drift rather than guessed: the same
 * one-process run on the float fast path and on the double-precision reference differ by rounding
 * alone too, and data parallelism must stay within twice that drift (the flash-attention rule).
 * To show the bound is tight enough to catch a wrong step, it must also be far below the distance
 * to a plausible wrong answer: one process trained on rank 0's slice alone.
 *
 * <p>N = 31 is not divisible by 2 or 3; M = 96 with k = 2 and a dead window of one batch leaves
 * latents dead after every step, so AuxK (k_aux = 5) runs from step 2 on.
 */
class DataParallelStepTest {

    static final int D = 12, M = 96, K = 2, N = 31, STEPS = 6, AUX_K = 5;
    static final float LR = 1e-3f;
    /** A floor of one unit in the last place at 1 (unit-norm rows), for runs whose rounding happens to agree. */
    static final double ULP = Math.ulp(1f);

    static SaeConfig cfg(float beta) {
        return new SaeConfig(D, M, K, beta, AUX_K, 1f / 32, N);
    }

    /** Seeded batches: activations with a per-column offset (so x̄ matters), gradients, both Gaussian. */
    static List<Batch> batches(long seed) {
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

    static TrainState start(long seed) {
        float[] mean = new float[D];
        for (int j = 0; j < D; j++) mean[j] = 0.25f * j / D;
        return TrainState.fresh(Params.init(D, M, seed, mean));
    }

    /** The run's final state and each step's metrics. */
    record Run(TrainState state, List<StepMetrics> metrics) {}

    static Run train(TrainingStep step, List<Batch> batches) {
        List<StepMetrics> m = new ArrayList<>();
        for (Batch b : batches) m.add(step.step(b, LR));
        return new Run(step.snapshot(), m);
    }

    static Run single(SaeConfig cfg, Ops ops, List<Batch> batches) {
        return train(new HostTrainingStep(cfg, ops, start(7)), batches);
    }

    /** P ranks; ranks other than 0 start from another state, which rank 0's broadcast must replace. */
    static List<Run> parallel(int p, SaeConfig cfg, Supplier<Ops> ops, List<Batch> batches) {
        return LocalRanks.run(p, group -> {
            Ops mine = ops.get();
            try {
                TrainState init = start(group.rank() == 0 ? 7 : 100 + group.rank());
                List<Batch> slices = batches.stream().map(b -> Slices.of(b, group.rank(), group.size())).toList();
                return train(new DataParallelStep(cfg, mine, init, group), slices);
            } finally {
                if (mine instanceof AutoCloseable c) close(c);
            }
        });
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Largest |a − b| over every parameter and Adam moment. */
    static double distance(TrainState a, TrainState b) {
        double worst = 0;
        Params[][] pairs = {{a.params(), b.params()}, {a.adamM(), b.adamM()}, {a.adamV(), b.adamV()}};
        for (Params[] p : pairs) {
            float[][] x = {p[0].wEnc(), p[0].bEnc(), p[0].wDec(), p[0].bDec()}, y = {p[1].wEnc(), p[1].bEnc(), p[1].wDec(), p[1].bDec()};
            for (int t = 0; t < x.length; t++)
                for (int i = 0; i < x[t].length; i++) worst = Math.max(worst, Math.abs((double) x[t][i] - y[t][i]));
        }
        return worst;
    }

    @ParameterizedTest(name = "P={0}, β={1}")
    @CsvSource({"2, 0", "3, 0", "2, 2", "3, 2"})
    void equalsOneProcessOnTheWholeBatch(int p, float beta) {
        SaeConfig cfg = cfg(beta);
        List<Batch> batches = batches(11);
        Run fast = single(cfg, new FastOps(1), batches);
        Run reference = single(cfg, new ReferenceOps(), batches);
        double rounding = distance(fast.state(), reference.state());
        double tolerance = 2 * rounding + ULP;

        List<Run> ranks = parallel(p, cfg, () -> new FastOps(1), batches);
        for (Run r : ranks.subList(1, p)) assertEquals(0.0, distance(ranks.get(0).state(), r.state()), "every rank holds the same state");
        Run dp = ranks.get(0);
        double drift = distance(fast.state(), dp.state());
        assertTrue(drift <= tolerance, "data parallel drifted " + drift + " from one process; rounding alone gives " + rounding);

        Run wrong = single(cfg, new FastOps(1), batches.stream().map(b -> Slices.of(b, 0, p)).toList());
        double miss = distance(fast.state(), wrong.state());
        assertTrue(tolerance < miss / 100, "the tolerance " + tolerance + " must separate a wrong step (" + miss + ")");

        assertArrayEquals(fast.state().sinceFired(), dp.state().sinceFired(), "dead counters: fired on any rank means fired");
        assertEquals(fast.state().step(), dp.state().step());
        for (int s = 0; s < STEPS; s++) {
            StepMetrics a = fast.metrics().get(s), b = dp.metrics().get(s);
            assertEquals(a.fvu(), b.fvu(), 1e-5 * a.fvu(), "fvu at step " + (s + 1));
            assertEquals(a.auxk(), b.auxk(), 1e-5 * a.auxk(), "auxk at step " + (s + 1));
            assertEquals(a.loss(), b.loss(), 1e-5 * a.loss(), "loss at step " + (s + 1));
            assertEquals(a.l0(), b.l0(), "l0 at step " + (s + 1));
            assertEquals(a.deadFraction(), b.deadFraction(), "dead fraction at step " + (s + 1));
        }
        assertTrue(fast.metrics().get(STEPS - 1).deadFraction() > 0, "some latents are dead, so AuxK ran");
        assertTrue(fast.metrics().get(STEPS - 1).auxk() > 0, "AuxK ran");
    }

    @Test
    void theReferenceOpsAgreeToo() {
        SaeConfig cfg = cfg(2f);
        List<Batch> batches = batches(12);
        Run fast = single(cfg, new FastOps(1), batches);
        Run reference = single(cfg, new ReferenceOps(), batches);
        double tolerance = 2 * distance(fast.state(), reference.state()) + ULP;
        Run dp = parallel(2, cfg, ReferenceOps::new, batches).get(0);
        double drift = distance(reference.state(), dp.state());
        assertTrue(drift <= tolerance, "reference data parallel drifted " + drift + " from the reference; tolerance " + tolerance);
        assertArrayEquals(reference.state().sinceFired(), dp.state().sinceFired());
    }

    @Test
    void oneRankIsOneProcess() {
        SaeConfig cfg = cfg(2f);
        List<Batch> batches = batches(13);
        Run fast = single(cfg, new FastOps(1), batches);
        Run dp = parallel(1, cfg, () -> new FastOps(1), batches).get(0);
        double rounding = distance(fast.state(), single(cfg, new ReferenceOps(), batches).state());
        assertTrue(distance(fast.state(), dp.state()) <= 2 * rounding + ULP);
        assertArrayEquals(fast.state().sinceFired(), dp.state().sinceFired());
    }
}
