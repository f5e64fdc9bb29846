package gsae.train;

import gsae.cpu.CpuBackend;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Params;
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

/**
 * A run of S steps and a run that crashes and is resumed from its last checkpoint must end in the
 * same state. The reference backend is deterministic and the resumed run replays the same batches
 * at the same learning rates from the same state, so the results must be bit-identical.
 */
class ResumeTest {

    static final int STEPS = 24, EVERY = 6;

    /** A source that dies when asked for the batch of step {@code crashStep}, as a killed process would. */
    static final class CrashingSource extends SyntheticSource {
        private final long limit;

        CrashingSource(long crashStep) {
            super(D, 8, 3);
            this.limit = (crashStep - 1) * N;
        }

        @Override
        public void next(float[] x, float[] g, int n) {
            if (position() >= limit) throw new IllegalStateException("simulated crash at token " + position());
            super.next(x, g, n);
        }
    }

    private static Trainer trainer(SyntheticSource src, Path out) {
        return new Trainer(CpuBackend.reference(), src, out);
    }

    @ParameterizedTest(name = "crash during step {0}")
    @ValueSource(ints = {13, 17})
    void interruptedAndResumedEqualsUninterrupted(int crashStep, @TempDir Path tmp) {
        SyntheticSource straight = new SyntheticSource(D, 8, 3);
        Trainer.Result whole = trainer(straight, tmp.resolve("a"))
                .run(Initializer.fresh(TrainerTest.sae(), TrainerTest.train(STEPS, EVERY), straight, DataRecord.described("synthetic")));

        Path b = tmp.resolve("b");
        CrashingSource crashing = new CrashingSource(crashStep);
        Checkpoint start = Initializer.fresh(TrainerTest.sae(), TrainerTest.train(STEPS, EVERY), crashing, DataRecord.described("synthetic"));
        assertThrows(IllegalStateException.class, () -> trainer(crashing, b).run(start));
        Checkpoint saved = Checkpoint.load(b.resolve(Trainer.CHECKPOINT));
        assertEquals((crashStep - 1) / EVERY * EVERY, saved.step(), "the last checkpoint before the crash");
        Trainer.Result resumed = trainer(new SyntheticSource(D, 8, 3), b).run(saved);

        assertStateEquals(whole.last(), resumed.last());
        assertMetricsEqual(MetricsLog.read(tmp.resolve("a").resolve(Trainer.METRICS)), MetricsLog.read(b.resolve(Trainer.METRICS)));
    }

    private static void assertStateEquals(Checkpoint a, Checkpoint b) {
        assertEquals(a.step(), b.step());
        assertEquals(a.dataPosition(), b.dataPosition());
        assertArrayEquals(a.state().sinceFired(), b.state().sinceFired());
        for (Params[] p : new Params[][]{{a.state().params(), b.state().params()}, {a.state().adamM(), b.state().adamM()},
                {a.state().adamV(), b.state().adamV()}}) {
            assertArrayEquals(p[0].wEnc(), p[1].wEnc());
            assertArrayEquals(p[0].bEnc(), p[1].bEnc());
            assertArrayEquals(p[0].wDec(), p[1].wDec());
            assertArrayEquals(p[0].bDec(), p[1].bDec());
        }
    }

    /** Every step logged once, in order, with the same losses and rates; only the timings differ. */
    private static void assertMetricsEqual(List<Map<String, Double>> a, List<Map<String, Double>> b) {
        assertEquals(STEPS, a.size());
        assertEquals(STEPS, b.size());
        for (int i = 0; i < STEPS; i++)
            for (String key : List.of("step", "tokens", "lr", "fvu", "auxk", "loss", "l0", "dead_fraction"))
                assertEquals(a.get(i).get(key), b.get(i).get(key), "step " + (i + 1) + " " + key);
    }
}
