package gsae.api;

import gsae.comm.LocalRanks;
import gsae.config.ArrayLimit;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.CheckpointTest;
import gsae.io.SafeTensors;
import gsae.io.ShardedCheckpoint;
import gsae.ops.LatentShard;
import gsae.ops.StateChunks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint whose weights exceed one host array (host arrays capped below M·d here, as a CUDA
 * SAE past 2³¹ − 1 elements is at the real limit) exports in the sparsify layout straight from its
 * files, and in the SAELens layout with W_enc transposed into the file a tile at a time, byte for byte
 * what the export from host arrays writes; inference, which needs host arrays, is refused naming the way around.
 */
class StreamedExportTest {

    @Test
    void exportsStreamPastTheArrayLimitAndInferenceSaysSo(@TempDir Path tmp) throws IOException {
        Checkpoint c = CheckpointTest.sample(10, 3);
        c.save(tmp.resolve("ck"));
        Sae.load(tmp.resolve("ck")).export(ExportFormat.SPARSIFY, tmp.resolve("host"));
        Sae.load(tmp.resolve("ck")).export(ExportFormat.SAELENS, tmp.resolve("host-saelens"));
        long md = (long) c.sae().latents() * c.sae().d();
        Sae big = ArrayLimit.during(md - 1, () -> {
            Sae s = Sae.load(tmp.resolve("ck"));
            s.export(ExportFormat.SPARSIFY, tmp.resolve("streamed"));
            s.export(ExportFormat.SAELENS, tmp.resolve("streamed-saelens"));
            UserError infer = assertThrows(UserError.class, () -> s.encode(new float[2 * s.d()], 2));
            assertTrue(infer.getMessage().contains("elements, more than the"), infer.getMessage());
            return s;
        });
        new Checkpoint(c.sae(), c.train(), c.scales(), c.state(), c.dataPosition(), DataRecord.teacher()).save(tmp.resolve("teacher"));
        try (Engine cpu = Engine.of(CpuBackend.reference())) {
            UserError e = ArrayLimit.during(md - 1, () -> assertThrows(UserError.class, () -> Evaluation.load(tmp.resolve("teacher"))
                    .onTeacher(cpu, Evaluation.HELD_OUT_STREAM, 64, 32, true, System.err, "ck")));
            assertTrue(e.getMessage().startsWith("ck: M·d = ") && e.getMessage().contains("evaluation runs on host arrays"), e.getMessage());
        }
        for (String f : new String[]{"sae.safetensors", "cfg.json"})
            assertArrayEquals(Files.readAllBytes(tmp.resolve("host").resolve(f)), Files.readAllBytes(tmp.resolve("streamed").resolve(f)), f);
        for (String f : new String[]{"sae_weights.safetensors", "cfg.json"})
            assertArrayEquals(Files.readAllBytes(tmp.resolve("host-saelens").resolve(f)), Files.readAllBytes(tmp.resolve("streamed-saelens").resolve(f)), f);
        int d = c.sae().d(), m = c.sae().latents();
        try (SafeTensors st = SafeTensors.open(tmp.resolve("streamed-saelens").resolve("sae_weights.safetensors"))) {
            float[] w = st.floats("W_enc", d, m), rows = c.state().params().wEnc();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < d; j++) assertEquals(rows[i * d + j], w[j * m + i], "W_enc[" + j + ", " + i + "]");
        }
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
        long md = (long) c.sae().latents() * c.sae().d();
        for (ExportFormat format : ExportFormat.values()) {
            Path host = tmp.resolve(format + "-host"), streamed = tmp.resolve(format + "-streamed");
            Sae.load(tmp.resolve("single")).export(format, host);
            ArrayLimit.during(md - 1, () -> Sae.load(tmp.resolve("sharded")).export(format, streamed));
            try (Stream<Path> files = Files.list(host)) {
                for (Path f : files.toList())
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(streamed.resolve(f.getFileName())), format + " " + f.getFileName());
            }
        }
    }
}
