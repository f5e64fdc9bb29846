package gsae.train;

import gsae.comm.Collectives;
import gsae.comm.LocalRanks;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.cpu.CpuBackend;
import gsae.cuda.CudaBackend;
import gsae.cuda.Precision;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Backend;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static gsae.train.TrainerTest.D;
import static gsae.train.TrainerTest.N;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The trainer over 2 ranks ({@link LocalRanks}): a run killed mid-way on every rank and resumed
 * from rank 0's last checkpoint equals the uninterrupted 2-rank run bit for bit (the same slices
 * and the same rank-ordered sums), and a stop asked on one rank ends every rank after the same step.
 */
class DataParallelTrainerTest {

    static final int STEPS = 12, EVERY = 4, RANKS = 2;

    private static Trainer.Result train(Path out, SyntheticSource src, Checkpoint start, Collectives c, String backend) {
        try (Backend b = backend.equals("cpu") ? CpuBackend.fast(1) : CudaBackend.open(CudaBackend.defaultDevice(), Precision.F32)) {
            return new Trainer(b, src, out).parallel(ParallelMode.DATA, c).run(start);
        }
    }

    private static Checkpoint fresh(SyntheticSource src, Collectives c) {
        return Initializer.fresh(TrainerTest.sae(), TrainerTest.train(STEPS, EVERY), src, DataRecord.described("synthetic"), c);
    }

    /** On the CPU, and with the state on the device (each rank its own device; the emulated one in make test). */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "cuda"})
    void killedAndResumedEqualsUninterrupted(String backend, @TempDir Path tmp) {
        String why = backend.equals("cpu") ? null : CudaBackend.unavailableReason(CudaBackend.defaultDevice());
        assumeTrue(why == null, () -> "no usable CUDA device: " + why);
        LocalRanks.run(RANKS, c -> {
            SyntheticSource src = new SyntheticSource(D, 8, 3);
            return train(tmp.resolve("whole"), src, fresh(src, c), c, backend);
        });
        int crashStep = 7;
        assertThrows(IllegalStateException.class, () -> LocalRanks.run(RANKS, c -> {
            SyntheticSource src = new ResumeTest.CrashingSource(crashStep);
            return train(tmp.resolve("killed"), src, fresh(src, c), c, backend);
        }));
        Checkpoint saved = Checkpoint.load(tmp.resolve("killed").resolve(Trainer.CHECKPOINT));
        assertEquals((crashStep - 1) / EVERY * EVERY, saved.step(), "rank 0's last checkpoint before the crash");
        assertEquals(new Parallelism(ParallelMode.DATA, RANKS), saved.parallel());
        LocalRanks.run(RANKS, c -> train(tmp.resolve("killed"), new SyntheticSource(D, 8, 3), Checkpoint.load(tmp.resolve("killed").resolve(Trainer.CHECKPOINT)), c, backend));

        Checkpoint whole = Checkpoint.load(tmp.resolve("whole").resolve(Trainer.CHECKPOINT));
        Checkpoint resumed = Checkpoint.load(tmp.resolve("killed").resolve(Trainer.CHECKPOINT));
        assertEquals(STEPS, resumed.step());
        assertEquals(whole.dataPosition(), resumed.dataPosition());
        assertArrayEquals(whole.state().sinceFired(), resumed.state().sinceFired());
        for (Params[] p : new Params[][]{{whole.state().params(), resumed.state().params()}, {whole.state().adamM(), resumed.state().adamM()},
                {whole.state().adamV(), resumed.state().adamV()}}) {
            assertArrayEquals(p[0].wEnc(), p[1].wEnc());
            assertArrayEquals(p[0].bEnc(), p[1].bEnc());
            assertArrayEquals(p[0].wDec(), p[1].wDec());
            assertArrayEquals(p[0].bDec(), p[1].bDec());
        }
        List<Map<String, Double>> a = MetricsLog.read(tmp.resolve("whole").resolve(Trainer.METRICS)),
                b = MetricsLog.read(tmp.resolve("killed").resolve(Trainer.METRICS));
        assertEquals(STEPS, b.size(), "rank 0 alone logs, once per step");
        for (int i = 0; i < STEPS; i++) assertEquals(a.get(i).get("loss"), b.get(i).get("loss"), "step " + (i + 1));
    }

    @Test
    void aStopOnOneRankStopsEveryRankAfterTheSameStep(@TempDir Path tmp) {
        List<Long> ends = LocalRanks.run(RANKS, c -> {
            SyntheticSource src = new SyntheticSource(D, 8, 3);
            try (CpuBackend cpu = CpuBackend.fast(1)) {
                Trainer t = new Trainer(cpu, src, tmp).parallel(ParallelMode.DATA, c);
                t.listen(new Trainer.Listener() { // listeners run on rank 0 only
                    @Override
                    public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                        if (step == 3) t.stop();
                    }
                });
                return t.run(fresh(src, c)).last().step();
            }
        });
        assertEquals(List.of(3L, 3L), ends);
        assertEquals(3, Checkpoint.load(tmp.resolve(Trainer.CHECKPOINT)).step());
        assertEquals(3L * N, Checkpoint.load(tmp.resolve(Trainer.CHECKPOINT)).dataPosition());
    }
}
