package gsae.io;

import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.TrainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class CheckpointTest {

    static final int D = 5, M = 7;

    public static Checkpoint sample(long step, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = random(rng), m = random(rng), v = random(rng);
        long[] since = new long[M];
        for (int i = 0; i < M; i++) since[i] = rng.nextLong(1L << 40);
        SaeConfig sae = new SaeConfig(D, M, 3, 0.37f, 2, 1f / 32, 123_456_789L);
        TrainConfig train = new TrainConfig(100, 16, Float.NaN, 10, LrDecay.LINEAR, -5, 25, 3, true, 4096);
        return new Checkpoint(sae, train, new Scales(0.1f + (float) rng.nextDouble(), 1.7f), new TrainState(p, m, v, step, since), step * 16,
                new DataRecord("shards: /data/h", List.of(new DataRecord.ShardPrint("shard-00000.safetensors", 4096, "ab".repeat(32))),
                        new Manifest("gpt2", "transformer.h.3", 128, true, "/data/text.txt")));
    }

    static Params random(SplittableRandom rng) {
        Params p = Params.zeros(D, M);
        for (float[] a : new float[][]{p.wEnc(), p.bEnc(), p.wDec(), p.bDec()})
            for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
        return p;
    }

    static void assertSame(Checkpoint want, Checkpoint got) {
        assertEquals(want.sae(), got.sae());
        assertEquals(want.train(), got.train());
        assertEquals(want.scales(), got.scales());
        assertEquals(want.step(), got.step());
        assertEquals(want.dataPosition(), got.dataPosition());
        assertEquals(want.data(), got.data());
        assertArrayEquals(want.state().sinceFired(), got.state().sinceFired());
        for (Params[] pair : new Params[][]{{want.state().params(), got.state().params()}, {want.state().adamM(), got.state().adamM()},
                {want.state().adamV(), got.state().adamV()}}) {
            assertArrayEquals(pair[0].wEnc(), pair[1].wEnc());
            assertArrayEquals(pair[0].bEnc(), pair[1].bEnc());
            assertArrayEquals(pair[0].wDec(), pair[1].wDec());
            assertArrayEquals(pair[0].bDec(), pair[1].bDec());
        }
    }

    @Test
    void roundTripsEveryFieldBitForBit(@TempDir Path tmp) {
        Checkpoint c = sample(40, 1);
        c.save(tmp.resolve("ck"));
        assertSame(c, Checkpoint.load(tmp.resolve("ck")));
        try (SafeTensors model = SafeTensors.open(tmp.resolve("ck/model.safetensors"))) {
            assertEquals(java.util.Set.of("encoder.weight", "encoder.bias", "W_dec", "b_dec"), model.tensors().keySet(), "sparsify names");
        }
    }

    @Test
    void replacingLeavesNoTemporaries(@TempDir Path tmp) {
        Path dir = tmp.resolve("ck");
        sample(10, 1).save(dir);
        Checkpoint second = sample(20, 2);
        second.save(dir);
        assertSame(second, Checkpoint.load(dir));
        assertFalse(Files.exists(tmp.resolve("ck.tmp")));
        assertFalse(Files.exists(tmp.resolve("ck.old")));
    }

    @Test
    void crashWhileWritingTheTemporaryKeepsThePreviousOne(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("ck");
        Checkpoint first = sample(10, 1);
        first.save(dir);
        Files.createDirectories(tmp.resolve("ck.tmp"));
        Files.write(tmp.resolve("ck.tmp/model.safetensors"), new byte[]{1, 2, 3});
        assertSame(first, Checkpoint.load(dir));
        Checkpoint second = sample(20, 2);
        second.save(dir);
        assertSame(second, Checkpoint.load(dir));
    }

    @Test
    void crashBetweenTheTwoRenamesFallsBackToOld(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("ck");
        Checkpoint first = sample(10, 1);
        first.save(dir);
        Files.move(dir, tmp.resolve("ck.old"));
        sample(20, 2).save(tmp.resolve("elsewhere"));
        Files.move(tmp.resolve("elsewhere"), tmp.resolve("ck.tmp"));
        Files.delete(tmp.resolve("ck.tmp/checkpoint.json"));
        assertSame(first, Checkpoint.load(dir));

        Checkpoint third = sample(30, 3);
        third.save(dir);
        assertSame(third, Checkpoint.load(dir));
        assertFalse(Files.exists(tmp.resolve("ck.old")), "the stale .old is cleaned once a new checkpoint is complete");
    }

    @Test
    void damagedCheckpointFallsBackToOldOrSaysWhichFile(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("ck");
        Checkpoint first = sample(10, 1);
        first.save(dir);
        Path state = dir.resolve("state.safetensors");
        Files.write(state, new byte[]{9, 9, 9, 9});
        DataException e = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().startsWith(state.toString()), e.getMessage());

        sample(10, 1).save(tmp.resolve("good"));
        Files.move(tmp.resolve("good"), tmp.resolve("ck.old"));
        assertSame(first, Checkpoint.load(dir));
    }

    @Test
    void missingOrForeignMetadataIsOneLine(@TempDir Path tmp) throws IOException {
        DataException none = assertThrows(DataException.class, () -> Checkpoint.load(tmp.resolve("nothing")));
        assertTrue(none.getMessage().contains("no such checkpoint folder"), none.getMessage());

        Path dir = tmp.resolve("ck");
        sample(10, 1).save(dir);
        Path meta = dir.resolve("checkpoint.json");
        Files.writeString(meta, Files.readString(meta).replace("\"format_version\" : 1", "\"format_version\" : 99"));
        DataException version = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(version.getMessage().contains("format_version 99"), version.getMessage());

        Files.writeString(meta, "{\"format_version\": 1}");
        DataException missing = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(missing.getMessage().contains("missing field 'sae.d'"), missing.getMessage());
        assertFalse(missing.getMessage().contains("\n"));
    }
}
