package gsae.cuda;

import gsae.comm.LocalRanks;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.parallel.CandidateScores;
import gsae.parallel.LatentShardedStep;
import gsae.parallel.ParallelSteps;
import gsae.parallel.ShardedProblem;
import gsae.config.ParallelMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Latent-sharded training with each rank's share on its device ({@link CudaShardedStep}): P ranks
 * ({@link LocalRanks}, each with its own device; the emulated one in make test) against one device
 * on the whole SAE, with the bound and the problem of the host step's test ({@code
 * LatentShardedStepTest}): M not divisible by P, β = 0 and β > 0, dead latents from the second
 * step on, so that AuxK runs; and candidate_scores against its twin.
 */
class LatentShardedCudaTest {

    private static final int D = 23, N = 40, STEPS = 4;
    private static final float LR = 1e-3f;

    private static SaeConfig config(int m, float beta) {
        return new SaeConfig(D, m, 4, beta, 6, SaeConfig.DEFAULT_AUX_ALPHA, N);
    }

    record Run(List<StepMetrics> metrics, TrainState state) {}

    private static Run train(TrainingStep step) {
        try (step) {
            List<StepMetrics> metrics = new ArrayList<>();
            for (int s = 0; s < STEPS; s++) metrics.add(step.step(ShardedProblem.batch(N, D, true, 100 + s), LR));
            return new Run(metrics, step.snapshot());
        }
    }

    @ParameterizedTest(name = "P={0} M={1} β={2}")
    @CsvSource({"2, 51, 0", "3, 50, 1", "2, 77, 2"})
    void shardedOnDevicesEqualsOneDevice(int ranks, int m, float beta) {
        Gpu.assumeGpu();
        SaeConfig cfg = config(m, beta);
        TrainState init = TrainState.fresh(ShardedProblem.params(D, m, 11));
        Run single;
        try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32)) {
            single = train(device.open(cfg, init));
        }
        List<Run> sharded = LocalRanks.run(ranks, c -> {
            try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32)) {
                TrainingStep step = ParallelSteps.open(ParallelMode.LATENTS, device, cfg, new StartState.Held(init), c);
                assertInstanceOf(CudaShardedStep.class, step, "shares of ≥ max(k, aux_k) latents train on the device");
                return train(step);
            }
        });
        double eps = STEPS * ShardedProblem.stepEps(cfg, N);
        boolean sawAux = ShardedProblem.assertSameMetrics(single.metrics(), sharded.stream().map(Run::metrics).toList(), eps);
        assertTrue(sawAux, "AuxK ran");
        ShardedProblem.assertShardsMatch(single.state(), sharded.stream().map(Run::state).toList(), eps, LR * Math.sqrt(D));
    }

    /** Shares under max(k, aux_k) latents cannot pad a token's slots with distinct latents: the host step trains them. */
    @Test
    void smallSharesTrainThroughTheHostStep() {
        Gpu.assumeGpu();
        SaeConfig cfg = config(7, 1f);
        List<Boolean> host = LocalRanks.run(3, c -> {
            try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32);
                 TrainingStep step = ParallelSteps.open(ParallelMode.LATENTS, device, cfg,
                         new StartState.Held(TrainState.fresh(ShardedProblem.params(D, 7, 3))), c)) {
                return step instanceof LatentShardedStep;
            }
        });
        assertEquals(List.of(true, true, true), host);
    }

    /** candidate_scores against CandidateScores (f64 in both, summed in another order here): within one float rounding. */
    @ParameterizedTest(name = "β={0}")
    @CsvSource({"0", "1.5"})
    void candidateScoresMatchTheirTwin(float beta) {
        Gpu.assumeGpu();
        int d = 77, m = 300, n = 13, k = 9;
        Params p = ShardedProblem.params(d, m, 31);
        Batch b = ShardedProblem.batch(n, d, true, 32);
        SplittableRandom rng = new SplittableRandom(33);
        int[] idx = new int[n * k];
        for (int r = 0; r < n; r++) {
            int[] pick = rng.ints(0, m).distinct().limit(k).sorted().toArray();
            System.arraycopy(pick, 0, idx, r * k, k);
        }
        Selection offered = new Selection(n, k, idx, new float[n * k]);
        float[] want = CandidateScores.of(p, b, beta, offered);
        try (Driver driver = Gpu.emulated() ? EmulatedDevice.open() : CudaContext.open(Integer.parseInt(Gpu.device()));
             Scratch s = new Scratch(driver); Kernels kernels = new Kernels(driver)) {
            driver.makeCurrent();
            DeviceParams dp = DeviceParams.in(s, "p", d, m);
            dp.upload(p);
            DeviceBuffer x = s.floats("x", (long) n * d), g = s.floats("g", (long) n * d);
            x.upload(b.x());
            g.upload(b.g());
            DeviceSelection sel = DeviceSelection.in(s, "offered", n, k);
            sel.upload(offered);
            float[] got = CudaShardedStep.scores(kernels.get("sparse_decode", "candidate_scores"), s, dp, new DeviceBatch(n, d, x, g), beta, sel);
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], got[i], Math.ulp(want[i]), "pair " + i + " (latent " + idx[i] + ")");
        }
    }
}
