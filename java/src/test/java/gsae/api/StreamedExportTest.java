package gsae.api;

import gsae.comm.LocalRanks;
import gsae.config.ArrayLimit;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.CheckpointTest;
import gsae.io.ShardedCheckpoint;
import gsae.ops.LatentShard;
import gsae.ops.StateChunks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint whose weights exceed one host array (host arrays capped below M·d here, as a CUDA
 * SAE past 2³¹ − 1 elements is at the real limit) exports in the sparsify layout straight from its
 * files, byte for byte what the export from host arrays writes; the SAELENS layout and inference,
 * which need host arrays, are refused naming the way around.
 */
class StreamedExportTest {

    @Test
    void sparsifyStreamsPastTheArrayLimitAndSaelensSaysSo(@TempDir Path tmp) throws IOException {
        Checkpoint c = CheckpointTest.sample(10, 3);
        c.save(tmp.resolve("ck"));
        Sae.load(tmp.resolve("ck")).export(ExportFormat.SPARSIFY, tmp.resolve("host"));
        long md = (long) c.sae().latents() * c.sae().d();
        Sae big = ArrayLimit.during(md - 1, () -> {
            Sae s = Sae.load(tmp.resolve("ck"));
            s.export(ExportFormat.SPARSIFY, tmp.resolve("streamed"));
            UserError e = assertThrows(UserError.class, () -> s.export(ExportFormat.SAELENS, tmp.resolve("saelens")));
            assertTrue(e.getMessage().startsWith("--format saelens: ") && e.getMessage().contains("--format sparsify"), e.getMessage());
            UserError infer = assertThrows(UserError.class, () -> s.encode(new float[2 * s.d()], 2));
            assertTrue(infer.getMessage().contains("elements, more than the"), infer.getMessage());
            return s;
        });
        assertFalse(Files.exists(tmp.resolve("saelens").resolve("sae_weights.safetensors")));
        new Checkpoint(c.sae(), c.train(), c.scales(), c.state(), c.dataPosition(), DataRecord.teacher()).save(tmp.resolve("teacher"));
        try (Engine cpu = Engine.of(CpuBackend.reference())) {
            UserError e = ArrayLimit.during(md - 1, () -> assertThrows(UserError.class, () -> Evaluation.load(tmp.resolve("teacher"))
                    .onTeacher(cpu, Evaluation.HELD_OUT_STREAM, 64, 32, true, System.err, "ck")));
            assertTrue(e.getMessage().startsWith("ck: M·d = ") && e.getMessage().contains("evaluation runs on host arrays"), e.getMessage());
        }
        for (String f : new String[]{"sae.safetensors", "cfg.json"})
            assertArrayEquals(Files.readAllBytes(tmp.resolve("host").resolve(f)), Files.readAllBytes(tmp.resolve("streamed").resolve(f)), f);
        assertEquals(c.sae().k(), big.encode(new float[2 * big.d()], 2).k(), "below the limit the same SAE reads its weights and infers");
    }

    /** A sharded checkpoint streams too: its shard files read as one state, a chunk at a time, to the single-file checkpoint's bytes. */
    @Test
    void aShardedCheckpointStreamsFromItsShards(@TempDir Path tmp) throws IOException {
        Checkpoint c = CheckpointTest.sample(10, 4);
        c.save(tmp.resolve("single"));
        LocalRanks.run(3, comm -> {
            StateChunks mine = StateChunks.of(c.state().slice(LatentShard.of(comm.rank(), comm.size(), c.sae().latents())));
            ShardedCheckpoint.save(tmp.resolve("sharded"), comm, c.sae(), c.train(), c.scales(), mine, c.dataPosition(), c.data());
            return null;
        });
        Sae.load(tmp.resolve("single")).export(ExportFormat.SPARSIFY, tmp.resolve("host"));
        long md = (long) c.sae().latents() * c.sae().d();
        ArrayLimit.during(md - 1, () -> Sae.load(tmp.resolve("sharded")).export(ExportFormat.SPARSIFY, tmp.resolve("streamed")));
        for (String f : new String[]{"sae.safetensors", "cfg.json"})
            assertArrayEquals(Files.readAllBytes(tmp.resolve("host").resolve(f)), Files.readAllBytes(tmp.resolve("streamed").resolve(f)), f);
    }
}
