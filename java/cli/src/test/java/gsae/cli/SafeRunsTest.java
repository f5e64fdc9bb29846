package gsae.cli;

import gsae.io.Checkpoint;
import gsae.io.Manifest;
import gsae.io.RunLock;
import gsae.io.SafeTensors;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import gsae.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static gsae.cli.CliTest.assertOneLineError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs that cannot be damaged by accident: one run per folder, no lost checkpoints, no resume on other data. */
class SafeRunsTest {

    static final int D = 6, ROWS = 64;

    @TempDir
    Path tmp;

    /** gsae with the real data sources (shards from disk). */
    static CliTest.Run gsae(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliTest.Run(cl.execute(args), out.toString(), err.toString());
    }

    /** A harvest-like shard: activations, gradients, and the integer side tensors the harvester adds. */
    static void shard(Path file, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[ROWS * D], g = new float[ROWS * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
            g[i] = (float) rng.nextGaussian();
        }
        long[] ids = new long[ROWS], pos = new long[ROWS];
        for (int r = 0; r < ROWS; r++) {
            ids[r] = rng.nextInt(50257);
            pos[r] = r % 16;
        }
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("activations", HostTensor.of(x, ROWS, D));
        t.put("gradients", HostTensor.of(g, ROWS, D));
        t.put("token_ids", new HostTensor(Dtype.I64, new long[]{ROWS}, MemorySegment.ofArray(ids)));
        t.put("positions", new HostTensor(Dtype.I64, new long[]{ROWS}, MemorySegment.ofArray(pos)));
        SafeTensors.write(file, t);
    }

    static Path harvest(Path dir, int shards) throws IOException {
        Files.createDirectories(dir);
        for (int s = 0; s < shards; s++) shard(dir.resolve(String.format("shard-%05d.safetensors", s)), s + 1);
        Files.writeString(dir.resolve(Manifest.FILE), """
                {"format": "gsae-harvest", "format_version": 1, "model": "tiny-gpt2", "hook": "transformer.h.1",
                 "context_size": 16, "prepend_bos": true, "dataset_path": "/texts/tiny.txt", "d": 6, "dtype": "float32",
                 "gradient": "d(sum_t CE_t)/dx", "versions": {"torch": "2.13"}}
                """);
        return dir;
    }

    static List<String> train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString(), "--latents", "12", "--k", "2", "--batch", "16",
                "--backend", "reference", "--threads", "1", "--quiet"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void aSecondRunIntoTheSameFolderStopsAtOnceNamingTheHolder() {
        Path out = tmp.resolve("run");
        try (RunLock held = RunLock.acquire(out)) {
            CliTest.Run second = gsae(train(out, "--steps", "2").toArray(String[]::new));
            assertOneLineError(second, "is in use by another gsae run (pid " + ProcessHandle.current().pid());
            assertTrue(!Files.exists(out.resolve(Trainer.CHECKPOINT)), "the second run wrote nothing");
        }
        CliTest.Run after = gsae(train(out, "--steps", "2").toArray(String[]::new));
        assertEquals(0, after.code(), "the lock is released with its holder: " + after.err());
    }

