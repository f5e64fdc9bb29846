package gsae.cuda;

import gsae.config.ArrayLimit;
import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.tensor.ChunkedTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints streamed from device memory through the staging buffer, against the whole-copy snapshot path. */
class CheckpointStreamCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    @Test
    void streamedCheckpointMatchesTheSnapshotPath(@TempDir Path dir) throws IOException {
        CheckCase c = CheckCase.of(24, 37, 53, 4, 0.5f, 21);
        SaeConfig sae = new SaeConfig(c.d(), c.m(), c.k(), c.beta(), c.auxK(), SaeConfig.DEFAULT_AUX_ALPHA, 2L * c.n());
        TrainConfig train = new TrainConfig(5, c.n(), Float.NaN, 1, LrDecay.LINEAR, 3, 0, 1, false, 1000);
        Scales scales = new Scales(0.5f, 2f);
        try (TrainingStep step = Gpu.backend(Precision.F32).open(sae, TrainState.fresh(c.params()))) {
            for (int s = 0; s < 2; s++)
                step.step(new CheckCase(c.n(), c.d(), c.m(), c.k(), c.beta(), c.auxK(), 40 + s).batch(), sae.defaultLearningRate());
            TrainState snap = step.snapshot();
            new Checkpoint(sae, train, scales, snap, 48, DataRecord.teacher()).save(dir.resolve("copied"));
            Checkpoint.save(dir.resolve("streamed"), sae, train, scales, step.chunks(), 48, DataRecord.teacher());
            for (String f : new String[]{"model.safetensors", "state.safetensors", "checkpoint.json"})
                assertArrayEquals(Files.readAllBytes(dir.resolve("copied").resolve(f)), Files.readAllBytes(dir.resolve("streamed").resolve(f)), f);
            TrainState back = Checkpoint.load(dir.resolve("streamed")).state();
            assertArrayEquals(snap.params().wEnc(), back.params().wEnc());
            assertArrayEquals(snap.adamV().wDec(), back.adamV().wDec());
            assertArrayEquals(snap.sinceFired(), back.sinceFired());
            assertEquals(2, back.step());
        }
    }

    /**
     * A checkpoint loaded lazily goes to the device chunk by chunk straight from its mapped files:
     * with host arrays capped below M·d (so any whole host copy of a weight would be refused) and a
     * staging buffer that cuts rows, a step started from it writes back the same bytes and trains on.
     */
    @Test
    void aStoredStateIsUploadedInChunksWithoutAHostArray(@TempDir Path dir) throws IOException {
        CheckCase c = CheckCase.of(24, 37, 53, 4, 0.5f, 23);
        SaeConfig sae = new SaeConfig(c.d(), c.m(), c.k(), c.beta(), c.auxK(), SaeConfig.DEFAULT_AUX_ALPHA, 2L * c.n());
        TrainConfig train = new TrainConfig(5, c.n(), Float.NaN, 1, LrDecay.LINEAR, 3, 0, 1, false, 1000);
        Scales scales = new Scales(0.5f, 2f);
        CudaBackend gpu = Gpu.backend(Precision.F32);
        var batch = new CheckCase(c.n(), c.d(), c.m(), c.k(), c.beta(), c.auxK(), 70).batch();
        float lr = sae.defaultLearningRate();
        TrainState next;
        try (TrainingStep step = gpu.open(sae, TrainState.fresh(c.params()))) {
            step.step(batch, lr);
            Checkpoint.save(dir.resolve("a"), sae, train, scales, step.chunks(), 48, DataRecord.teacher());
            step.step(batch, lr);
            next = step.snapshot();
        }
        int stage = DeviceState.stageBytes;
        DeviceState.stageBytes = 4 * c.d() * 3 + 12;
        try {
            ArrayLimit.during((long) c.m() * c.d() - 1, () -> {
                Checkpoint loaded = Checkpoint.load(dir.resolve("a"));
                UserError refused = assertThrows(UserError.class, loaded::state);
                assertTrue(refused.getMessage().contains("--backend cuda"), refused.getMessage());
                try (TrainingStep step = gpu.start(sae, loaded.start())) {
                    Checkpoint.save(dir.resolve("b"), sae, train, scales, step.chunks(), 48, DataRecord.teacher());
                    step.step(batch, lr);
                    Checkpoint.save(dir.resolve("c"), sae, train, scales, step.chunks(), 72, DataRecord.teacher());
                }
            });
        } finally {
            DeviceState.stageBytes = stage;
        }
        for (String f : new String[]{"model.safetensors", "state.safetensors", "checkpoint.json"})
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
        TrainState after = Checkpoint.load(dir.resolve("c")).state();
        assertArrayEquals(next.params().wEnc(), after.params().wEnc(), "the resumed step trains as the uninterrupted one");
        assertArrayEquals(next.adamV().wDec(), after.adamV().wDec());
        assertArrayEquals(next.sinceFired(), after.sinceFired());
        assertEquals(2, after.step());
    }

    /** A NaN in a stored checkpoint is found while it is uploaded, and named. */
    @Test
    void aNonFiniteStoredStateIsRefusedOnUpload(@TempDir Path dir) {
        CheckCase c = CheckCase.of(24, 37, 53, 4, 0.5f, 24);
        SaeConfig sae = SaeConfig.of(c.d(), c.m(), c.k(), c.beta());
        TrainConfig train = new TrainConfig(5, c.n(), Float.NaN, 1, LrDecay.LINEAR, 3, 0, 1, false, 1000);
        TrainState s = TrainState.fresh(c.params());
        s.adamM().wDec()[c.d() * 40 + 3] = Float.POSITIVE_INFINITY;
        new Checkpoint(sae, train, Scales.NONE, s, 0, DataRecord.teacher()).save(dir);
        Checkpoint loaded = Checkpoint.load(dir);
        var e = assertThrows(RuntimeException.class, () -> Gpu.backend(Precision.F32).start(sae, loaded.start()).close());
        assertTrue(e.getMessage().contains("tensor 'adam_m.W_dec' holds Infinity at element " + (c.d() * 40 + 3)), e.getMessage());
    }

    /** An adopted state is the host side of state(): refreshed in place, no second host copy; an opened one is left alone. */
    @Test
    void stateReusesTheAdoptedArrays() {
        CheckCase c = CheckCase.of(24, 37, 53, 4, 0.5f, 22);
        SaeConfig sae = SaeConfig.of(c.d(), c.m(), c.k(), c.beta());
        TrainState adopted = TrainState.fresh(c.params()), opened = TrainState.fresh(c.params()), before = opened.copy();
        CudaBackend gpu = Gpu.backend(Precision.F32);
        try (TrainingStep a = gpu.adopt(sae, adopted); TrainingStep o = gpu.open(sae, opened)) {
            for (int s = 0; s < 2; s++) {
                var batch = new CheckCase(c.n(), c.d(), c.m(), c.k(), c.beta(), c.auxK(), 60 + s).batch();
                a.step(batch, sae.defaultLearningRate());
                o.step(batch, sae.defaultLearningRate());
            }
            TrainState state = a.state(), snap = a.snapshot();
            assertSame(adopted.params().wEnc(), state.params().wEnc());
            assertSame(adopted.adamV().wDec(), state.adamV().wDec());
            assertArrayEquals(snap.params().wEnc(), state.params().wEnc());
            assertArrayEquals(snap.adamM().bEnc(), state.adamM().bEnc());
            assertArrayEquals(snap.sinceFired(), state.sinceFired());
            assertEquals(2, state.step());
            TrainState fromOpened = o.state();
            assertArrayEquals(snap.params().wDec(), fromOpened.params().wDec());
            assertArrayEquals(before.params().wDec(), opened.params().wDec(), "open() copies: the caller's arrays stay as they were");
            assertSame(fromOpened.params().wDec(), o.state().params().wDec(), "one host mirror, reused");
        }
    }

    /** Chunks that cut rows anywhere, and one larger than the staging buffer, read the device bytes exactly. */
    @Test
    void chunksNeedNotAlignWithRowsOrTheStagingBuffer() {
        int d = 64, m = DeviceState.stageBytes / (4 * d) + 97; // W_enc is 97 rows over one staging buffer
        Params p = Params.zeros(d, m);
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < p.wEnc().length; i++) p.wEnc()[i] = (float) rng.nextGaussian();
        TrainState init = TrainState.fresh(p);
        for (int i = 0; i < m; i++) init.sinceFired()[i] = rng.nextLong(1L << 40);
        SaeConfig sae = SaeConfig.of(d, m, 4, 0f);
        try (TrainingStep step = Gpu.backend(Precision.F32).open(sae, init); Arena arena = Arena.ofConfined()) {
            StateChunks s = step.chunks();
            MemorySegment expected = MemorySegment.ofArray(p.wEnc());
            for (long chunk : new long[]{1000, 4L * d + 12, s.params().wEnc().byteSize()})
                assertEquals(-1, MemorySegment.mismatch(read(s.params().wEnc(), chunk, arena), 0, expected.byteSize(), expected, 0,
                        expected.byteSize()), "chunks of " + chunk + " bytes");
            MemorySegment since = read(s.sinceFired(), 24, arena);
            assertArrayEquals(init.sinceFired(), since.toArray(ValueLayout.JAVA_LONG));
        }
    }

    private static MemorySegment read(ChunkedTensor t, long chunk, Arena arena) {
        MemorySegment all = arena.allocate(t.byteSize(), 8);
        for (long at = 0; at < t.byteSize(); at += chunk) {
            long len = Math.min(chunk, t.byteSize() - at);
            t.chunks().read(at, all.asSlice(at, len));
        }
        return all;
    }

    /** Sizes at 2³¹ − 1 elements, checked without allocating: the device side counts in long, host Params refuse with the limit. */
    @Test
    void weightsAroundTwoToThe31Elements() {
        int d = 4096, below = Integer.MAX_VALUE / d, above = below + 1;
        assertEquals((long) below * d, DeviceParams.weightElements(d, below));
        assertTrue(DeviceParams.weightElements(d, above) > Integer.MAX_VALUE);
        assertEquals(4L << 30, DeviceParams.weightElements(d, 1 << 20), "d = 4,096, M = 1M: 2³² elements");
        Sizes.hostArray("latents", "latents", (int) (Sizes.MAX_ARRAY / d), d);
        var e = assertThrows(RuntimeException.class, () -> Sizes.hostArray("latents", "latents", above, d));
        assertTrue(e.getMessage().contains("latents") && e.getMessage().contains("2,147,483,639"), e.getMessage());
    }
}
