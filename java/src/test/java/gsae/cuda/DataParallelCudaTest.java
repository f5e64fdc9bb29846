package gsae.cuda;

import gsae.comm.Collectives;
import gsae.comm.ElementType;
import gsae.comm.LocalRanks;
import gsae.comm.NcclGroup;
import gsae.comm.ReduceOp;
import gsae.comm.SingleProcess;
import gsae.config.SaeConfig;
import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.StateFingerprint;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.parallel.Slices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static gsae.parallel.DataParallelProblem.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Data-parallel training with the state on the device ({@link CudaBackend#startDataParallel}):
 * P ranks ({@link LocalRanks}, each with its own device) take the step one device takes on the
 * whole batch, up to the order of floating-point sums, bounded as in {@code DataParallelStepTest}
 * by twice the rounding drift between the device and the double-precision reference. On the
 * emulated device the device buffers are reduced through the host group ({@link StagedGroup});
 * on a GPU with NCCL, one rank runs the step on an NCCL communicator.
 */
class DataParallelCudaTest {

    /** Each rank opens its own device and closes it when its run ends. */
    private static Run rank(Collectives group, TrainState init, SaeConfig cfg, List<Batch> slices) {
        try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32)) {
            return train(device.startDataParallel(cfg, new StartState.Held(init), group), slices);
        }
    }

    private static Run oneDevice(SaeConfig cfg, List<Batch> batches) {
        try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32)) {
            return train(device.open(cfg, start(7)), batches);
        }
    }

    @ParameterizedTest(name = "P={0}, β={1}")
    @CsvSource({"2, 0", "3, 2"})
    void equalsOneDeviceOnTheWholeBatch(int p, float beta) {
        Gpu.assumeGpu();
        SaeConfig cfg = cfg(beta);
        List<Batch> batches = batches(21);
        Run one = oneDevice(cfg, batches);
        double rounding = distance(one.state(), single(cfg, new ReferenceOps(), batches).state());
        double tolerance = 2 * rounding + ULP;

        List<Run> ranks = LocalRanks.run(p, g -> rank(g, start(g.rank() == 0 ? 7 : 100 + g.rank()), cfg,
                batches.stream().map(b -> Slices.of(b, g.rank(), g.size())).toList()));
        for (Run r : ranks.subList(1, p)) assertEquals(0.0, distance(ranks.getFirst().state(), r.state()), "every rank holds rank 0's state");
        Run dp = ranks.getFirst();
        double drift = distance(one.state(), dp.state());
        assertTrue(drift <= tolerance, "data parallel drifted " + drift + " from one device; rounding alone gives " + rounding);
        Run wrong = oneDevice(cfg, batches.stream().map(b -> Slices.of(b, 0, p)).toList());
        assertTrue(tolerance < distance(one.state(), wrong.state()) / 100, "the tolerance must separate a step on rank 0's slice alone");

        assertArrayEquals(one.state().sinceFired(), dp.state().sinceFired(), "dead counters: fired on any rank means fired");
        assertEquals(one.state().step(), dp.state().step());
        for (int s = 0; s < STEPS; s++) {
            StepMetrics a = one.metrics().get(s), b = dp.metrics().get(s);
            assertEquals(a.fvu(), b.fvu(), 1e-5 * a.fvu(), "fvu at step " + (s + 1));
            assertEquals(a.auxk(), b.auxk(), 1e-5 * a.auxk(), "auxk at step " + (s + 1));
            assertEquals(a.l0(), b.l0(), "l0 at step " + (s + 1));
            assertEquals(a.deadFraction(), b.deadFraction(), "dead fraction at step " + (s + 1));
            assertEquals(N, b.rows(), "the step reports the global batch");
        }
        assertTrue(one.metrics().getLast().auxk() > 0, "AuxK ran");
    }

    /** One rank: the global denominators and the reductions change nothing, bit for bit. */
    @Test
    void oneRankIsOneDeviceBitForBit() {
        Gpu.assumeGpu();
        SaeConfig cfg = cfg(2f);
        List<Batch> batches = batches(22);
        Run one = oneDevice(cfg, batches);
        Run dp = rank(new SingleProcess(), start(7), cfg, batches);
        assertEquals(0.0, distance(one.state(), dp.state()));
        assertArrayEquals(one.state().sinceFired(), dp.state().sinceFired());
        assertEquals(one.metrics(), dp.metrics());
    }

    /** Where a GPU and NCCL are present: one rank on an NCCL communicator is the same step as one device. */
    @Test
    void oneRankOnNcclIsOneDevice() {
        Gpu.assumeGpu();
        assumeTrue(!Gpu.emulated(), "NCCL needs a GPU");
        String why = NcclGroup.unavailableReason(System.getenv());
        assumeTrue(why == null, () -> "no NCCL: " + why);
        System.setProperty("gsae.cuda.collectives", "nccl");
        try {
            SaeConfig cfg = cfg(2f);
            List<Batch> batches = batches(23);
            Run one = oneDevice(cfg, batches);
            Run dp = rank(new SingleProcess(), start(7), cfg, batches);
            assertEquals(0.0, distance(one.state(), dp.state()), "a one-rank all-reduce changes no bit");
            assertArrayEquals(one.state().sinceFired(), dp.state().sinceFired());
        } finally {
            System.clearProperty("gsae.cuda.collectives");
        }
    }

    /** As the host step: a rank whose state drifted is seen by every rank at the next check, and all take rank 0's. */
    @Test
    void ranksThatDriftApartTakeRankZerosStateAtTheNextCheck() {
        Gpu.assumeGpu();
        List<Batch> data = batches(24);
        assertResynced(LocalRanks.run(3, g -> {
            try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32);
                 CudaTrainingStep step = (CudaTrainingStep) device.startDataParallel(cfg(1f), new StartState.Held(start(5)), g)) {
                Batch slice = Slices.of(data.getFirst(), g.rank(), g.size());
                step.step(slice, LR);
                boolean before = step.agree();
                step.step(slice, g.rank() == 2 ? 2 * LR : LR); // the same gradients, another step on rank 2
                boolean drifted = step.agree(), after = step.agree();
                return new Resync(before, drifted, after, step.snapshot());
            }
        }));
    }

    /** The state's fingerprint on the device is its CPU twin's, {@link StateFingerprint}, bit for bit; past 1,024 blocks of words too. */
    @ParameterizedTest(name = "d={0}, M={1}")
    @CsvSource({"7, 13", "77, 3500"})
    void theDeviceFingerprintIsTheHostOne(int d, int m) {
        Gpu.assumeGpu();
        SplittableRandom rng = new SplittableRandom(d * 31L + m);
        Params[] p = {Params.zeros(d, m), Params.zeros(d, m), Params.zeros(d, m)};
        for (Params q : p)
            for (float[] a : new float[][] {q.wEnc(), q.bEnc(), q.wDec(), q.bDec()})
                for (int i = 0; i < a.length; i++) a[i] = Float.intBitsToFloat(rng.nextInt());
        long[] since = rng.longs(m).toArray();
        TrainState s = new TrainState(p[0], p[1], p[2], 3, since);
        SaeConfig cfg = SaeConfig.of(d, m, Math.min(4, m), 0f);
        try (CudaBackend device = CudaBackend.open(Gpu.device(), Precision.F32); CudaTrainingStep step = (CudaTrainingStep) device.open(cfg, s)) {
            long host = StateFingerprint.of(s);
            assertEquals(host, step.fingerprint());
            s.adamV().wDec()[s.adamV().wDec().length - 1] = Float.intBitsToFloat(Float.floatToRawIntBits(s.adamV().wDec()[s.adamV().wDec().length - 1]) ^ 1);
            assertNotEquals(host, StateFingerprint.of(s), "the last bit of the last word counts on the host");
            try (CudaTrainingStep flipped = (CudaTrainingStep) device.open(cfg, s)) {
                assertEquals(StateFingerprint.of(s), flipped.fingerprint(), "and on the device");
            }
        }
    }

    /** The staged collectives against the host's, across chunk boundaries (8-byte chunks, odd lengths). */
    @Test
    void stagedCollectivesMatchTheHostGroup() {
        Gpu.assumeGpu();
        long chunk = StagedGroup.chunkBytes;
        StagedGroup.chunkBytes = 8;
        try {
            List<Object[]> out = LocalRanks.run(3, host -> {
                try (Driver driver = Gpu.emulated() ? EmulatedDevice.open() : CudaContext.open(Integer.parseInt(Gpu.device()))) {
                    driver.makeCurrent();
                    StagedGroup staged = new StagedGroup(driver, host);
                    int r = host.rank();
                    float[] sum = {r + 0.5f, -r, 3 * r, 1, 2};
                    long[] min = {10 - r, r, 7};
                    float[] mine = {r, r + 0.25f, -r}, all = new float[9];
                    double[] root = {r == 1 ? 42.5 : -1, r == 1 ? 7 : -1, r};
                    try (DeviceBuffer a = DeviceBuffer.allocate(driver, 20, "sum"); DeviceBuffer b = DeviceBuffer.allocate(driver, 24, "min");
                         DeviceBuffer s = DeviceBuffer.allocate(driver, 12, "send"); DeviceBuffer g = DeviceBuffer.allocate(driver, 36, "gathered");
                         DeviceBuffer c = DeviceBuffer.allocate(driver, 24, "broadcast")) {
                        a.upload(sum);
                        b.upload(min);
                        s.upload(mine);
                        c.upload(root);
                        staged.allReduce(device(a), ElementType.F32, ReduceOp.SUM);
                        staged.allReduce(device(b), ElementType.I64, ReduceOp.MIN);
                        staged.allGather(device(s), device(g), ElementType.F32);
                        staged.broadcast(device(c), ElementType.F64, 1);
                        a.download(sum);
                        b.download(min);
                        g.download(all);
                        c.download(root);
                    }
                    return new Object[] {sum, min, all, root};
                }
            });
            for (Object[] o : out) {
                assertArrayEquals(new float[] {0.5f + 1.5f + 2.5f, -3, 9, 3, 6}, (float[]) o[0]);
                assertArrayEquals(new long[] {8, 0, 7}, (long[]) o[1]);
                assertArrayEquals(new float[] {0, 0.25f, 0, 1, 1.25f, -1, 2, 2.25f, -2}, (float[]) o[2]);
                assertArrayEquals(new double[] {42.5, 7, 1}, (double[]) o[3], Arrays.toString((double[]) o[3]));
            }
        } finally {
            StagedGroup.chunkBytes = chunk;
        }
    }

    @SuppressWarnings("restricted")
    private static MemorySegment device(DeviceBuffer b) {
        return MemorySegment.ofAddress(b.address()).reinterpret(b.bytes());
    }
}
