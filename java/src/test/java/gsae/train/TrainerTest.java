package gsae.train;

import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    static final int D = 12, M = 32, K = 4, N = 32;

    static SaeConfig sae() {
        return new SaeConfig(D, M, K, 0.5f, D / 2, 1f / 32, 4L * N);
    }

    static TrainConfig train(int steps, int checkpointEvery) {
        return new TrainConfig(steps, N, 1e-2f, 3, LrDecay.LINEAR, 7, checkpointEvery, 1, true, 100);
    }

    @Test
    void scalesMakeMeanNormsOneAndRootD() {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Scales s = ScaleEstimator.estimate(src, 500, 64, true);
        assertEquals(500, src.position(), "estimation reads exactly the sample");
        src.seek(0);
        float[] x = new float[500 * D], g = new float[500 * D];
        src.next(x, g, 500);
        s.apply(x, g, 500, D);
        double eps = 1e-5; // float32 products over 500 rows of width 12: relative error far below this
        assertEquals(1.0, ScaleEstimator.sumOfRowNorms(g, 500, D) / 500, eps);
        assertEquals(Math.sqrt(D), ScaleEstimator.sumOfRowNorms(x, 500, D) / 500, Math.sqrt(D) * eps);
        assertEquals(1f, ScaleEstimator.estimate(src, 100, 64, false).actScale(), "act_scale is 1 unless asked for");
    }

    @Test
    void aBatchOfOneRepeatedTokenIsBadDataNotABug() {
        SyntheticSource same = new SyntheticSource(D, 8, 3) {
            @Override
            public void next(float[] x, float[] g, int n) {
                super.next(x, g, n);
                for (int r = 1; r < n; r++) System.arraycopy(x, 0, x, r * D, D);
            }
        };
        UserError e = assertThrows(UserError.class, () -> new Batches(same, Scales.NONE, 16).next());
        assertTrue(e.getMessage().contains("all the same row"), e.getMessage());
    }

    @Test
    void zeroGradientsCannotBeScaled() {
        SyntheticSource zero = new SyntheticSource(D, 8, 3) {
            @Override
            public void next(float[] x, float[] g, int n) {
                super.next(x, g, n);
                java.util.Arrays.fill(g, 0f);
            }
        };
        UserError e = assertThrows(UserError.class, () -> ScaleEstimator.estimate(zero, 100, 64, false));
        assertTrue(e.getMessage().contains("grad_scale"), e.getMessage());
    }

    @Test
    void freshStartRewindsAndCentresTheDecoderBiasOnTheFirstBatch() {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Checkpoint start = Initializer.fresh(sae(), train(4, 0), src, DataRecord.described("synthetic"));
        assertEquals(0, src.position());
        assertEquals(0, start.step());
        float[] x = new float[N * D], g = new float[N * D];
        src.next(x, g, N);
        float[] mean = Batches.mean(start.scales().apply(x, g, N, D));
        assertArrayEquals(mean, start.state().params().bDec());
        assertArrayEquals(start.state().params().wDec(), start.state().params().wEnc(), "W_enc = W_dec at init");
    }

    @Test
    void trainingWritesCheckpointMetricsAndCurvesAndLowersFvu(@TempDir Path out) throws IOException {
        int steps = 40;
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Trainer trainer = new Trainer(CpuBackend.reference(), src, out)
                .progress(new PrintStream(progress, true, StandardCharsets.UTF_8), true)
                .evaluateEvery(10, (step, params, scales) -> Map.of("probe", (double) step));
        Trainer.Result r = trainer.run(Initializer.fresh(sae(), train(steps, 15), src, DataRecord.described("synthetic")));

        assertEquals(steps, r.last().step());
        assertEquals((long) steps * N, r.last().dataPosition());
        Checkpoint onDisk = Checkpoint.load(out.resolve(Trainer.CHECKPOINT));
        assertArrayEquals(r.last().state().params().wDec(), onDisk.state().params().wDec());

        List<Map<String, Double>> rows = MetricsLog.read(out.resolve(Trainer.METRICS));
        assertEquals(steps, rows.size());
        for (String key : List.of("step", "tokens", "lr", "fvu", "auxk", "loss", "l0", "dead_fraction", "tokens_per_s", "elapsed_s"))
            assertNotNull(rows.get(0).get(key), key);
        assertEquals(steps * N, rows.get(steps - 1).get("tokens"));
        assertEquals(10.0, rows.get(9).get("probe"));
        assertEquals(null, rows.get(10).get("probe"), "the hook runs only every 10 steps");
        assertTrue(rows.get(steps - 1).get("fvu") < 0.5 * rows.get(0).get("fvu"),
                "FVU should at least halve: " + rows.get(0).get("fvu") + " → " + rows.get(steps - 1).get("fvu"));

        BufferedImage png = ImageIO.read(out.resolve(Trainer.CURVES).toFile());
        assertTrue(png.getWidth() > 0 && png.getHeight() > 0);
        String lines = progress.toString(StandardCharsets.UTF_8);
        assertEquals(10, lines.lines().filter(l -> l.startsWith("step ")).count(), "one line per 10% when quiet:\n" + lines);
    }

    @Test
    void progressBarShowsStepEtaAndMetrics() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress bar = new BarProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 11, 20)) {
            bar.update(15, new gsae.ops.StepMetrics(0.25, 0.5, 0.26, 4, 0.125), 1234);
        }
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("15/20"), shown);
        assertTrue(shown.contains("fvu 0.2500") && shown.contains("dead 12.5%") && shown.contains("1.2k tok/s"), shown);
    }

    @Test
    void nonFiniteLossStopsWithTheLastCheckpointNamed(@TempDir Path out) {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Checkpoint start = Initializer.fresh(sae(), new TrainConfig(50, N, 1e30f, 0, LrDecay.NONE, 7, 1, 1, false, 100), src, DataRecord.described("synthetic"));
        Trainer t = new Trainer(CpuBackend.reference(), src, out).progress(new PrintStream(new ByteArrayOutputStream()), true);
        UserError e = assertThrows(UserError.class, () -> t.run(start));
        assertTrue(e.getMessage().contains("last checkpoint is from step"), e.getMessage());
    }
}
