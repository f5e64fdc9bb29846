package gsae.parallel;

import gsae.comm.LocalRanks;
import gsae.config.SaeConfig;
import gsae.cpu.FastOps;
import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static gsae.parallel.DataParallelProblem.*;
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
 * The problem is {@link DataParallelProblem}'s.
 */
class DataParallelStepTest {

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

    @Test
    void ranksThatDriftApartTakeRankZerosStateAtTheNextCheck() {
        List<Batch> data = batches(11);
        assertResynced(LocalRanks.run(3, c -> {
            DataParallelStep step = new DataParallelStep(cfg(1f), new ReferenceOps(), start(5), c);
            step.step(Slices.of(data.getFirst(), c.rank(), c.size()), LR);
            boolean before = step.agree();
            if (c.rank() == 2) {
                step.state().params().wEnc()[7] += 1e-6f;
                step.state().adamV().bDec()[1] *= 2f;
            }
            boolean drifted = step.agree(), after = step.agree();
            return new Resync(before, drifted, after, step.snapshot());
        }));
    }
}
