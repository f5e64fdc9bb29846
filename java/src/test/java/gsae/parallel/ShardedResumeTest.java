package gsae.parallel;

import gsae.api.ExportFormat;
import gsae.api.Sae;
import gsae.comm.LocalRanks;
import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.cpu.FastOps;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.ShardedCheckpoint;
import gsae.ops.HostTrainingStep;
import gsae.ops.LatentShard;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static gsae.parallel.ShardedProblem.assertParamsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A P = 2 run checkpointed after four steps (β > 0, dead latents and AuxK from step 2) and resumed
 * for four more: by P = 2 bit for bit as if uninterrupted, by P = 3 and by one process equal to it
 * within the per-step tolerance of {@link LatentShardedStepTest}; the checkpoint exports through
 * {@code gsae.api} to the bytes a single-file checkpoint of the same state gives.
 */
class ShardedResumeTest {

    private static final int D = 23, M = 77, N = 40, HALF = 4;
    private static final float LR = 1e-3f;
    private static final SaeConfig CFG = new SaeConfig(D, M, 4, 1f, 6, SaeConfig.DEFAULT_AUX_ALPHA, N);
    private static final TrainConfig TRAIN = new TrainConfig(2 * HALF, N, LR, 0, LrDecay.NONE, 5, HALF, 1, false, N);
    private static final Scales SCALES = new Scales(1f, 1f);
    private static final DataRecord DATA = new DataRecord("seeded Gaussian batches", List.of(), null);

    private static void steps(gsae.ops.TrainingStep step, int first, int count) {
        for (int s = first; s < first + count; s++) step.step(ShardedProblem.batch(N, D, true, 100 + s), LR);
    }

    /** P = 2 for four steps, saved to dir; then four more: the uninterrupted run's final state. */
    private static TrainState uninterrupted(TrainState init, Path dir) {
        List<TrainState> shares = LocalRanks.run(2, c -> {
            LatentShardedStep step = LatentShardedStep.start(CFG, new FastOps(1), c, new StartState.Held(init));
            steps(step, 0, HALF);
            ShardedCheckpoint.save(dir, c, CFG, TRAIN, SCALES, StateChunks.of(step.state()), (long) HALF * N, DATA);
            steps(step, HALF, HALF);
            return step.snapshot();
        });
        return ShardedProblem.gather(shares);
    }

    private static TrainState resumedSharded(Path dir, int ranks) {
        return ShardedProblem.gather(LocalRanks.run(ranks, c -> {
            ShardedCheckpoint.Part part = ShardedCheckpoint.load(dir, LatentShard.of(c.rank(), c.size(), M));
            LatentShardedStep step = new LatentShardedStep(part.sae(), new FastOps(1), c, part.owned());
            steps(step, HALF, HALF);
            return step.snapshot();
        }));
    }

    @Test
    void resumesInAnyNumberOfRanks(@TempDir Path tmp) {
        Path dir = tmp.resolve("checkpoint");
        TrainState want = uninterrupted(TrainState.fresh(ShardedProblem.params(D, M, 31)), dir);
        Checkpoint saved = Checkpoint.load(dir);
        assertEquals(HALF, saved.step());
        assertEquals((long) HALF * N, saved.dataPosition());

        ShardedProblem.assertSameState(want, resumedSharded(dir, 2), "P = 2 resumed");

        double eps = HALF * ShardedProblem.stepEps(CFG, N), floor = LR * Math.sqrt(D);
        HostTrainingStep one = new HostTrainingStep(saved.sae(), new FastOps(1), saved.state());
        steps(one, HALF, HALF);
        Map<String, TrainState> resumed = new LinkedHashMap<>();
        resumed.put("P = 3", resumedSharded(dir, 3));
        resumed.put("one process", one.snapshot());
        resumed.forEach((what, got) -> {
            assertEquals(want.step(), got.step(), what);
            assertArrayEquals(want.sinceFired(), got.sinceFired(), what + ": dead-latent counters (the selections)");
            assertParamsClose(what, want.params(), got.params(), eps, floor);
        });
    }

    @Test
    void exportsLikeASingleFileCheckpoint(@TempDir Path tmp) throws IOException {
        Path sharded = tmp.resolve("sharded"), single = tmp.resolve("single");
        uninterrupted(TrainState.fresh(ShardedProblem.params(D, M, 32)), sharded);
        Checkpoint c = Checkpoint.load(sharded);
        c.save(single);
        for (ExportFormat format : ExportFormat.values()) {
            Path a = tmp.resolve(format + "-single"), b = tmp.resolve(format + "-sharded");
            Sae.load(single).export(format, a);
            Sae.load(sharded).export(format, b);
            try (Stream<Path> files = Files.list(a)) {
                List<Path> list = files.toList();
                assertEquals(2, list.size(), "weights and cfg.json");
                for (Path f : list)
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(f.getFileName())), format + " " + f.getFileName());
            }
        }
    }
}
