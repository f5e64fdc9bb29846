package gsae.cli;

import gsae.api.DataSources;
import gsae.config.BackendKind;
import gsae.cuda.CudaBackend;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.io.CheckpointTest;
import gsae.io.SafeTensors;
import gsae.tensor.HostTensor;
import gsae.ops.Backend;
import gsae.train.Backends;
import gsae.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import gsae.cli.CliTest.Run;

import static gsae.cli.CliTest.assertOneLineError;
import static gsae.cli.CliTest.gsae;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What a user sees when something is wrong: the option or file named, the right exit code, nothing else. */
class MessagesTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"", "train", "eval", "export", "step", "info", "bench", "demo", "selftest"})
    void helpPrintsNoPicocliWarning(String command) {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        CliTest.Run r;
        try {
            r = command.isEmpty() ? gsae("--help") : gsae(command, "--help");
        } finally {
            System.setErr(before);
        }
        assertEquals(0, r.code());
        String all = captured.toString(StandardCharsets.UTF_8) + r.err();
        assertFalse(all.contains("picocli WARN"), all);
        assertTrue(r.out().contains("Usage: gsae"), r.out());
    }

    @Test
    void aBugIsAnInternalErrorWithItsOwnExitCode() {
        DataSources broken = new DataSources() {
            @Override
            public BatchSource teacher(long seed) {
                throw new IllegalStateException("an invariant broke");
            }

            @Override
            public BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite) {
                throw new IllegalStateException("an invariant broke");
            }
        };
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main(broken)).setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter()));
        int code = cl.execute("train", "--out", tmp.resolve("r").toString(), "--latents", "8", "--k", "2", "--backend", "reference");
        assertEquals(Main.INTERNAL_ERROR, code);
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().startsWith("gsae: internal error"), err.toString());
        assertTrue(err.toString().contains("an invariant broke") && err.toString().contains("GSAE_DEBUG=1"), err.toString());
    }

    @Test
    void aWriteErrorOnStandardOutputFails() {
        OutputStream full = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main(CliTest.SYNTHETIC)).setErr(new PrintWriter(err, true)).setOut(new PrintWriter(full, true));
        int code = cl.execute("info");
        assertEquals(Main.USER_ERROR, code, err.toString());
        assertTrue(err.toString().contains("cannot write to standard output"), err.toString());
    }

    /** d = 4,096 with M = 1M latents on a CPU backend: refused before any allocation, with the limit and the way around it. */
    @Test
    void anSaePastOneJavaArrayOnTheCpuNamesTheCudaBackend() {
        Path shard = tmp.resolve("wide").resolve("s.safetensors");
        int d = 4096;
        SafeTensors.write(shard, Map.of("activations", HostTensor.of(new float[2 * d], 2, d), "gradients", HostTensor.of(new float[2 * d], 2, d)));
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new Main(DataSources.standard())).setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter()));
        int code = cl.execute("train", "--data", shard.getParent().toString(), "--out", tmp.resolve("w").toString(), "--latents", "1048576",
                "--k", "32", "--backend", "cpu");
        assertOneLineError(new Run(code, "", err.toString()), "--latents: 1,048,576 latents × 4,096 = 4,294,967,296 elements");
        assertTrue(err.toString().contains("at most 524,287 latents") && err.toString().contains("--backend cuda"), err.toString());
    }

    @Test
    void optionsAreCheckedBeforeAnyWork() {
        String out = tmp.resolve("r").toString();
        assertOneLineError(gsae("train", "--out", out, "--latents", "8", "--k", "2", "--batch", "0"), "--batch 0: must be ≥ 2");
        assertOneLineError(gsae("train", "--out", "", "--latents", "8", "--k", "2"), "--out '': must name a folder");
        assertOneLineError(gsae("train", "--out", out, "--latents", "8", "--k", "2", "--threads", "100000"), "--threads 100000: must be between 1 and");
        assertOneLineError(gsae("train", "--out", out, "--latents", "8", "--k", "2", "--beta", "NaN"), "--beta NaN");
        assertOneLineError(gsae("train", "--out", out, "--latents", "8", "--k", "2", "--device", "-1"), "--device -1: must be ≥ 0");
        assertOneLineError(gsae("train", "--out", out, "--latents", "8", "--k", "2", "--lr", "0"), "--lr 0.0");
        assertOneLineError(gsae("demo", "--out", out, "--beta", "-1"), "--beta -1.0: must be a finite number ≥ 0");
        assertOneLineError(gsae("eval", "--checkpoint", out, "--tokens", "0"), "--tokens 0");
        assertFalse(Files.exists(tmp.resolve("r")), "nothing was written");
    }

    @Test
    void evalAndExportTakeTheRunFolderAndNameTheMissingFile() throws IOException {
        Path run = tmp.resolve("run");
        CheckpointTest.sample(10, 1).save(run.resolve(Trainer.CHECKPOINT));
        CliTest.Run export = gsae("export", "--checkpoint", run.toString(), "--format", "sparsify", "--out", tmp.resolve("x").toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(Files.isRegularFile(tmp.resolve("x/sae.safetensors")));

        Files.delete(run.resolve(Trainer.CHECKPOINT).resolve("state.safetensors"));
        assertOneLineError(gsae("export", "--checkpoint", run.toString(), "--format", "sparsify", "--out", tmp.resolve("y").toString()),
                run.resolve(Trainer.CHECKPOINT).resolve("state.safetensors") + ": missing");
        assertOneLineError(gsae("eval", "--checkpoint", run.toString(), "--backend", "reference"), "state.safetensors: missing");
    }

    @Test
    void aCheckpointPastItsLastStepOrWithNonFiniteWeightsIsRefused() throws IOException {
        Path dir = tmp.resolve("ck");
        CheckpointTest.sample(10, 1).save(dir);
        Path meta = dir.resolve("checkpoint.json");
        String good = Files.readString(meta);
        Files.writeString(meta, good.replace("\"step\" : 10,", "\"step\" : 1000,"));
        assertOneLineError(gsae("export", "--checkpoint", dir.toString(), "--format", "sparsify", "--out", tmp.resolve("x").toString()),
                "step 1000 is outside the run's 0..100 steps");

        Files.writeString(meta, good);
        Checkpoint c = Checkpoint.load(dir);
        c.state().params().bDec()[2] = Float.NaN;
        c.save(dir);
        assertOneLineError(gsae("export", "--checkpoint", dir.toString(), "--format", "sparsify", "--out", tmp.resolve("y").toString()),
                "tensor 'b_dec' holds NaN at element 2");
    }

    @Test
    void withoutACudaDriverTheFallbackIsOnePlainLine() {
        String why = CudaBackend.unavailableReason();
        assumeTrue(why != null && why.startsWith("no CUDA driver"), "this machine has a CUDA driver");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Backend b = Backends.choose(BackendKind.AUTO, 1, new PrintStream(log, true, StandardCharsets.UTF_8), false)) {
            assertEquals("cpu", b.ops().name());
        }
        assertEquals("backend: cpu (no CUDA driver found)", log.toString(StandardCharsets.UTF_8).strip());
        assertOneLineError(gsae("train", "--out", tmp.resolve("c").toString(), "--latents", "8", "--k", "2", "--steps", "1", "--backend", "cuda"),
                "--backend cuda: no CUDA driver");
        ByteArrayOutputStream detailed = new ByteArrayOutputStream();
        try (Backend b = Backends.choose(BackendKind.AUTO, 1, new PrintStream(detailed, true, StandardCharsets.UTF_8), true)) {
            assertEquals(2, detailed.toString(StandardCharsets.UTF_8).lines().count(), "GSAE_DEBUG adds the driver's words");
        }
    }
}
