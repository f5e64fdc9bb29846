package gsae.cuda;

import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device-resident training step against the reference's host step, and the determinism the kernels promise. */
class TrainingCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    @Test
    void stepsAgreeWithTheReference() {
        CudaBackend gpu = Gpu.backend(Precision.F32);
        Gpu.assertAgrees(SelfCheck.training(gpu, CheckCase.of(64, 77, 300, 8, 0.5f, 7), Gpu.steps(), "f32"));
        Gpu.assertAgrees(SelfCheck.training(gpu, CheckCase.of(96, 64, 129, 16, 0f, 8), Gpu.steps(), "f32"));
    }

    @Test
    void bf16TrainingTracksF32() {
        CheckCase c = CheckCase.of(64, 77, 300, 8, 0.5f, 9);
        SaeConfig cfg = new SaeConfig(c.d(), c.m(), c.k(), c.beta(), c.auxK(), SaeConfig.DEFAULT_AUX_ALPHA, 3L * c.n());
        TrainState init = TrainState.fresh(c.params());
        try (TrainingStep f32 = Gpu.backend(Precision.F32).open(cfg, init); TrainingStep bf16 = Gpu.backend(Precision.BF16).open(cfg, init)) {
            StepMetrics a = null, b = null;
            for (int s = 0; s < Gpu.steps(); s++) {
                Batch batch = new CheckCase(c.n(), c.d(), c.m(), c.k(), c.beta(), c.auxK(), 500 + s).batch();
                a = f32.step(batch, cfg.defaultLearningRate());
                b = bf16.step(batch, cfg.defaultLearningRate());
                assertTrue(Double.isFinite(b.fvu()) && b.l0() <= c.k() && b.deadFraction() >= 0 && b.deadFraction() <= 1, b.toString());
            }
            assertEquals(a.fvu(), b.fvu(), 0.05 * a.fvu(), "bf16 selection near-ties move FVU a little, not 5%");
        }
    }

    @Test
    void backwardIsBitwiseRepeatable() {
        Ops ops = Gpu.backend(Precision.F32).ops();
        CheckCase c = Gpu.emulated() ? CheckCase.of(96, 64, 300, 32, 0.5f, 11) : CheckCase.of(256, 64, 500, 32, 0.5f, 11);
        Params p = c.params();
        Batch b = c.batch();
        Encoded enc = ops.encodeSelect(p, b, c.beta(), c.k(), c.dead(), c.auxK());
        float[] xhat = ops.decode(p, enc.top(), true);
        Params first = Params.zeros(c.d(), c.m()), second = Params.zeros(c.d(), c.m());
        ops.backward(p, b, enc, xhat, 1f / 32, first);
        ops.backward(p, b, enc, xhat, 1f / 32, second);
        assertArrayEquals(first.wEnc(), second.wEnc());
        assertArrayEquals(first.bEnc(), second.bEnc());
        assertArrayEquals(first.wDec(), second.wDec());
        assertArrayEquals(first.bDec(), second.bDec());
        Encoded again = ops.encodeSelect(p, b, c.beta(), c.k(), c.dead(), c.auxK());
        assertArrayEquals(enc.top().indices(), again.top().indices());
        assertArrayEquals(enc.top().values(), again.top().values());
    }

    @Test
    void snapshotRoundTripsTheState() {
        CheckCase c = CheckCase.of(32, 7, 40, 4, 0f, 12);
        SaeConfig cfg = SaeConfig.of(c.d(), c.m(), c.k(), c.beta());
        TrainState init = TrainState.fresh(c.params());
        init.sinceFired()[3] = 12345;
        try (TrainingStep step = Gpu.backend(Precision.F32).open(cfg, init)) {
            TrainState back = step.snapshot();
            assertArrayEquals(init.params().wDec(), back.params().wDec());
            assertArrayEquals(init.params().wEnc(), step.params().wEnc(), "params() downloads the parameters alone");
            assertArrayEquals(init.params().bDec(), step.params().bDec());
            assertArrayEquals(init.sinceFired(), back.sinceFired());
            assertEquals(init.step(), back.step());
            step.step(c.batch(), cfg.defaultLearningRate());
            TrainState after = step.snapshot();
            assertFalse(Arrays.equals(init.params().wEnc(), after.params().wEnc()), "the step moved W_enc");
            assertArrayEquals(after.params().wEnc(), step.params().wEnc(), "params() is the trained parameters");
            assertArrayEquals(after.params().bDec(), step.params().bDec());
        }
    }
}