    /** The OS drops the lock of a process killed with SIGKILL, so a crash never leaves a folder locked. */
    @Test
    void aKilledRunReleasesItsLock() throws Exception {
        Path out = tmp.resolve("run"), lock = out.resolve(RunLock.FILE);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "gsae.cli.Main", "train", "--out", out.toString(), "--latents", "64", "--k", "4",
                "--steps", "100000000", "--batch", "64", "--checkpoint-every", "0", "--backend", "reference", "--threads", "1", "--quiet")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String holder = "pid " + child.pid() + " ";
            for (int i = 0; i < 600 && !(Files.exists(lock) && Files.readString(lock).startsWith(holder)); i++) Thread.sleep(50);
            assertTrue(child.isAlive() && Files.readString(lock).startsWith(holder), "the child holds the lock");
            assertOneLineError(gsae(train(out, "--steps", "2").toArray(String[]::new)), holder);
        } finally {
            child.destroyForcibly().waitFor();
        }
        CliTest.Run after = gsae(train(out, "--steps", "2").toArray(String[]::new));
        assertEquals(0, after.code(), "no lock is left behind by a killed run: " + after.err());
    }

    @Test
    void aFreshRunNeverDeletesACheckpointLeftByACrashWithoutForce() throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, gsae(train(out, "--steps", "2").toArray(String[]::new)).code());
        // a crash between the renames of a save leaves only checkpoint.old
        Files.move(out.resolve(Trainer.CHECKPOINT), out.resolve(Trainer.CHECKPOINT + ".old"));
        assertOneLineError(gsae(train(out, "--steps", "2").toArray(String[]::new)), "already holds a checkpoint (checkpoint.old)");
        assertTrue(Files.isDirectory(out.resolve(Trainer.CHECKPOINT + ".old")), "still there");
        CliTest.Run forced = gsae(train(out, "--steps", "2", "--force").toArray(String[]::new));
        assertEquals(0, forced.code(), forced.err());
    }

    @Test
    void trainSaysWhereTheShardsCameFromAndTheCheckpointKeepsIt() throws IOException {
        Path data = harvest(tmp.resolve("h"), 2), out = tmp.resolve("run");
        CliTest.Run r = gsae(train(out, "--steps", "2", "--data", data.toString()).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("from model tiny-gpt2, hook transformer.h.1"), r.out());
        Checkpoint c = Checkpoint.load(out.resolve(Trainer.CHECKPOINT));
        assertEquals(new Manifest("tiny-gpt2", "transformer.h.1", 16, true, "/texts/tiny.txt"), c.data().source());
        assertEquals(2, c.data().shards().size());

        // the export needs no data folder, and options override the recorded source
        Files.delete(data.resolve(Manifest.FILE));
        Path sae = tmp.resolve("sae");
        assertEquals(0, gsae("export", "--checkpoint", out.toString(), "--format", "saelens", "--out", sae.toString(),
                "--hook-name", "transformer.h.5").code());
        String cfg = Files.readString(sae.resolve("cfg.json"));
        assertTrue(cfg.contains("\"model_name\" : \"tiny-gpt2\"") && cfg.contains("\"hook_name\" : \"transformer.h.5\"")
                && cfg.contains("\"hook_layer\" : 5") && cfg.contains("\"context_size\" : 16"), cfg);
    }

    @Test
    void resumeAcceptsTheSameDataRenamedAndRefusesChangedData() throws IOException {
        Path data = harvest(tmp.resolve("h"), 2), out = tmp.resolve("run");
        assertEquals(0, gsae(train(out, "--steps", "2", "--data", data.toString(), "--decay", "none").toArray(String[]::new)).code());
        String[] resume = {"train", "--out", out.toString(), "--resume", "--steps", "4", "--quiet", "--backend", "reference"};

        // a shard added to the folder mid-run
        shard(data.resolve("shard-00002.safetensors"), 99);
        assertOneLineError(gsae(with(resume, "--data", data.toString())), "new or changed: shard-00002.safetensors");
        Files.delete(data.resolve("shard-00002.safetensors"));

        // the same shards in the other order
        assertOneLineError(gsae(with(resume, "--data", data.resolve("shard-00001.safetensors").toString(),
                data.resolve("shard-00000.safetensors").toString())), "same shards in another order");

        // a shard rewritten with other values
        Path moved = Files.move(data, tmp.resolve("elsewhere"));
        shard(moved.resolve("shard-00001.safetensors"), 123);
        assertOneLineError(gsae(with(resume, "--data", moved.toString())), "missing or changed: shard-00001.safetensors");
        shard(moved.resolve("shard-00001.safetensors"), 2);

        // the same data, moved and renamed: accepted, and the finished run (no decay) extends to 4 steps
        Files.move(moved.resolve("shard-00000.safetensors"), moved.resolve("a.safetensors"));
        Files.move(moved.resolve("shard-00001.safetensors"), moved.resolve("b.safetensors"));
        CliTest.Run ok = gsae(with(resume, "--data", moved.toString()));
        assertEquals(0, ok.code(), ok.err());
        assertEquals(4, Checkpoint.load(out.resolve(Trainer.CHECKPOINT)).step());
    }

    @Test
    void aRunWithDecayCannotBeExtended() {
        Path out = tmp.resolve("run");
        assertEquals(0, gsae(train(out, "--steps", "2", "--decay", "linear").toArray(String[]::new)).code());
        assertOneLineError(gsae("train", "--out", out.toString(), "--resume", "--steps", "5"), "decays linearly to 0 at step 2");
        CliTest.Run same = gsae("train", "--out", out.toString(), "--resume", "--steps", "2", "--quiet", "--backend", "reference");
        assertEquals(0, same.code(), same.err());
    }

    /** A resumed run extended equals one trained that long from the start. */
    @Test
    void anExtendedRunEqualsTheLongerRun() throws IOException {
        Path data = harvest(tmp.resolve("h"), 1), a = tmp.resolve("a"), b = tmp.resolve("b");
        assertEquals(0, gsae(train(a, "--steps", "3", "--data", data.toString(), "--warmup", "1").toArray(String[]::new)).code());
        assertEquals(0, gsae(train(b, "--steps", "6", "--data", data.toString(), "--warmup", "1").toArray(String[]::new)).code());
        CliTest.Run more = gsae("train", "--out", a.toString(), "--resume", "--steps", "6", "--data", data.toString(), "--quiet", "--backend", "reference");
        assertEquals(0, more.code(), more.err());
        Checkpoint x = Checkpoint.load(a.resolve(Trainer.CHECKPOINT)), y = Checkpoint.load(b.resolve(Trainer.CHECKPOINT));
        assertEquals(6, x.step());
        assertTrue(java.util.Arrays.equals(x.state().params().wDec(), y.state().params().wDec()), "bit for bit");
        assertTrue(java.util.Arrays.equals(x.state().adamV().bEnc(), y.state().adamV().bEnc()), "bit for bit");
    }

    private static String[] with(String[] base, String... more) {
        List<String> a = new ArrayList<>(List.of(base));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }
}
