package gsae.train;

import gsae.comm.LocalRanks;
import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.cpu.CpuBackend;
import gsae.cuda.CudaBackend;
import gsae.cuda.Precision;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Backend;
import gsae.ops.Params;
import gsae.ops.StartState;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The trainer with {@code --parallel latents} on P ranks ({@link LocalRanks}) against one process:
 * same checkpoints (sharded on disk, read back gathered; the trainer itself reads none whole),
 * metrics and evaluations within the per-step tolerance of the sharded step's tests, the same
 * dead-latent counters; M = 32 is not divisible by P = 3, and latents die after four steps so that
 * AuxK runs.
 */
class ShardedTrainerTest {

    private static final int D = 12, M = 32, K = 4, N = 32, STEPS = 8;
    private static final SaeConfig SAE = new SaeConfig(D, M, K, 0.5f, D / 2, 1f / 32, 2L * N);
    private static final TrainConfig TRAIN = new TrainConfig(STEPS, N, 1e-3f, 2, LrDecay.LINEAR, 7, 3, 1, true, 100);
    private static final DataRecord DATA = DataRecord.described("synthetic");

    /**
     * What one rank saw: the checkpoints its listeners got, the result's step, the probe values, and
     * whether every checkpoint it was handed (listeners' and result) still had its state in the files.
     */
    record Seen(List<Long> saved, long lastStep, List<Double> probes, boolean unread) {}

    private static Seen run(Trainer trainer, Checkpoint start) {
        List<Long> saved = new ArrayList<>();
        List<Boolean> unread = new ArrayList<>();
        List<Double> probes = new ArrayList<>();
        trainer.evaluateEvery(4, (step, p, scales) -> {
            probes.add(squares(p));
            return Map.of("probe", squares(p));
        }).listen(new Trainer.Listener() {
            @Override
            public void saved(Checkpoint c) {
                saved.add(c.step());
                unread.add(unread(c));
            }
        });
        Checkpoint last = trainer.run(start).last();
        unread.add(unread(last));
        return new Seen(saved, last.step(), probes, !unread.contains(false));
    }

    /** A checkpoint whose state was not read into host arrays (a whole read on a rank would do that). */
    private static boolean unread(Checkpoint c) {
        return c.start() instanceof StartState.Stored s && s.readIn() == null;
    }

    /** ‖W_enc‖² + ‖b_enc‖² + ‖W_dec‖² + ‖b_dec‖²: a probe that sees every parameter. */
    private static double squares(Params p) {
        double s = 0;
        for (float[] a : new float[][]{p.wEnc(), p.bEnc(), p.wDec(), p.bDec()}) for (float v : a) s += (double) v * v;
        return s;
    }

    /** The backend of a run: the fast CPU one, or the CUDA one on the device under test (each rank its own; emulated in make test). */
    private static Backend backend(String name) {
        return name.equals("cpu") ? CpuBackend.fast(1) : CudaBackend.open(CudaBackend.defaultDevice(), Precision.F32);
    }

    /** On the CPU, and with each rank's share on its device ({@code CudaShardedStep}) against one device. */
    @ParameterizedTest(name = "P={0}, {1}")
    @CsvSource({"2, cpu", "3, cpu", "2, cuda", "3, cuda"})
    void shardedRunEqualsOneProcess(int ranks, String on, @TempDir Path tmp) {
        String why = on.equals("cpu") ? null : CudaBackend.unavailableReason(CudaBackend.defaultDevice());
        assumeTrue(why == null, () -> "no usable CUDA device: " + why);
        Path single = tmp.resolve("single"), sharded = tmp.resolve("sharded");
        SyntheticSource src = new SyntheticSource(D, 8, 3);
        Seen one;
        try (Backend backend = backend(on)) {
            one = run(new Trainer(backend, src, single), Initializer.fresh(SAE, TRAIN, src, DATA));
        }
        List<Seen> seen = LocalRanks.run(ranks, c -> {
            SyntheticSource s = new SyntheticSource(D, 8, 3);
            try (Backend backend = backend(on)) {
                return run(new Trainer(backend, s, sharded).parallel(ParallelMode.LATENTS, c), Initializer.fresh(SAE, TRAIN, s, DATA, c));
            }
        });

        assertEquals(List.of(3L, 6L, 8L), seen.getFirst().saved(), "rank 0's listeners see every checkpoint");
        for (int r = 1; r < ranks; r++) assertEquals(List.of(), seen.get(r).saved(), "only rank 0 calls listeners");
        for (Seen s : seen) assertEquals(STEPS, s.lastStep(), "every rank's result is the last checkpoint");
        for (Seen s : seen) assertTrue(s.unread(), "a checkpoint handed to listeners or returned was read whole");
        assertTrue(Files.isRegularFile(sharded.resolve(Trainer.CHECKPOINT).resolve(String.format("shard-%05d-of-%05d.safetensors", ranks - 1, ranks))));

        Checkpoint want = Checkpoint.load(single.resolve(Trainer.CHECKPOINT)), got = Checkpoint.load(sharded.resolve(Trainer.CHECKPOINT));
        assertEquals(new Parallelism(ParallelMode.LATENTS, ranks), got.parallel());
        assertEquals(want.step(), got.step());
        assertEquals(want.dataPosition(), got.dataPosition());
        assertEquals(want.scales(), got.scales());
        assertArrayEquals(want.state().sinceFired(), got.state().sinceFired(), "dead-latent counters (the selections of every step)");
        double eps = STEPS * 4 * 0x1p-24 * (2 * D + K + 2 * N + 4), floor = TRAIN.lr() * Math.sqrt(D);
        float[][] w = {want.state().params().wEnc(), want.state().params().bEnc(), want.state().params().wDec(), want.state().params().bDec()};
        float[][] g = {got.state().params().wEnc(), got.state().params().bEnc(), got.state().params().wDec(), got.state().params().bDec()};
        for (int t = 0; t < w.length; t++)
            for (int i = 0; i < w[t].length; i++)
                assertEquals(w[t][i], g[t][i], eps * (floor + Math.abs(w[t][i])), "parameter tensor " + t + " element " + i);

        List<Map<String, Double>> a = MetricsLog.read(single.resolve(Trainer.METRICS)), b = MetricsLog.read(sharded.resolve(Trainer.METRICS));
        assertEquals(STEPS, b.size(), "rank 0 writes one metrics row per step");
        boolean sawAux = false;
        for (int s = 0; s < STEPS; s++) {
            for (String key : List.of("fvu", "auxk"))
                assertEquals(a.get(s).get(key), b.get(s).get(key), eps * Math.abs(a.get(s).get(key)) + 1e-300, key + " at step " + (s + 1));
            for (String key : List.of("l0", "dead_fraction"))
                assertEquals(a.get(s).get(key), b.get(s).get(key), key + " at step " + (s + 1));
            sawAux |= a.get(s).get("auxk") > 0;
        }
        assertTrue(sawAux, "AuxK never ran");
        assertEquals(List.of(), seen.get(1).probes(), "only rank 0 evaluates");
        List<Double> want2 = one.probes(), got2 = seen.getFirst().probes();
        assertEquals(want2.size(), got2.size());
        for (int i = 0; i < want2.size(); i++) assertEquals(want2.get(i), got2.get(i), eps * want2.get(i), "probe " + i + " on the gathered parameters");
    }
}
