package gsae.io;

import gsae.comm.LocalRanks;
import gsae.ops.LatentShard;
import gsae.ops.StateChunks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static gsae.io.CheckpointTest.M;
import static gsae.parallel.ShardedProblem.assertSameState;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sharded checkpoints (issue #15): written by P ranks ({@link LocalRanks}), read back into any
 * number of ranks or one process bit for bit, atomically replaced, and exported like a single-file
 * checkpoint of the same state. M = 7 latents: no P tried here divides it but 1 and 7.
 */
class ShardedCheckpointTest {

    /** Every rank of P saves its slice of {@code c}'s state into {@code dir}. */
    static void saveSharded(Checkpoint c, int ranks, Path dir) {
        LocalRanks.run(ranks, comm -> {
            LatentShard shard = LatentShard.of(comm.rank(), comm.size(), M);
            ShardedCheckpoint.save(dir, comm, c.sae(), c.train(), c.scales(), StateChunks.of(c.state().slice(shard)), c.dataPosition(), c.data());
            return null;
        });
    }

    @ParameterizedTest(name = "P={0}")
    @ValueSource(ints = {1, 2, 3, 7})
    void shardsGatherIntoTheWholeCheckpoint(int ranks, @TempDir Path tmp) throws IOException {
        Checkpoint c = CheckpointTest.sample(42, 1);
        Path dir = tmp.resolve("checkpoint");
        saveSharded(c, ranks, dir);
        CheckpointTest.assertSame(c, Checkpoint.load(dir));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(ranks + 1, files.count(), "checkpoint.json and one file per shard");
        }
        assertFalse(Files.exists(dir.resolve(Checkpoint.MODEL)), "no single-file model beside the shards");
        assertEquals(List.of(dir.toAbsolutePath()), Checkpoint.existing(dir), "no temporaries left");
    }

    /** A P = 2 checkpoint, and a single-file one, read as the shares of 1, 2, 3 and 7 ranks: each rank's exact slice. */
    @ParameterizedTest(name = "into {0} ranks")
    @ValueSource(ints = {1, 2, 3, 7})
    void loadsIntoAnyNumberOfRanks(int ranks, @TempDir Path tmp) {
        Checkpoint c = CheckpointTest.sample(17, 2);
        Path sharded = tmp.resolve("sharded"), single = tmp.resolve("single");
        saveSharded(c, 2, sharded);
        c.save(single);
        for (Path dir : List.of(sharded, single)) {
            for (int r = 0; r < ranks; r++) {
                LatentShard shard = LatentShard.of(r, ranks, M);
                ShardedCheckpoint.Part part = ShardedCheckpoint.load(dir, shard);
                assertEquals(shard, part.shard());
                assertEquals(c.sae(), part.sae());
                assertEquals(c.train(), part.train());
                assertEquals(c.scales(), part.scales());
                assertEquals(c.dataPosition(), part.dataPosition());
                assertEquals(c.data(), part.data());
                assertSameState(c.state().slice(shard), part.owned(), dir + " rank " + r + " of " + ranks);
            }
        }
    }

    @Test
    void replacesEitherLayoutAndLeavesNoTemporaries(@TempDir Path tmp) {
        Path dir = tmp.resolve("checkpoint");
        CheckpointTest.sample(3, 3).save(dir);
        Checkpoint second = CheckpointTest.sample(9, 4);
        saveSharded(second, 3, dir);
        CheckpointTest.assertSame(second, Checkpoint.load(dir));
        assertFalse(Files.exists(dir.resolve(Checkpoint.MODEL)), "the single-file layout's files went with the old folder");
        Checkpoint third = CheckpointTest.sample(12, 5);
        saveSharded(third, 2, dir);
        CheckpointTest.assertSame(third, Checkpoint.load(dir));
        assertFalse(Files.exists(dir.resolve(ShardedCheckpoint.fileName(2, 3))), "no shard of the P = 3 checkpoint is left");
        Checkpoint fourth = CheckpointTest.sample(20, 6);
        fourth.save(dir);
        CheckpointTest.assertSame(fourth, Checkpoint.load(dir));
        assertEquals(List.of(dir.toAbsolutePath()), Checkpoint.existing(dir));
    }

    @Test
    void crashMidSaveKeepsThePreviousCheckpoint(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("checkpoint");
        Checkpoint first = CheckpointTest.sample(5, 7);
        saveSharded(first, 2, dir);
        // a crash while the ranks wrote their shards: DIR.tmp holds one shard and no checkpoint.json
        Path partial = Checkpoint.sibling(dir, ".tmp");
        Files.createDirectories(partial);
        Files.copy(dir.resolve(ShardedCheckpoint.fileName(0, 2)), partial.resolve(ShardedCheckpoint.fileName(0, 2)));
        CheckpointTest.assertSame(first, Checkpoint.load(dir));
        // a crash between the renames: DIR moved to DIR.old, DIR.tmp not yet in place
        Files.move(dir, Checkpoint.sibling(dir, ".old"));
        CheckpointTest.assertSame(first, Checkpoint.load(dir));
        assertSameState(first.state().slice(LatentShard.of(1, 3, M)), ShardedCheckpoint.load(dir, LatentShard.of(1, 3, M)).owned(), "from .old");
        // the next save cleans both up
        Checkpoint next = CheckpointTest.sample(8, 8);
        saveSharded(next, 2, dir);
        CheckpointTest.assertSame(next, Checkpoint.load(dir));
        assertEquals(List.of(dir.toAbsolutePath()), Checkpoint.existing(dir));
        assertFalse(Files.exists(partial));
    }

    @Test
    void aMissingOrForeignShardIsOneLineNamingTheFile(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("checkpoint"), other = tmp.resolve("other");
        Checkpoint c = CheckpointTest.sample(5, 9);
        saveSharded(c, 3, dir);
        saveSharded(c, 2, other);
        Path shard1 = dir.resolve(ShardedCheckpoint.fileName(1, 3));
        Files.delete(shard1);
        DataException missing = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(missing.getMessage().startsWith(shard1.toString()), missing.getMessage());
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
        // a shard of a P = 2 checkpoint renamed into the P = 3 one: its metadata gives it away
        Files.copy(other.resolve(ShardedCheckpoint.fileName(1, 2)), shard1);
        DataException foreign = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(foreign.getMessage().startsWith(shard1.toString()), foreign.getMessage());
        assertTrue(foreign.getMessage().contains("metadata 'first_latent'"), foreign.getMessage());
    }

    /** gsae export reads a checkpoint through Checkpoint.load: a sharded one exports to the same bytes as a single-file one. */
    @ParameterizedTest(name = "P={0}")
    @ValueSource(ints = {2, 3})
    void exportsTheSameFilesAsOneProcess(int ranks, @TempDir Path tmp) throws IOException {
        Checkpoint c = CheckpointTest.sample(30, 10);
        Path single = tmp.resolve("single"), sharded = tmp.resolve("sharded");
        c.save(single);
        saveSharded(c, ranks, sharded);
        for (Export.Format format : Export.Format.values()) {
            Path a = tmp.resolve(format + "-single"), b = tmp.resolve(format + "-sharded");
            for (Path[] from : new Path[][]{{single, a}, {sharded, b}}) {
                Checkpoint loaded = Checkpoint.load(from[0]);
                Export.write(format, loaded.state().params(), loaded.sae(), loaded.scales(), new Export.Origin(loaded.data().source(), null), from[1]);
            }
            try (Stream<Path> files = Files.list(a)) {
                for (Path f : files.toList())
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(f.getFileName())), format + " " + f.getFileName());
            }
        }
    }
}
