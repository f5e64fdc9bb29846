package gsae.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The emulated device's checks, each against a kernel of emulator/test/faults.cu that breaks the
 * execution model one way (make emulator-planted builds that library; make test requires it):
 * every fault must stop the launch with one line naming the kernel, the block, the thread and
 * what went wrong, and the correct kernel must run clean under every order.
 */
class EmulatedDeviceTest {

    private static final Path FAULTS = Path.of("..", "emulator", "build", "faults", "libgsae_emu.so");
    private static EmulatedDevice device;
    private static Scratch scratch;

    @BeforeAll
    static void open() {
        if (!Files.isRegularFile(FAULTS)) {
            if (Boolean.getBoolean("gsae.emulator.required")) fail(FAULTS + " is missing: run make emulator-planted");
            assumeTrue(false, FAULTS + " is not built (make emulator-planted)");
        }
        device = EmulatedDevice.open(FAULTS, new EmulatedDevice.Settings(EmulatedDevice.Schedule.FORWARD, 1, 7));
        device.loadModule("faults");
        scratch = new Scratch(device);
    }

    @AfterAll
    static void close() {
        if (scratch != null) scratch.close();
    }

    private static Kernel kernel(String name) {
        return new Kernel(device, device.launcher("faults", name), name);
    }

    private static String failure(String name, int threads, Object... args) {
        CudaException e = assertThrows(CudaException.class, () -> kernel(name).launch(1, 1, threads, args));
        String m = e.getMessage();
        assertTrue(m.startsWith("emulated launch of " + name), m);
        assertTrue(m.contains(name + ", block (0,0,0)"), m);
        assertEquals(-1, m.indexOf('\n'), m);
        return m;
    }

    @Test
    void aCorrectKernelRunsUnderEveryOrder() {
        for (EmulatedDevice.Schedule order : EmulatedDevice.Schedule.values()) {
            EmulatedDevice d = EmulatedDevice.open(FAULTS, new EmulatedDevice.Settings(order, 2, 11));
            try (Scratch s = new Scratch(d)) {
                DeviceBuffer out = s.ints("out", 64);
                new Kernel(d, d.launcher("faults", "fine"), "fine").launch(1, 1, 64, out);
                int[] got = new int[64];
                out.download(got);
                for (int t = 0; t < 64; t++) {
                    int warp = t / 32, sum = 0;
                    for (int l = 0; l < 32; l++) sum += (32 * warp + l + 1) % 64;
                    assertEquals(sum, got[t], order + " thread " + t);
                }
            }
        }
    }

    @Test
    void launchGeometryIsChecked() {
        DeviceBuffer out = scratch.ints("out", 2048);
        assertTrue(failure0("fine", 128, out).contains("__launch_bounds__(64)"));
        assertTrue(failure0("partial_barrier", 2048, out).contains("exceeds CUDA's limits"));
        assertTrue(failure0("fine", 64, out, 3).contains("2 arguments passed, the kernel takes 1"));
        assertTrue(failure0("read_at", 64, out, 3, out).contains("argument 1 is 4 bytes, the kernel's parameter is 8"));
    }

    private static String failure0(String name, int threads, Object... args) {
        return assertThrows(CudaException.class, () -> kernel(name).launch(1, 1, threads, args)).getMessage();
    }

    @Test
    void aBarrierThatAThreadSkipsIsReported() {
        String m = failure("partial_barrier", 64, scratch.ints("out", 64));
        assertTrue(m.contains("reached by only part of the block") && m.contains("thread 5"), m);
    }

    @Test
    void barriersAtDifferentPlacesAreReported() {
        String m = failure("divergent_barrier", 64, scratch.ints("out", 64));
        assertTrue(m.contains("threads reach different __syncthreads: faults.cu:"), m);
    }

    @Test
    void badWarpMasksAreReported() {
        DeviceBuffer out = scratch.ints("out", 64);
        String m = failure("mask_without_caller", 32, out);
        assertTrue(m.contains("__shfl_sync") && m.contains("mask 0000ffff, which leaves out the calling lane 16"), m);
        m = failure("mask_names_exited", 32, out);
        assertTrue(m.contains("thread 31 exited") && m.contains("wait at __shfl_xor_sync"), m);
        m = failure("mismatched_collectives", 32, out);
        assertTrue(m.contains("__ballot_sync") && m.contains("__shfl_sync"), m);
        m = failure("barrier_inside_shuffle", 32, out);
        assertTrue(m.contains("__syncthreads (faults.cu:") && m.contains("__shfl_sync (faults.cu:"), m);
    }

    @Test
    void outOfBoundsReadsNameTheBuffer() {
        DeviceBuffer in = scratch.floats("weights", 64), out = scratch.floats("out", 64);
        in.upload(new float[64]);
        String m = failure("read_past_end", 64, in, out);
        assertTrue(m.contains("thread 63") && m.contains("past the end of device buffer 'weights' (256 bytes)"), m);
        m = failure("read_at", 1, in, 1L << 40, out);
        assertTrue(m.contains("thread 0") && m.contains("in no device buffer"), m);
        // the device still works after a fault
        aCorrectKernelRunsUnderEveryOrder();
    }

    @Test
    void resultsThatDependOnTheThreadOrderAreReported() {
        String m = failure0("racy_broadcast", 64, scratch.ints("out", 64));
        assertTrue(m.contains("is not deterministic") && m.contains("buffer 'out' differs"), m);
    }

    @Test
    void unwrittenSharedMemoryIsPoisonedDifferentlyEachRun() {
        String m = failure0("unwritten_shared", 64, scratch.floats("out", 64));
        assertTrue(m.contains("is not deterministic"), m);
        EmulatedDevice once = EmulatedDevice.open(FAULTS, new EmulatedDevice.Settings(EmulatedDevice.Schedule.FORWARD, 0, 3));
        try (Scratch s = new Scratch(once)) {
            DeviceBuffer out = s.floats("out", 64);
            new Kernel(once, once.launcher("faults", "unwritten_shared"), "unwritten_shared").launch(1, 1, 64, out);
            float[] got = new float[64];
            out.download(got);
            for (float v : got) assertTrue(Float.isNaN(v), "shared memory poison is a NaN pattern");
        }
    }

    @Test
    void aThreadSpinningForeverIsStoppedByTheWatchdog() {
        EmulatedDevice impatient = EmulatedDevice.open(FAULTS, new EmulatedDevice.Settings(EmulatedDevice.Schedule.FORWARD, 0, 5, 1));
        try (Scratch s = new Scratch(impatient)) {
            DeviceBuffer flag = s.ints("flag", 1);
            flag.zero(4);
            Kernel spin = new Kernel(impatient, impatient.launcher("faults", "spin_wait"), "spin_wait");
            String m = assertThrows(CudaException.class, () -> spin.launch(1, 1, 32, flag)).getMessage();
            assertTrue(m.contains("spin_wait, block (0,0,0), thread 0: still running after 1000 ms"), m);
        }
        aCorrectKernelRunsUnderEveryOrder();  // the device still works after the watchdog
    }

    @Test
    void freshBuffersArePoisoned() {
        DeviceBuffer fresh = scratch.floats("fresh", 16);
        float[] got = new float[16];
        fresh.download(got);
        for (float v : got) assertTrue(Float.isNaN(v), "fresh device memory is a NaN pattern");
    }
}
