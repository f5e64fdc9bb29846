package gsae.api;

import gsae.config.UserError;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepBenchTest {

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @Test
    void shapesTooLargeForAJavaArrayNameTheOption() {
        UserError e = assertThrows(UserError.class, () -> new StepBench.Shape(4096, 1_000_000, 32, 0.5f, 64));
        assertTrue(e.getMessage().startsWith("--latents"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StepBench.Shape(8, 4, 8, 0f, 16));
        assertTrue(new StepBench.Shape(16, 64, 4, 0.5f, 32).heapBytes() > 4L * 4 * (2 * 64 * 16));
    }

    @Test
    void stepsAreTimedAndTheFusedPathReportsItsPruning() {
        StepBench.Shape shape = new StepBench.Shape(512, 64, 4, 0.5f, 32); // d = 512: the fused path prunes from d = 512 on
        try (StepBench reference = StepBench.open(shape, SaeBackend.REFERENCE, false, 1, 3, QUIET)) {
            assertTrue(reference.step() > 0);
            assertEquals("reference", reference.backendName());
            assertNull(reference.pruning());
        }
        try (StepBench fused = StepBench.open(shape, SaeBackend.CPU, false, 1, 3, QUIET)) {
            fused.step();
            StepBench.Pruning p = fused.pruning();
            assertNotNull(p);
            assertEquals(32, p.rows());
            assertTrue(p.survivorFraction() > 0 && p.survivorFraction() <= 1, p.toString());
        }
    }
}
