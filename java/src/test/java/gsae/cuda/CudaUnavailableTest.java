package gsae.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** How the backend behaves on a machine without a usable GPU (skipped where one is present). */
class CudaUnavailableTest {

    @Test
    void reasonIsStableAndOneLineOrNull() {
        String first = CudaBackend.unavailableReason();
        assertSame(first, CudaBackend.unavailableReason(), "probed once, answered the same");
        if (first != null) {
            assertFalse(first.isBlank());
            assertFalse(first.contains("\n"), first);
        }
    }

    @Test
    void withoutDriverTheReasonNamesIt() {
        String driver = CudaProbe.driverLibrary();
        assumeTrue(driver != null, "libcuda.so.1 is present here");
        assertEquals(driver, CudaBackend.unavailableReason());
        assertTrue(driver.contains("libcuda.so.1"), driver);
    }

    @Test
    void openThrowsTheReason() {
        String why = CudaBackend.unavailableReason();
        assumeTrue(why != null, "a GPU is usable here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaBackend.open(0));
        assertEquals(why, e.getMessage());
        assertThrows(IllegalStateException.class, () -> CudaBackend.openDense(0));
    }
}
