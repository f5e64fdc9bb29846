package gsae.cuda;

import gsae.config.SaeConfig;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** init_decoder against its CPU twin (InitRandom through Params.init): the device's fresh state equals the host's bit for bit. */
class InitDecoderCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    /** Seeded random seeds at power-of-two and odd widths, rows fewer and more than a block's threads. */
    @Test
    void theDevicesFreshStateIsTheHostsBitForBit() {
        SplittableRandom rng = new SplittableRandom(10);
        int[][] shapes = Gpu.emulated() ? new int[][]{{48, 7}, {37, 19}, {64, 3}, {1, 5}, {130, 4}}
                : new int[][]{{48, 7}, {37, 19}, {64, 3}, {1, 5}, {768, 4096}, {4096, 300}};
        for (int[] shape : shapes) {
            int d = shape[0], m = shape[1];
            long seed = rng.nextLong();
            float[] mean = new float[d];
            for (int j = 0; j < d; j++) mean[j] = (float) rng.nextGaussian();
            SaeConfig sae = SaeConfig.of(d, m, 1, 0f);
            TrainState want = TrainState.fresh(Params.init(d, m, seed, mean));
            try (TrainingStep step = Gpu.backend(Precision.F32).start(sae, new StartState.Fresh(d, m, seed, mean))) {
                TrainState got = step.snapshot();
                String at = "d=" + d + ", M=" + m + ", seed " + seed;
                assertArrayEquals(want.params().wDec(), got.params().wDec(), at);
                assertArrayEquals(want.params().wEnc(), got.params().wEnc(), at);
                assertArrayEquals(want.params().bEnc(), got.params().bEnc(), at);
                assertArrayEquals(want.params().bDec(), got.params().bDec(), at);
                assertArrayEquals(want.adamM().wEnc(), got.adamM().wEnc(), at);
                assertArrayEquals(want.adamV().wDec(), got.adamV().wDec(), at);
                assertArrayEquals(want.sinceFired(), got.sinceFired(), at);
                assertEquals(0, got.step());
            }
        }
    }
}
