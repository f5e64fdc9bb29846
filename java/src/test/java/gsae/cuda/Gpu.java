package gsae.cuda;

import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared by the GPU test classes: one backend per precision, opened on first use and closed by
 * {@link #closeAll}; every test is skipped (not failed) when {@link CudaBackend#unavailableReason}
 * says there is no usable GPU. Outputs are NaN/−1-poisoned by {@link CudaOps} before every launch.
 */
final class Gpu {

    private static final Map<Precision, CudaBackend> OPEN = new EnumMap<>(Precision.class);
    private static CudaBackend dense;

    private Gpu() {}

    static void assumeGpu() {
        String why = CudaBackend.unavailableReason();
        assumeTrue(why == null, () -> "no usable GPU: " + why);
    }

    static synchronized CudaBackend backend(Precision precision) {
        assumeGpu();
        return OPEN.computeIfAbsent(precision, p -> CudaBackend.open(0, p));
    }

    /** The cuBLAS dense baseline. */
    static synchronized CudaBackend dense() {
        assumeGpu();
        if (dense == null) dense = CudaBackend.openDense(0);
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
     * tiles and a partial one; β alternates 0 and 0.5; plus M = 24,576 at d = 768.
     */
    static List<CheckCase> cases() {
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

    static Stream<Arguments> casesInBothPrecisions() {
        return Stream.of(Precision.values()).flatMap(p -> cases().stream().map(c -> Arguments.of(p, c)));
    }
}
