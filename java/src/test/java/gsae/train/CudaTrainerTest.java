package gsae.train;

import gsae.cuda.CudaBackend;
import gsae.cuda.Precision;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.TrainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The memory fix of #10 on the CUDA backend (GPU 0, or the emulated device with -Dgsae.cuda.device=emulated). */
class CudaTrainerTest {

    /** The device keeps the state; each checkpoint downloads into the start state's arrays, so the run holds one host copy. */
    @Test
    void aCudaRunHoldsOneHostCopyOfTheState(@TempDir Path out) {
        String device = CudaBackend.defaultDevice();
        String why = CudaBackend.unavailableReason(device);
        assumeTrue(why == null, () -> "no usable CUDA device: " + why);
        SyntheticSource src = new SyntheticSource(TrainerTest.D, 8, 3);
        Checkpoint start = Initializer.fresh(TrainerTest.sae(), TrainerTest.train(6, 3), src, DataRecord.described("synthetic"));
        float[] wDec = start.state().params().wDec(), adamV = start.state().adamV().wEnc();
        List<Checkpoint> saved = new ArrayList<>();
        try (CudaBackend gpu = CudaBackend.open(device, Precision.F32)) {
            Trainer.Result r = new Trainer(gpu, src, out).listen(new Trainer.Listener() {
                @Override
                public void saved(Checkpoint c) {
                    saved.add(c);
                }
            }).run(start);
            assertEquals(2, saved.size());
            for (Checkpoint c : saved) {
                assertSame(wDec, c.state().params().wDec(), "checkpoints download into the start state's arrays");
                assertSame(adamV, c.state().adamV().wEnc());
            }
            assertEquals(6, r.last().step());
            TrainState onDisk = Checkpoint.load(out.resolve(Trainer.CHECKPOINT)).state();
            assertArrayEquals(wDec, onDisk.params().wDec(), "the last checkpoint holds the final state");
            assertArrayEquals(adamV, onDisk.adamV().wEnc());
            assertEquals(6, onDisk.step());
        }
    }
}
