package gsae.cli;

import gsae.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real pieces wired together as a user meets them: train on the teacher, evaluate, export. */
class EndToEndTest {

    private static CliTest.Run gsae(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliTest.Run(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void trainOnTheTeacherThenEvaluateAndExport(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        CliTest.Run train = gsae("train", "--latents", "96", "--k", "4", "--beta", "1", "--steps", "6", "--batch", "64",
                "--backend", "cpu", "--threads", "2", "--out", run.toString(), "--quiet");
        assertEquals(0, train.code(), train.err());
        assertTrue(Files.exists(run.resolve("curves.png")));

        CliTest.Run eval = gsae("eval", "--checkpoint", run.resolve("checkpoint").toString(), "--tokens", "512", "--backend", "cpu", "--json");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("\"lossRecovered\""), eval.out());
        assertTrue(eval.out().contains("\"quiet_decisive\""), eval.out());

        for (String format : new String[]{"sparsify", "saelens"}) {
            Path out = dir.resolve(format);
            CliTest.Run export = gsae("export", "--checkpoint", run.resolve("checkpoint").toString(), "--format", format, "--out", out.toString());
            assertEquals(0, export.code(), export.err());
            Path weights = out.resolve(format.equals("sparsify") ? "sae.safetensors" : "sae_weights.safetensors");
            try (SafeTensors st = SafeTensors.open(weights)) {
                assertArrayEquals(new long[]{96, 64}, st.get("W_dec").shape());
                String enc = format.equals("sparsify") ? "encoder.weight" : "W_enc";
                assertArrayEquals(format.equals("sparsify") ? new long[]{96, 64} : new long[]{64, 96}, st.get(enc).shape());
            }
            assertTrue(Files.readString(out.resolve("cfg.json")).contains("\"beta\""));
        }
    }

    @Test
    void demoPrintsTheComparisonAndWritesItsFiles(@TempDir Path dir) throws Exception {
        CliTest.Run demo = gsae("demo", "--out", dir.toString(), "--steps", "20", "--backend", "cpu", "--quiet");
        assertEquals(0, demo.code(), demo.err());
        for (String row : new String[]{"FVU", "loss recovered", "KL(clean ‖ spliced)", "quiet_decisive", "loud_inert"})
            assertTrue(demo.out().contains(row), row + " missing from:\n" + demo.out());
        assertTrue(demo.out().contains("TopK (β=0)") && demo.out().contains("no g at eval"), demo.out());
        assertTrue(Files.readString(dir.resolve("demo.json")).contains("\"runs\""));
        assertTrue(Files.exists(dir.resolve("topk").resolve("curves.png")) && Files.exists(dir.resolve("gsae").resolve("curves.png")));
    }

    @Test
    void evalOfAMissingCheckpointIsOneLine(@TempDir Path dir) {
        CliTest.Run eval = gsae("eval", "--checkpoint", dir.resolve("nothing").toString());
        assertEquals(Main.USER_ERROR, eval.code());
        assertEquals(1, eval.err().lines().count(), eval.err());
    }

    /**
     * --parallel latents in one process (a group of one): the checkpoint is written per shard; export
     * reads it gathered; --resume without --parallel at the same step rewrites it in the one-file
     * layout, whose export is the same bytes.
     */
    @Test
    void aLatentShardedCheckpointExportsAndResumesInOneProcess(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run"), ckpt = run.resolve("checkpoint");
        CliTest.Run train = gsae("train", "--parallel", "latents", "--latents", "50", "--k", "4", "--beta", "1", "--steps", "4",
                "--batch", "64", "--backend", "cpu", "--threads", "1", "--out", run.toString(), "--quiet");
        assertEquals(0, train.code(), train.err());
        assertTrue(Files.isRegularFile(ckpt.resolve("shard-00000-of-00001.safetensors")), "one shard file");
        assertTrue(!Files.exists(ckpt.resolve("model.safetensors")), "no one-file model");
        CliTest.Run sharded = gsae("export", "--checkpoint", ckpt.toString(), "--format", "sparsify", "--out", dir.resolve("a").toString());
        assertEquals(0, sharded.code(), sharded.err());

        CliTest.Run resume = gsae("train", "--resume", "--steps", "4", "--out", run.toString(), "--quiet");
        assertEquals(0, resume.code(), resume.err());
        assertTrue(Files.isRegularFile(ckpt.resolve("model.safetensors")), "rewritten by one process in the one-file layout");
        CliTest.Run single = gsae("export", "--checkpoint", ckpt.toString(), "--format", "sparsify", "--out", dir.resolve("b").toString());
        assertEquals(0, single.code(), single.err());
        for (String f : new String[]{"sae.safetensors", "cfg.json"})
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
    }
}
