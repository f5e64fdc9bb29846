package gsae.train;

import gsae.config.ArrayLimit;
import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.cuda.CudaBackend;
import gsae.cuda.Precision;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * #10 on the CUDA backend (GPU 0, or the emulated device with -Dgsae.cuda.device=emulated): a run
 * draws its start on the device, checkpoints from device chunks and resumes by uploading chunks, so
 * it holds no host copy of the state. Host arrays are capped below M·d here (any whole host copy
 * of a weight would be refused), which is how an SAE past 2³¹ − 1 elements runs, at a test's size.
 */
class CudaTrainerTest {

    static final int D = 12, M = 96, K = 4, N = 32; // M·d = 1,152 elements, a batch N·d = 384
    static final long LIMIT = (long) M * D - 1;

    static SaeConfig sae() {
        return new SaeConfig(D, M, K, 0.5f, D / 2, 1f / 32, 4L * N);
    }

    static TrainConfig train() {
        return new TrainConfig(6, N, 1e-2f, 3, LrDecay.LINEAR, 7, 3, 1, true, 100);
    }

    @Test
    void aCudaRunHoldsNoHostCopyAndResumesFromChunks(@TempDir Path out) throws IOException {
        String device = CudaBackend.defaultDevice();
        String why = CudaBackend.unavailableReason(device);
        assumeTrue(why == null, () -> "no usable CUDA device: " + why);
        try (CudaBackend gpu = CudaBackend.open(device, Precision.F32)) {
            // the reference: the same run started from host arrays drawn by the CPU twin of init_decoder
            SyntheticSource hostSrc = new SyntheticSource(D, 8, 3);
            Checkpoint hostStart = Initializer.fresh(sae(), train(), hostSrc, DataRecord.described("synthetic"));
            hostStart.state();
            new Trainer(gpu, hostSrc, out.resolve("host")).run(hostStart);

            List<Checkpoint> saved = new ArrayList<>();
            ArrayLimit.during(LIMIT, () -> {
                SyntheticSource src = new SyntheticSource(D, 8, 3);
                Checkpoint start = Initializer.fresh(sae(), train(), src, DataRecord.described("synthetic"));
                Trainer first = new Trainer(gpu, src, out.resolve("device"));
                first.listen(new Trainer.Listener() {
                    @Override
                    public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                        if (step == 4) first.stop();
                    }

                    @Override
                    public void saved(Checkpoint c) {
                        saved.add(c);
                    }
                }).run(start);
                assertInstanceOf(StartState.Fresh.class, start.start());
                assertEquals(null, ((StartState.Fresh) start.start()).drawn(), "the start was drawn on the device, not the host");
                UserError e = assertThrows(UserError.class, () -> saved.getLast().state(), "a host copy is refused at this limit");
                assertTrue(e.getMessage().contains("--backend cuda"), e.getMessage());
                Checkpoint resumed = Checkpoint.load(out.resolve("device").resolve(Trainer.CHECKPOINT));
                assertEquals(4, resumed.step());
                Trainer.Result r = new Trainer(gpu, src, out.resolve("device")).run(resumed);
                assertEquals(6, r.last().step());
            });
            assertEquals(List.of(3L, 4L), saved.stream().map(Checkpoint::step).toList());
            saved.forEach(c -> assertInstanceOf(StartState.Stored.class, c.start(), "listeners get the files, not a download"));
        }
        for (String f : new String[]{"model.safetensors", "state.safetensors", "checkpoint.json"})
            assertArrayEquals(Files.readAllBytes(out.resolve("host/checkpoint").resolve(f)), Files.readAllBytes(out.resolve("device/checkpoint").resolve(f)),
                    f + ": the device-drawn, chunk-resumed run equals the run from host arrays");
    }
}
