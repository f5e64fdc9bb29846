package gsae.api;

import gsae.comm.LocalRanks;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.UserError;
import gsae.io.Checkpoint;
import gsae.ops.Params;
import gsae.ops.TrainState;
import gsae.train.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel runs through gsae.api (issue #15), ranks as threads ({@link LocalRanks}): a
 * {@link DataRun} over 2 or 3 ranks equals the one-process run (tolerance as in
 * DataParallelStepTest: twice the rounding drift between the fast path and the reference, measured
 * on the same run); only rank 0 writes and reports; a resumed run equals the uninterrupted one
 * bit for bit; a checkpoint resumes only with the mode and rank count that wrote it. The same for
 * {@link SaeTrainer}, where each rank pushes its rows.
 */
class DataParallelRunTest {

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** 31 tokens per step: divisible by neither 2 nor 3. A dead window of one batch keeps AuxK busy. */
    static DataRun.Options options(int steps) {
        return new DataRun.Options(32, 4, 0.5f, steps, 31, 1e-2f, 2, Decay.NONE, 5L, 2, 1, 4, null, 31L, false);
    }

    static DataRun.Outcome run(Path out, DataRun.Options o, boolean resume, SaeBackend backend, Parallel mode, Group group,
                                       DataRun.Listener l) {
        return run(out, o, resume, backend, mode, group, l, need -> {});
    }

    /** {@link #run(Path, DataRun.Options, boolean, SaeBackend, Parallel, Group, DataRun.Listener)} telling {@code needs} the heap estimate. */
    static DataRun.Outcome run(Path out, DataRun.Options o, boolean resume, SaeBackend backend, Parallel mode, Group group,
                               DataRun.Listener l, LongConsumer needs) {
        try (DataRun run = DataRun.open(out, o, resume, false, null, false, DataRunTest.SYNTHETIC, QUIET, mode, group);
             Engine engine = Engine.open(backend, 1, QUIET, false)) {
            return run.train(engine, needs, l);
        }
    }

    static Checkpoint single(Path out, int steps, SaeBackend backend) {
        run(out, options(steps), false, backend, Parallel.NONE, Group.single(), new DataRun.Listener() {});
        return Checkpoint.load(out.resolve(DataRun.CHECKPOINT));
    }

    /** P ranks training data parallel into {@code out}; returns how many listener calls each rank saw. */
    private static AtomicIntegerArray parallel(int p, Path out, int steps, boolean resume) {
        return ranks(Parallel.DATA, p, out, steps, resume);
    }

    /** P ranks training in {@code mode} into {@code out}; returns how many listener calls each rank saw. */
    static AtomicIntegerArray ranks(Parallel mode, int p, Path out, int steps, boolean resume) {
        AtomicIntegerArray calls = new AtomicIntegerArray(p);
        LocalRanks.run(p, c -> run(out, options(steps), resume, SaeBackend.CPU, mode, Group.of(c), new DataRun.Listener() {
            @Override
            public void stepped(Metrics m, double tokensPerSecond) {
                calls.incrementAndGet(c.rank());
            }
        }));
        return calls;
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 3})
    void aDataParallelRunEqualsOneProcess(int p, @TempDir Path dir) throws IOException {
        int steps = 6;
        Checkpoint fast = single(dir.resolve("fast"), steps, SaeBackend.CPU);
        double rounding = distance(fast.state(), single(dir.resolve("reference"), steps, SaeBackend.REFERENCE).state());

        AtomicIntegerArray calls = parallel(p, dir.resolve("dp"), steps, false);
        Checkpoint dp = Checkpoint.load(dir.resolve("dp").resolve(DataRun.CHECKPOINT));
        double drift = distance(fast.state(), dp.state());
        assertTrue(drift <= 2 * rounding + Math.ulp(1f), "drift " + drift + ", rounding " + rounding);
        assertArrayEquals(fast.state().sinceFired(), dp.state().sinceFired());
        assertEquals(fast.dataPosition(), dp.dataPosition());
        assertEquals(fast.scales(), dp.scales(), "scales estimated as one process does");
        assertEquals(new Parallelism(ParallelMode.DATA, p), dp.parallel());
        assertEquals(steps, calls.get(0), "rank 0 follows every step");
        for (int r = 1; r < p; r++) assertEquals(0, calls.get(r), "rank " + r + " stays silent");
        assertEquals(steps, Files.readAllLines(dir.resolve("dp").resolve(DataRun.METRICS)).size(), "one metrics line per step");
    }

    @Test
    void resumedWithTheSameRanksEqualsUninterruptedAndOtherCountsAreRefused(@TempDir Path dir) {
        parallel(2, dir.resolve("whole"), 6, false);
        parallel(2, dir.resolve("split"), 3, false);
        parallel(2, dir.resolve("split"), 6, true);
        Checkpoint whole = Checkpoint.load(dir.resolve("whole").resolve(DataRun.CHECKPOINT));
        Checkpoint split = Checkpoint.load(dir.resolve("split").resolve(DataRun.CHECKPOINT));
        assertEquals(6, split.step());
        assertEquals(0.0, distance(whole.state(), split.state()), "bit for bit");
        assertArrayEquals(whole.state().sinceFired(), split.state().sinceFired());

        UserError three = assertThrows(UserError.class, () -> parallel(3, dir.resolve("split"), 8, true));
        assertTrue(three.getMessage().contains("data-parallel over 2 ranks") && three.getMessage().contains("mpirun -np 2"), three.getMessage());
        UserError one = assertThrows(UserError.class, () -> run(dir.resolve("split"), options(8), true, SaeBackend.CPU, Parallel.NONE,
                Group.single(), new DataRun.Listener() {}));
        assertTrue(one.getMessage().contains("--parallel data"), one.getMessage());
    }

    @Test
    void severalRanksNeedAMode(@TempDir Path dir) {
        UserError e = assertThrows(UserError.class, () -> LocalRanks.run(2, c -> run(dir, options(2), false, SaeBackend.CPU, Parallel.NONE,
                Group.of(c), new DataRun.Listener() {})));
        assertTrue(e.getMessage().contains("--parallel"), e.getMessage());
    }

    /** SaeTrainer: each rank pushes its rows of every global batch; the ranks train what one process trains on the whole batch. */
    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 3})
    void pushedSlicesEqualOneProcessPushingTheWholeBatch(int p, @TempDir Path dir) {
        int d = 12, n = 31, steps = 5;
        SyntheticSource src = new SyntheticSource(d, 8, 3);
        float[][] x = new float[steps][n * d], g = new float[steps][n * d];
        for (int s = 0; s < steps; s++) src.next(x[s], g[s], n);

        float[] fast = pushWhole(SaeBackend.CPU, x, g, n), reference = pushWhole(SaeBackend.REFERENCE, x, g, n);
        double rounding = distance(fast, reference);
        List<float[]> ranks = LocalRanks.run(p, c -> {
            int lo = n * c.rank() / p, hi = n * (c.rank() + 1) / p;
            try (SaeTrainer t = builder().parallel(Parallel.DATA, Group.of(c)).build()) {
                for (int s = 0; s < steps; s++)
                    t.step(java.util.Arrays.copyOfRange(x[s], lo * d, hi * d), java.util.Arrays.copyOfRange(g[s], lo * d, hi * d), hi - lo);
                t.save(dir.resolve("ckpt"));
                assertEquals(steps, Checkpoint.load(dir.resolve("ckpt")).step(), "save returns on every rank once rank 0's files are in place");
                return t.sae().reconstruct(x[0], n);
            }
        });
        for (float[] r : ranks) assertTrue(distance(fast, r) <= 2 * rounding + Math.ulp(1f), "drift " + distance(fast, r) + ", rounding " + rounding);
        Checkpoint c = Checkpoint.load(dir.resolve("ckpt"));
        assertEquals(new Parallelism(ParallelMode.DATA, p), c.parallel());
        assertEquals((long) steps * n, c.dataPosition(), "tokens count the global batches");

        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> LocalRanks.run(p + 1, r -> SaeTrainer.resumeFrom(dir.resolve("ckpt")).parallel(Parallel.DATA, Group.of(r)).build()));
        assertTrue(other.getMessage().startsWith("parallel:"), other.getMessage());
    }

    static SaeTrainer.Builder builder() {
        return SaeTrainer.builder(12, 32, 4).beta(0.5f).auxK(4).deadTokens(31).learningRate(1e-2f).threads(1).backend(SaeBackend.CPU);
    }

    /** One process pushing whole batches; returns the reconstruction of the first batch, which depends on every parameter. */
    static float[] pushWhole(SaeBackend backend, float[][] x, float[][] g, int n) {
        try (SaeTrainer t = builder().backend(backend).build()) {
            for (int s = 0; s < x.length; s++) t.step(x[s], g[s], n);
            return t.sae().reconstruct(x[0], n);
        }
    }

    static double distance(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        return worst;
    }

    static double distance(TrainState a, TrainState b) {
        double worst = 0;
        for (Params[] p : new Params[][]{{a.params(), b.params()}, {a.adamM(), b.adamM()}, {a.adamV(), b.adamV()}}) {
            worst = Math.max(worst, distance(p[0].wEnc(), p[1].wEnc()));
            worst = Math.max(worst, distance(p[0].bEnc(), p[1].bEnc()));
            worst = Math.max(worst, distance(p[0].wDec(), p[1].wDec()));
            worst = Math.max(worst, distance(p[0].bDec(), p[1].bDec()));
        }
        return worst;
    }
}
