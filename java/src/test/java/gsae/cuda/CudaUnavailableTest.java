package gsae.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** How the backend behaves on a machine without a usable GPU (skipped where one is present); the GPU is named ("0") so that -Dgsae.cuda.device does not change what is probed. */
class CudaUnavailableTest {

    @Test
    void reasonIsStableAndOneLineOrNull() {
        String first = CudaBackend.unavailableReason("0");
        assertSame(first, CudaBackend.unavailableReason("0"), "probed once, answered the same");
        if (first != null) {
            assertFalse(first.isBlank());
            assertFalse(first.contains("\n"), first);
        }
    }

    @Test
    void withoutDriverTheReasonNamesIt() {
        String driver = CudaProbe.driverLibrary();
        assumeTrue(driver != null, "libcuda.so.1 is present here");
        assertEquals(driver, CudaBackend.unavailableReason("0"));
        assertTrue(driver.contains("libcuda.so.1"), driver);
    }

    @Test
    void openThrowsTheReason() {
        String why = CudaBackend.unavailableReason("0");
        assumeTrue(why != null, "a GPU is usable here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaBackend.open("0", Precision.BF16));
        assertEquals(why, e.getMessage());
        assertThrows(IllegalStateException.class, () -> CudaBackend.openDense("0"));
    }
}
