package gsae.cli;

import gsae.api.DataSources;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.train.EvalReport;
import gsae.train.MetricsLog;
import gsae.train.SyntheticSource;
import gsae.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {

    /** Training data for the CLI without the teacher: a small synthetic stream (d = 10). */
    static final DataSources SYNTHETIC = new DataSources() {
        @Override
        public BatchSource teacher(long seed) {
            return new SyntheticSource(10, 6, seed);
        }

        @Override
        public BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite) {
            return new SyntheticSource(10, 6, seed + paths.size());
        }
    };

    record Run(int code, String out, String err) {}

    static Run gsae(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main(SYNTHETIC));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Run r, String expected) {
        assertEquals(Main.USER_ERROR, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "one line, no stack trace: " + r.err());
        assertTrue(r.err().startsWith("gsae: "), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"train", "eval", "export", "step", "info", "bench", "demo", "selftest"})
    void everyCommandHasHelp(String command) {
        Run r = gsae(command, "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("Usage: gsae " + command), r.out());
    }

    @Test
    void topLevelHelpAndVersion() {
        Run help = gsae("--help");
        assertEquals(0, help.code());
        for (String c : List.of("train", "eval", "export", "step", "info", "bench", "demo", "selftest")) assertTrue(help.out().contains(c), c);
        Run v = gsae("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("gsae " + Main.VERSION), v.out());
        assertEquals(Main.USER_ERROR, gsae().code(), "no verb is a usage error");
    }

    @Test
    void badOptionsAreOneLine() {
        assertOneLineError(gsae("train", "--out", "x", "--bogus"), "--bogus");
        assertOneLineError(gsae("train", "--latents", "4"), "--out");
        assertOneLineError(gsae("train", "--out", "x", "--steps", "many"), "--steps");
        assertOneLineError(gsae("bench", "--backend", "gpu"), "--backend");
    }

    @Test
    void impossibleSettingsAreOneLine(@TempDir Path tmp) {
        assertOneLineError(gsae("train", "--out", tmp.resolve("a").toString(), "--latents", "2", "--k", "4", "--steps", "2", "--batch", "8",
                "--backend", "reference", "--quiet"), "--k 4 must be ≤ --latents 2");
        assertOneLineError(gsae("train", "--out", tmp.resolve("b").toString(), "--k", "4", "--backend", "reference"), "--latents and --k");
        assertOneLineError(gsae("train", "--out", tmp.resolve("c").toString(), "--resume", "--backend", "reference"), "no such checkpoint folder");
    }

    @Test
    void trainWritesCheckpointMetricsAndCurvesThenResumes(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        String[] args = {"train", "--out", out.toString(), "--latents", "24", "--k", "3", "--beta", "0.5", "--steps", "6", "--batch", "16",
                "--checkpoint-every", "4", "--backend", "reference", "--threads", "1", "--quiet"};
        Run r = gsae(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("trained g-SAE"), r.out());
        Checkpoint c = Checkpoint.load(out.resolve(Trainer.CHECKPOINT));
        assertEquals(6, c.step());
        assertEquals("teacher", c.data().description());
        assertEquals(10, c.sae().d());
        assertEquals(0, c.train().warmupSteps(), "warm-up default: min(1000, steps / 10)");
        assertTrue(Files.isRegularFile(out.resolve(WatchedRun.CURVES)));
        List<Map<String, Double>> rows = MetricsLog.read(out.resolve(Trainer.METRICS));
        assertEquals(6, rows.size());
        assertEquals(6.0 * 16, rows.get(5).get("tokens"));

        assertOneLineError(gsae(args), "already holds a checkpoint");
        assertOneLineError(gsae("train", "--out", out.toString(), "--resume", "--latents", "99"), "--latents 99 differs");
        assertOneLineError(gsae("train", "--out", out.toString(), "--resume", "--data", "x.npy", "--backend", "reference"), "trained on teacher");
        Run again = gsae("train", "--out", out.toString(), "--resume", "--backend", "reference", "--quiet");
        assertEquals(0, again.code(), again.err());
        assertEquals(6, MetricsLog.read(out.resolve(Trainer.METRICS)).size(), "a finished run resumes to the same end");
    }

    @Test
    void infoNamesEveryBackend() {
        Run r = gsae("info");
        assertEquals(0, r.code(), r.err());
        for (String s : List.of("java", "cores", "vector", "reference", "cpu", "dense", "cuda")) assertTrue(r.out().contains(s), s + " in\n" + r.out());
        assertTrue(r.out().contains("bits ="), "the Vector API is present under test: " + r.out());
    }

    @Test
    void benchPrintsThroughput() {
        Run r = gsae("bench", "--backend", "reference", "--d", "8", "--latents", "16", "--k", "2", "--batch", "16", "--steps", "3",
                "--warmup-steps", "1", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("tokens/s ")).findFirst().orElseThrow();
        assertTrue(Double.parseDouble(line.substring("tokens/s ".length())) > 0, line);
        assertTrue(r.out().contains("ms median"), r.out());
    }

    /** The fused CPU path reports what pruning did; --no-prune turns it off and needs that path (issue #14). */
    @Test
    void benchPruningCanBeTurnedOff() {
        // d = 512: the fused path prunes from d = 512 on
        String[] shape = {"--d", "512", "--latents", "64", "--k", "2", "--batch", "16", "--steps", "2", "--warmup-steps", "0", "--threads", "1", "--beta", "1"};
        Run pruned = gsae(concat(new String[]{"bench", "--backend", "cpu"}, shape));
        assertEquals(0, pruned.code(), pruned.err());
        assertTrue(pruned.out().contains("pruning: "), pruned.out());
        Run unpruned = gsae(concat(new String[]{"bench", "--backend", "cpu", "--no-prune"}, shape));
        assertEquals(0, unpruned.code(), unpruned.err());
        assertTrue(unpruned.out().contains("tokens/s ") && !unpruned.out().contains("pruning: "), unpruned.out());
        assertOneLineError(gsae(concat(new String[]{"bench", "--backend", "reference", "--no-prune"}, shape)), "--no-prune");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void demoTableLaysOutBothRunsSideBySide() {
        Map<String, EvalReport.Recovery> rec = Map.of("quiet_decisive", new EvalReport.Recovery(32, 0.95, 0.8125),
                "loud_inert", new EvalReport.Recovery(32, 0.5, 0.125));
        Map<String, EvalReport> runs = new LinkedHashMap<>();
        runs.put("TopK", new EvalReport(4096, 0.1234, 16, 0.02, new EvalReport.Downstream(1.0, 1.25, 3.0, 0.25, 0.875, 0.0312), rec));
        runs.put("g-SAE", new EvalReport(4096, 0.15, 15.5, 0.5, null, null));
        DemoTable t = new DemoTable(runs);
        List<String> lines = t.render().lines().toList();
        assertEquals(1 + 6 + DemoTable.FAMILIES.size(), lines.size(), t.render());
        assertTrue(lines.get(0).trim().matches("TopK\\s+g-SAE"), lines.get(0));
        assertTrue(lines.get(1).matches("FVU\\s+0\\.1234\\s+0\\.1500"), lines.get(1));
        assertTrue(lines.get(4).matches("loss recovered\\s+87\\.5%\\s+–"), lines.get(4));
        assertTrue(lines.get(6).matches("dead fraction\\s+2\\.0%\\s+50\\.0%"), lines.get(6));
        assertTrue(lines.get(7).matches("quiet_decisive recovered \\(cos > 0\\.9\\)\\s+81\\.3% \\(mean cos 0\\.950\\)\\s+–"), lines.get(7));
        int width = lines.get(0).length();
        for (String l : lines) assertEquals(width, l.length(), "columns align: " + l);
        assertTrue(t.json().contains("\"lossRecovered\" : 0.875"), t.json());
    }
}
