package gsae.train;

import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Scales;
import gsae.ops.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
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
    void trainingWritesCheckpointAndMetricsTellsListenersAndLowersFvu(@TempDir Path out) {
        int steps = 40;
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        List<Long> stepped = new ArrayList<>(), saved = new ArrayList<>();
        Trainer trainer = new Trainer(CpuBackend.reference(), src, out)
                .evaluateEvery(10, (step, params, scales) -> Map.of("probe", (double) step))
                .listen(new Trainer.Listener() {
                    @Override
                    public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                        stepped.add(step);
                    }

                    @Override
                    public void saved(Checkpoint c) {
                        saved.add(c.step());
                    }
                });
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

        assertEquals(LongStream.rangeClosed(1, steps).boxed().toList(), stepped);
        assertEquals(List.of(15L, 30L, 40L), saved);
        assertEquals(List.of(Trainer.CHECKPOINT, Trainer.METRICS), fileNames(out), "the engine writes nothing else");
    }

    @Test
    void stopEndsTheRunWithACheckpointAtThatStep(@TempDir Path out) {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Trainer trainer = new Trainer(CpuBackend.reference(), src, out);
        trainer.listen(new Trainer.Listener() {
            @Override
            public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                if (step == 7) trainer.stop();
            }
        });
        Trainer.Result r = trainer.run(Initializer.fresh(sae(), train(40, 15), src, DataRecord.described("synthetic")));
        assertEquals(7, r.last().step());
        assertEquals(7, Checkpoint.load(out.resolve(Trainer.CHECKPOINT)).step());
        assertEquals(7L * N, r.last().dataPosition());
    }

    /** The memory fix of #10: the run trains in the start state's own arrays and checkpoints from them, never copying the state. */
    @Test
    void aHostRunHoldsOneCopyOfTheState(@TempDir Path out) {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Checkpoint start = Initializer.fresh(sae(), train(20, 10), src, DataRecord.described("synthetic"));
        float[] wDec = start.state().params().wDec(), adamV = start.state().adamV().wEnc();
        List<Checkpoint> saved = new ArrayList<>();
        Trainer.Result r = new Trainer(CpuBackend.fast(1), src, out).listen(new Trainer.Listener() {
            @Override
            public void saved(Checkpoint c) {
                saved.add(c);
            }
        }).run(start);
        assertEquals(2, saved.size());
        for (Checkpoint c : saved) {
            assertSame(wDec, c.state().params().wDec(), "checkpoints are written from the live arrays");
            assertSame(adamV, c.state().adamV().wEnc());
        }
        assertSame(wDec, r.last().state().params().wDec());
        assertEquals(20, r.last().step());
    }

    private static List<String> fileNames(Path dir) {
        try (var s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void nonFiniteLossStopsWithTheLastCheckpointNamed(@TempDir Path out) {
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Checkpoint start = Initializer.fresh(sae(), new TrainConfig(50, N, 1e30f, 0, LrDecay.NONE, 7, 1, 1, false, 100), src, DataRecord.described("synthetic"));
        Trainer t = new Trainer(CpuBackend.reference(), src, out);
        UserError e = assertThrows(UserError.class, () -> t.run(start));
        assertTrue(e.getMessage().contains("last checkpoint is from step"), e.getMessage());
    }
}
