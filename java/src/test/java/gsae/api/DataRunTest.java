package gsae.api;

import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.train.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole-run entry points of gsae.api that the command line uses: DataRun, Engine, Evaluation's loading. */
class DataRunTest {

    static final DataSources SYNTHETIC = new DataSources() {
        @Override
        public BatchSource teacher(long seed) {
            return new SyntheticSource(12, 8, seed);
        }

        @Override
        public BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite) {
            throw new UnsupportedOperationException("no shards in this test");
        }
    };

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static DataRun.Options options(int steps, float beta) {
        return new DataRun.Options(32, 4, beta, steps, 32, 1e-2f, 2, Decay.NONE, 5L, 2, 1, null, null, 64L, false);
    }

    private static DataRun.Outcome train(Path out, DataRun.Options o, boolean resume, DataRun.Listener l) {
        try (DataRun run = DataRun.open(out, o, resume, false, null, false, SYNTHETIC, QUIET);
             Engine reference = Engine.open(SaeBackend.REFERENCE, run.threads(), QUIET, false)) {
            return run.train(reference, need -> assertTrue(need > 0), l);
        }
    }

    @Test
    void aStoppedRunResumedEqualsTheUninterruptedOne(@TempDir Path dir) throws IOException {
        List<String> events = new ArrayList<>();
        DataRun.Listener record = new DataRun.Listener() {
            @Override
            public void started(DataRun.Plan p) {
                events.add("start " + p.done() + "/" + p.steps() + " M=" + p.latents() + " k=" + p.k() + " beta=" + p.beta());
            }

            @Override
            public void stepped(Metrics m, double tokensPerSecond) {
                events.add("step " + m.step());
            }

            @Override
            public void saved(long step) {
                events.add("saved " + step);
            }
        };
        DataRun.Outcome whole = train(dir.resolve("whole"), options(6, 0.5f), false, record);
        assertEquals(List.of("start 0/6 M=32 k=4 beta=0.5", "step 1", "step 2", "saved 2", "step 3", "step 4", "saved 4", "step 5", "step 6",
                "saved 6"), events);
        assertEquals(6, whole.step());
        assertTrue(whole.gradientAware());
        assertNotNull(whole.last());
        assertEquals(6, whole.last().step());
        assertEquals("M=32, k=4, beta=0.5", whole.evaluation().describeSae());

        train(dir.resolve("split"), options(3, 0.5f), false, new DataRun.Listener() {});
        DataRun.Options more = new DataRun.Options(null, null, null, 6, null, null, null, null, null, null, null, null, null, null, null);
        DataRun.Outcome resumed = train(dir.resolve("split"), more, true, new DataRun.Listener() {});
        assertEquals(6, resumed.step());
        assertArrayEquals(Files.readAllBytes(dir.resolve("whole").resolve(DataRun.CHECKPOINT).resolve("model.safetensors")),
                Files.readAllBytes(dir.resolve("split").resolve(DataRun.CHECKPOINT).resolve("model.safetensors")));
        assertEquals(6, DataRun.readMetrics(dir.resolve("split").resolve(DataRun.METRICS)).size());
    }

    @Test
    void resumingWithAnotherBetaOrStartingOverACheckpointIsRefused(@TempDir Path dir) {
        train(dir, options(2, 0.5f), false, new DataRun.Listener() {});
        DataRun.Options otherBeta = new DataRun.Options(null, null, 1f, null, null, null, null, null, null, null, null, null, null, null, null);
        UserError e = assertThrows(UserError.class, () -> train(dir, otherBeta, true, new DataRun.Listener() {}));
        assertEquals("--resume: --beta 1.0 differs from the checkpoint's 0.5; drop it to continue the run as it was", e.getMessage());
        UserError again = assertThrows(UserError.class, () -> train(dir, options(2, 0.5f), false, new DataRun.Listener() {}));
        assertTrue(again.getMessage().contains("already holds a checkpoint"), again.getMessage());
    }

    @Test
    void aFreshRunNeedsLatentsAndK(@TempDir Path dir) {
        DataRun.Options none = new DataRun.Options(null, 4, 0f, 2, 32, null, null, null, null, null, 1, null, null, null, null);
        UserError e = assertThrows(UserError.class, () -> train(dir, none, false, new DataRun.Listener() {}));
        assertEquals("a fresh run needs --latents and --k", e.getMessage());
    }

    @Test
    void exportLaysTheGivenOriginOverTheRecordedOne(@TempDir Path dir) throws IOException {
        train(dir.resolve("run"), options(2, 0f), false, new DataRun.Listener() {});
        Sae sae = Sae.load(dir.resolve("run").resolve(DataRun.CHECKPOINT));
        sae.export(ExportFormat.SAELENS, dir.resolve("plain"));
        sae.export(ExportFormat.SAELENS, dir.resolve("named"), new ExportOrigin("gpt2", "transformer.h.7", null, 128, null, null));
        String plain = Files.readString(dir.resolve("plain").resolve("cfg.json")), named = Files.readString(dir.resolve("named").resolve("cfg.json"));
        assertTrue(plain.contains("\"model_name\" : \"\""), plain);
        assertTrue(named.contains("\"model_name\" : \"gpt2\"") && named.contains("\"hook_name\" : \"transformer.h.7\"")
                && named.contains("\"hook_layer\" : 7") && named.contains("\"context_size\" : 128"), named);
    }

    @Test
    void theDenseBaselineKeepsTheDeviceFamily() {
        assertEquals(SaeBackend.CUDA_DENSE, SaeBackend.CUDA.dense());
        assertEquals(SaeBackend.DENSE, SaeBackend.CPU.dense());
        assertEquals(SaeBackend.DENSE, SaeBackend.AUTO.dense());
    }
}
