package gsae.train;

import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ScheduleTest {

    private static final SaeConfig SAE = SaeConfig.of(8, 16384, 4, 0f);

    private static TrainConfig schedule(int steps, int warmup, LrDecay decay) {
        return new TrainConfig(steps, 16, 1e-3f, warmup, decay, 1, 0, 1, false, 64);
    }

    @Test
    void warmupRisesLinearlyToThePeak() {
        TrainConfig t = schedule(100, 10, LrDecay.NONE);
        assertEquals(1e-4f, t.lrAt(SAE, 1), 1e-10f);
        assertEquals(5e-4f, t.lrAt(SAE, 5), 1e-10f);
        assertEquals(1e-3f, t.lrAt(SAE, 10), 0f);
        assertEquals(1e-3f, t.lrAt(SAE, 11), 0f);
        assertEquals(1e-3f, t.lrAt(SAE, 100), 0f);
    }

    @Test
    void linearDecayReachesZeroAfterTheLastStep() {
        TrainConfig t = schedule(110, 10, LrDecay.LINEAR);
        assertEquals(1e-3f, t.lrAt(SAE, 11), 0f);
        assertEquals(1e-3f * 50 / 100, t.lrAt(SAE, 61), 1e-10f);
        assertEquals(1e-3f / 100, t.lrAt(SAE, 110), 1e-10f);
        for (int s = 11; s < 110; s++) assertEquals(true, t.lrAt(SAE, s + 1) < t.lrAt(SAE, s), "decay must fall at step " + s);
    }

    @Test
    void noWarmupStartsAtThePeakAndNaNMeansSpecDefault() {
        TrainConfig t = new TrainConfig(10, 16, Float.NaN, 0, LrDecay.NONE, 1, 0, 1, false, 64);
        assertEquals(2e-4f, t.lrAt(SAE, 1), 0f, "SPEC §5: 2e-4 / sqrt(M / 2^14) at M = 2^14");
        assertEquals(4e-4f, t.lrAt(SaeConfig.of(8, 4096, 4, 0f), 1), 1e-10f);
    }

    @Test
    void shortRunsClampWarmupAndDeadWindow() {
        assertEquals(1000, TrainDefaults.warmupSteps(1_000_000));
        assertEquals(30, TrainDefaults.warmupSteps(300));
        assertEquals(0, TrainDefaults.warmupSteps(5));
        assertEquals(10_000_000L, TrainDefaults.deadTokens(1_000_000, 4096));
        assertEquals(2000L * 1024 / 10, TrainDefaults.deadTokens(2000, 1024));
        assertEquals(64L, TrainDefaults.deadTokens(3, 64), "never less than one batch");
    }
}
