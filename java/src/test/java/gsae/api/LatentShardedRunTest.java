package gsae.api;

import gsae.comm.LocalRanks;
import gsae.config.ArrayLimit;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.UserError;
import gsae.io.Checkpoint;
import gsae.train.MemoryNeed;
import gsae.train.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static gsae.api.DataParallelRunTest.distance;
import static gsae.api.DataParallelRunTest.options;
import static gsae.api.DataParallelRunTest.ranks;
import static gsae.api.DataParallelRunTest.run;
import static gsae.api.DataParallelRunTest.single;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Latent-sharded runs through gsae.api (issue #15), ranks as threads ({@link LocalRanks}), with the
 * settings and the tolerance of {@link DataParallelRunTest} (twice the drift between the fast path
 * and the reference on the same run): a {@link DataRun} over 2 or 3 ranks (M = 32 is not divisible
 * by 3) equals the one-process run; a P = 2 checkpoint resumes on 3 ranks and in one process; every
 * rank of a {@link SaeTrainer} pushing the whole batch trains what one process trains; a run whose
 * whole tensors exceed one host array trains and resumes on ranks that each hold a share.
 */
class LatentShardedRunTest {

    private static AtomicIntegerArray sharded(int p, Path out, int steps, boolean resume) {
        return ranks(Parallel.LATENTS, p, out, steps, resume);
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 3})
    void aShardedRunEqualsOneProcess(int p, @TempDir Path dir) throws IOException {
        int steps = 6;
        Checkpoint fast = single(dir.resolve("fast"), steps, SaeBackend.CPU);
        double rounding = distance(fast.state(), single(dir.resolve("reference"), steps, SaeBackend.REFERENCE).state());

        AtomicIntegerArray calls = sharded(p, dir.resolve("ls"), steps, false);
        Path ckpt = dir.resolve("ls").resolve(DataRun.CHECKPOINT);
        assertTrue(Files.isRegularFile(ckpt.resolve(String.format("shard-%05d-of-%05d.safetensors", p - 1, p))), "one file per shard");
        Checkpoint ls = Checkpoint.load(ckpt);
        double drift = distance(fast.state(), ls.state());
        assertTrue(drift <= 2 * rounding + Math.ulp(1f), "drift " + drift + ", rounding " + rounding);
        assertArrayEquals(fast.state().sinceFired(), ls.state().sinceFired());
        assertEquals(fast.dataPosition(), ls.dataPosition());
        assertEquals(fast.scales(), ls.scales(), "scales estimated as one process does");
        assertEquals(new Parallelism(ParallelMode.LATENTS, p), ls.parallel());
        assertEquals(steps, calls.get(0), "rank 0 follows every step");
        for (int r = 1; r < p; r++) assertEquals(0, calls.get(r), "rank " + r + " stays silent");
        assertEquals(steps, Files.readAllLines(dir.resolve("ls").resolve(DataRun.METRICS)).size(), "one metrics line per step");
    }

    /** Written by 2 ranks, continued by 3, then by one process: the run one process makes, within the same tolerance. */
    @Test
    void resumesOnAnyNumberOfRanksAndInOneProcess(@TempDir Path dir) {
        Checkpoint fast = single(dir.resolve("fast"), 9, SaeBackend.CPU);
        double rounding = distance(fast.state(), single(dir.resolve("reference"), 9, SaeBackend.REFERENCE).state());
        Path out = dir.resolve("ls");
        sharded(2, out, 3, false);
        sharded(3, out, 6, true);
        assertEquals(new Parallelism(ParallelMode.LATENTS, 3), Checkpoint.load(out.resolve(DataRun.CHECKPOINT)).parallel());
        run(out, options(9), true, SaeBackend.CPU, Parallel.NONE, Group.single(), new DataRun.Listener() {});
        Checkpoint resumed = Checkpoint.load(out.resolve(DataRun.CHECKPOINT));
        assertEquals(9, resumed.step());
        assertEquals(Parallelism.SINGLE, resumed.parallel());
        assertTrue(distance(fast.state(), resumed.state()) <= 2 * rounding + Math.ulp(1f), "drift " + distance(fast.state(), resumed.state()));
        assertArrayEquals(fast.state().sinceFired(), resumed.state().sinceFired());

        UserError data = assertThrows(UserError.class, () -> LocalRanks.run(2, c -> run(out, options(12), true, SaeBackend.CPU, Parallel.DATA,
                Group.of(c), new DataRun.Listener() {})));
        assertTrue(data.getMessage().contains("in one process"), data.getMessage());
    }

    @Test
    void moreRanksThanLatentsIsOneLine(@TempDir Path dir) {
        DataRun.Options two = new DataRun.Options(2, 1, 0f, 2, 31, 1e-2f, 2, Decay.NONE, 5L, 2, 1, 4, null, 31L, false);
        UserError e = assertThrows(UserError.class, () -> LocalRanks.run(3, c -> run(dir, two, false, SaeBackend.CPU, Parallel.LATENTS,
                Group.of(c), new DataRun.Listener() {})));
        assertTrue(e.getMessage().contains("--latents 2") && e.getMessage().contains("3 ranks"), e.getMessage());
    }

    /**
     * With one host array smaller than a whole M·d tensor but holding a rank's share, a P = 2 run
     * trains, checkpoints and resumes on 3 ranks, through DataRun and through SaeTrainer: no rank
     * builds a whole tensor, and the size checks measure a rank's share (one process is refused).
     */
    @Test
    void trainsPastOneHostArray(@TempDir Path dir) {
        int m = 96, d = 12, n = 8, share = (m + 1) / 2 * d;
        DataRun.Options o = new DataRun.Options(m, 4, 0.5f, 3, n, 1e-2f, 2, Decay.NONE, 5L, 2, 1, 4, null, 31L, false);
        SyntheticSource src = new SyntheticSource(d, 8, 3);
        float[] x = new float[n * d], g = new float[n * d];
        src.next(x, g, n);
        Path out = dir.resolve("run"), pushed = dir.resolve("pushed");
        ArrayLimit.during(share, () -> {
            UserError whole = assertThrows(UserError.class, () -> run(dir.resolve("one"), o, false, SaeBackend.CPU, Parallel.NONE, Group.single(),
                    new DataRun.Listener() {}));
            assertTrue(whole.getMessage().startsWith("--latents: 96 latents"), whole.getMessage());
            LocalRanks.run(2, c -> run(out, o, false, SaeBackend.CPU, Parallel.LATENTS, Group.of(c), new DataRun.Listener() {}));
            DataRun.Options more = new DataRun.Options(null, null, null, 6, null, null, null, null, null, null, null, null, null, null, null);
            for (DataRun.Outcome r : LocalRanks.run(3, c -> run(out, more, true, SaeBackend.CPU, Parallel.LATENTS, Group.of(c), new DataRun.Listener() {})))
                assertEquals(6, r.step());
            LocalRanks.run(2, c -> {
                try (SaeTrainer t = SaeTrainer.builder(d, m, 4).threads(1).backend(SaeBackend.CPU).parallel(Parallel.LATENTS, Group.of(c)).build()) {
                    t.step(x, g, n);
                    return t.save(pushed);
                }
            });
            for (long steps : LocalRanks.run(3, c -> {
                try (SaeTrainer t = SaeTrainer.resumeFrom(pushed).threads(1).backend(SaeBackend.CPU).parallel(Parallel.LATENTS, Group.of(c)).build()) {
                    t.step(x, g, n);
                    return t.steps();
                }
            })) assertEquals(2, steps);
        });
        assertEquals(6, Checkpoint.load(out.resolve(DataRun.CHECKPOINT)).step());
        assertEquals(new Parallelism(ParallelMode.LATENTS, 2), Checkpoint.load(pushed).parallel());
    }

    /** The heap a rank is told it needs (for the out-of-memory message) is that of its share, fresh and resumed. */
    @Test
    void estimatesTheHeapOfARanksShare(@TempDir Path dir) {
        long one = need(dir.resolve("one"), 1, Parallel.NONE, false), fresh = need(dir.resolve("ls"), 2, Parallel.LATENTS, false);
        long resumed = need(dir.resolve("ls"), 3, Parallel.LATENTS, true);
        SaeConfig sae = Checkpoint.load(dir.resolve("one").resolve(DataRun.CHECKPOINT)).sae();
        int batch = options(1).batch();
        assertEquals(MemoryNeed.trainingBytes(sae, batch, true), one, "one process: the whole state");
        assertEquals(MemoryNeed.trainingBytes(sae, batch, true, 16), fresh, "2 ranks: 16 of the 32 latents");
        assertEquals(MemoryNeed.trainingBytes(sae, batch, true, 11), resumed, "3 ranks: at most 11 of the 32 latents");
        assertTrue(fresh < one && resumed < fresh, one + ", " + fresh + ", " + resumed);
    }

    /** The largest heap estimate any of {@code p} ranks was given. */
    private static long need(Path out, int p, Parallel mode, boolean resume) {
        AtomicLong need = new AtomicLong();
        LocalRanks.run(p, c -> run(out, options(resume ? 2 : 1), resume, SaeBackend.CPU, mode, Group.of(c), new DataRun.Listener() {},
                n -> need.accumulateAndGet(n, Math::max)));
        return need.get();
    }

    /** SaeTrainer: every rank pushes the whole batch; sae() and save() are collective and give the whole SAE. */
    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 3})
    void pushedBatchesEqualOneProcess(int p, @TempDir Path dir) {
        int d = 12, n = 31, steps = 5;
        SyntheticSource src = new SyntheticSource(d, 8, 3);
        float[][] x = new float[steps][n * d], g = new float[steps][n * d];
        for (int s = 0; s < steps; s++) src.next(x[s], g[s], n);

        float[] fast = DataParallelRunTest.pushWhole(SaeBackend.CPU, x, g, n), reference = DataParallelRunTest.pushWhole(SaeBackend.REFERENCE, x, g, n);
        double rounding = distance(fast, reference);
        List<float[]> ranks = LocalRanks.run(p, c -> {
            try (SaeTrainer t = DataParallelRunTest.builder().parallel(Parallel.LATENTS, Group.of(c)).build()) {
                for (int s = 0; s < steps; s++) t.step(x[s], g[s], n);
                t.save(dir.resolve("ckpt"));
                return t.sae().reconstruct(x[0], n);
            }
        });
        for (float[] r : ranks) assertTrue(distance(fast, r) <= 2 * rounding + Math.ulp(1f), "drift " + distance(fast, r) + ", rounding " + rounding);
        Checkpoint c = Checkpoint.load(dir.resolve("ckpt"));
        assertEquals(new Parallelism(ParallelMode.LATENTS, p), c.parallel());
        assertEquals((long) steps * n, c.dataPosition());
        List<float[]> resumed = LocalRanks.run(p + 1, r -> {
            try (SaeTrainer t = SaeTrainer.resumeFrom(dir.resolve("ckpt")).parallel(Parallel.LATENTS, Group.of(r)).build()) {
                return t.sae().reconstruct(x[0], n);
            }
        });
        for (float[] r : resumed) assertArrayEquals(ranks.getFirst(), r, "resumed on P + 1 ranks: the same SAE");
    }
}
