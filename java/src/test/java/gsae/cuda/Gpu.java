package gsae.cuda;

import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared by the GPU test classes: one backend per precision, opened on first use and closed by
 * {@link #closeAll}; every test is skipped (not failed) when {@link CudaBackend#unavailableReason}
 * says there is no usable GPU. Outputs are NaN/−1-poisoned by {@link CudaOps} before every launch.
 * With {@code -Dgsae.cuda.device=emulated} (make test does this) the same tests run on the
 * emulated device, on the smaller shapes of {@link #cases} and {@link #steps}, and every launch is
 * rerun under another thread order (EmulatedDevice's verification) and must give the same bits.
 */
final class Gpu {

    private static final Map<Precision, CudaBackend> OPEN = new EnumMap<>(Precision.class);
    private static CudaBackend dense;

    private Gpu() {}

    /** The device under test: {@code -Dgsae.cuda.device} (make test sets it), else GPU 0. */
    static String device() {
        return CudaBackend.defaultDevice();
    }

    /** True when the tests run on the emulated device. */
    static boolean emulated() {
        return CudaBackend.EMULATED.equals(device());
    }

    /** Training steps compared with the reference: 20 on a GPU, 6 on the emulated device. */
    static int steps() {
        return emulated() ? 6 : 20;
    }

    /** Skips without a usable device; fails instead when {@code -Dgsae.emulator.required=true} (make test) and the emulated device is missing. */
    static void assumeGpu() {
        String why = CudaBackend.unavailableReason(device());
        if (emulated() && Boolean.getBoolean("gsae.emulator.required")) assertNull(why, "the emulated device is required here");
        assumeTrue(why == null, () -> "no usable GPU: " + why);
    }

    static synchronized CudaBackend backend(Precision precision) {
        assumeGpu();
        return OPEN.computeIfAbsent(precision, p -> CudaBackend.open(device(), p));
    }

    /** The cuBLAS dense baseline. */
    static synchronized CudaBackend dense() {
        assumeGpu();
        if (dense == null) dense = CudaBackend.openDense(device());
        return dense;
    }

    static synchronized void closeAll() {
        OPEN.values().forEach(CudaBackend::close);
        OPEN.clear();
        if (dense != null) dense.close();
        dense = null;
    }

    static SelfCheck check(Precision precision) {
        return new SelfCheck(backend(precision).ops(), precision, precision.name().toLowerCase(java.util.Locale.ROOT));
    }

    static void assertAgrees(CheckResult r) {
        assertTrue(r.ok(), r.row());
    }

    /**
     * Widths 1, 7, 64, 77, 768; M from k to a few thousand (129 and 3000 straddle the 128-latent
     * tile); k 1, 8, 32 and k above the tile (160, 200 with M = k); N = 70 is two full 32-token
     * tiles and a partial one; β alternates 0 and 0.5; plus M = 24,576 at d = 768. On the
     * emulated device {@link #emulatedCases}.
     */
    static List<CheckCase> cases() {
        if (emulated()) return emulatedCases();
        List<CheckCase> cases = new ArrayList<>();
        long seed = 100;
        for (int d : new int[]{1, 7, 64, 77, 768}) {
            int[] ks = d == 7 || d == 77 ? new int[]{1, 8, 32} : new int[]{8};
            for (int k : ks)
                for (int m : new int[]{k, 129, 1000, 3000}) {
                    if (m < k) continue;
                    cases.add(CheckCase.of(70, d, m, k, seed % 2 == 0 ? 0f : 0.5f, seed));
                    seed++;
                }
        }
        cases.add(CheckCase.of(40, 64, 200, 200, 0.5f, seed++));
        cases.add(CheckCase.of(40, 77, 1000, 160, 0f, seed++));
        cases.add(CheckCase.of(8, 768, 24_576, 32, 0.5f, seed));
        return cases;
    }

    /**
     * The emulated device's shapes: widths 1, 7 and 77 (odd, below and above a 32-deep bf16
     * stage), M = k, 129 (a partial 128-latent tile) and 300; k 1, 8, 32 at d = 77; k above the
     * tile (200 with M = k, 160 with M = 300); N = 70 (two full 32-token tiles and a partial one).
     */
    static List<CheckCase> emulatedCases() {
        List<CheckCase> cases = new ArrayList<>();
        long seed = 100;
        for (int d : new int[]{1, 7, 77})
            for (int k : d == 77 ? new int[]{1, 8, 32} : new int[]{8})
                for (int m : new int[]{k, 129, 300}) {
                    if (m < k) continue;
                    cases.add(CheckCase.of(70, d, m, k, seed % 2 == 0 ? 0f : 0.5f, seed));
                    seed++;
                }
        cases.add(CheckCase.of(40, 64, 200, 200, 0.5f, seed++));
        cases.add(CheckCase.of(40, 77, 300, 160, 0f, seed));
        return cases;
    }

    static Stream<Arguments> casesInBothPrecisions() {
        return Stream.of(Precision.values()).flatMap(p -> cases().stream().map(c -> Arguments.of(p, c)));
    }
}
