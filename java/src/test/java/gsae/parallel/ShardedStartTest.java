package gsae.parallel;

import gsae.comm.Collectives;
import gsae.comm.LocalRanks;
import gsae.config.ArrayLimit;
import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.ShardedCheckpoint;
import gsae.ops.LatentShard;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.tensor.ChunkedTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Each rank of a latent-sharded run starts from its own latents alone (issue #15), as
 * {@link ParallelSteps} opens the step: a fresh start draws only the rank's rows, a stored one
 * (a single-file checkpoint, or a sharded one written by another P) reads only them, and either
 * equals the rank's slice of the whole state bit for bit. M = 29 is divisible by no P tried but 1.
 * No rank builds the whole state: the fresh start is never drawn whole, the stored one never read
 * into host arrays, the bytes a rank reads through the checkpoint's reader are exactly its rows',
 * and every rank starts where one host array cannot hold a whole tensor.
 */
class ShardedStartTest {

    private static final int D = 13, M = 29;
    private static final SaeConfig CFG = new SaeConfig(D, M, 4, 1f, 6, SaeConfig.DEFAULT_AUX_ALPHA, 100);
    private static final TrainConfig TRAIN = new TrainConfig(10, 16, 1e-3f, 0, LrDecay.NONE, 5, 5, 1, false, 16);
    private static final Scales SCALES = new Scales(0.5f, 2f);
    private static final DataRecord DATA = DataRecord.described("seeded");

    /** One rank's share as its step holds it, and the start it was opened from. */
    private record Opened<S extends StartState>(TrainState share, S init) {}

    /** Opens the latent-sharded step on every rank from {@code init}'s start for that rank. */
    private static <S extends StartState> List<Opened<S>> open(int ranks, Function<Collectives, S> init) {
        return LocalRanks.run(ranks, c -> {
            S start = init.apply(c);
            try (CpuBackend backend = CpuBackend.fast(1); TrainingStep step = ParallelSteps.open(ParallelMode.LATENTS, backend, CFG, start, c)) {
                return new Opened<>(step.state(), start);
            }
        });
    }

    @ParameterizedTest(name = "P={0}")
    @ValueSource(ints = {1, 2, 3})
    void aFreshShareIsTheSliceOfTheWholeDraw(int ranks) {
        float[] mean = new float[D];
        ShardedProblem.fill(mean, new SplittableRandom(3), 1.0);
        long seed = 41;
        TrainState whole = new StartState.Fresh(D, M, seed, mean).host();
        List<Opened<StartState.Fresh>> opened = open(ranks, c -> new StartState.Fresh(D, M, seed, mean));
        for (int r = 0; r < ranks; r++) {
            String what = "rank " + r + " of " + ranks;
            ShardedProblem.assertSameState(whole.slice(LatentShard.of(r, ranks, M)), opened.get(r).share(), what);
            assertNull(opened.get(r).init().drawn(), what + " drew the whole state");
        }
    }

    /** written 0: a single-file checkpoint; else a sharded one written by that many ranks. */
    @ParameterizedTest(name = "written by {0} ranks (0: one file), read by {1}")
    @CsvSource({"0, 1", "0, 2", "0, 3", "2, 1", "2, 3", "3, 2", "3, 3"})
    void aStoredShareIsTheSliceOfTheWholeCheckpointAndAllThatIsRead(int written, int ranks, @TempDir Path tmp) {
        TrainState whole = sample();
        Path dir = tmp.resolve("checkpoint");
        if (written == 0) new Checkpoint(CFG, TRAIN, SCALES, whole, 64, DATA).save(dir);
        else save(whole, written, dir);
        AtomicLong[] bytes = new AtomicLong[ranks];
        List<Opened<StartState.Stored>> opened = open(ranks, c -> {
            StartState.Stored stored = assertInstanceOf(StartState.Stored.class, Checkpoint.load(dir).start(), "a checkpoint's state stays in its files");
            bytes[c.rank()] = new AtomicLong();
            return counted(stored, bytes[c.rank()]);
        });
        for (int r = 0; r < ranks; r++) {
            LatentShard shard = LatentShard.of(r, ranks, M);
            String what = "rank " + r + " of " + ranks;
            ShardedProblem.assertSameState(whole.slice(shard), opened.get(r).share(), what);
            assertNull(opened.get(r).init().readIn(), what + " read the whole state into host arrays");
            long floats = 3 * (2L * shard.count() * D + shard.count() + D);
            assertEquals(floats * Float.BYTES + (long) shard.count() * Long.BYTES, bytes[r].get(), what + ": bytes read, its rows' only");
        }
    }

    /**
     * With one host array too small for the whole state's M·d but large enough for the largest
     * share, P = 3 ranks still start, fresh and from checkpoints of either layout: no rank builds
     * a whole tensor, even for a moment.
     */
    @Test
    void startsWhereTheWholeStateWouldNotFitOneArray(@TempDir Path tmp) {
        int ranks = 3;
        long share = 0;
        for (int r = 0; r < ranks; r++) share = Math.max(share, (long) LatentShard.of(r, ranks, M).count() * D);
        TrainState whole = sample();
        Path single = tmp.resolve("single"), sharded = tmp.resolve("sharded");
        new Checkpoint(CFG, TRAIN, SCALES, whole, 64, DATA).save(single);
        save(whole, 2, sharded);
        float[] mean = new float[D];
        ArrayLimit.during(share, () -> {
            assertThrows(UserError.class, () -> Params.zeros(D, M), "the lowered limit still admits the whole state");
            assertEquals(ranks, open(ranks, c -> new StartState.Fresh(D, M, 41, mean)).size());
            for (Path dir : List.of(single, sharded)) assertEquals(ranks, open(ranks, c -> Checkpoint.load(dir).start()).size(), dir.toString());
        });
    }

    private static void save(TrainState whole, int ranks, Path dir) {
        LocalRanks.run(ranks, c -> {
            StateChunks mine = StateChunks.of(whole.slice(LatentShard.of(c.rank(), c.size(), M)));
            ShardedCheckpoint.save(dir, c, CFG, TRAIN, SCALES, mine, 64, DATA);
            return null;
        });
    }

    /** Parameters, moments and counters all distinct, so a row read from the wrong place shows. */
    private static TrainState sample() {
        long[] since = new SplittableRandom(9).longs(M, 0, 1000).toArray();
        Params p = ShardedProblem.params(D, M, 5), am = ShardedProblem.params(D, M, 6), av = ShardedProblem.params(D, M, 7);
        return new TrainState(p, am, av, 4, since);
    }

    /** {@code from} read through a counter of the bytes its tensors hand out. */
    private static StartState.Stored counted(StartState.Stored from, AtomicLong bytes) {
        return new StartState.Stored(from.d(), from.m(), from.step(), use -> from.read(c -> use.accept(new StateChunks(c.d(), c.m(),
                counted(c.params(), bytes), counted(c.adamM(), bytes), counted(c.adamV(), bytes), c.step(), counted(c.sinceFired(), bytes)))));
    }

    private static StateChunks.Tensors counted(StateChunks.Tensors t, AtomicLong bytes) {
        return new StateChunks.Tensors(counted(t.wEnc(), bytes), counted(t.bEnc(), bytes), counted(t.wDec(), bytes), counted(t.bDec(), bytes));
    }

    private static ChunkedTensor counted(ChunkedTensor t, AtomicLong bytes) {
        return new ChunkedTensor(t.dtype(), t.shape(), (offset, into) -> {
            bytes.addAndGet(into.byteSize());
            t.chunks().read(offset, into);
        });
    }
}
