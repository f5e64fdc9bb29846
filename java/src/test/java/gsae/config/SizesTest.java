package gsae.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Size checks at the boundaries, computed without allocating anything. */
class SizesTest {

    @Test
    void justBelowTheArrayLimitPassesAndJustAboveNamesTheOptionTheLimitAndTheWayAround() {
        assertEquals(Sizes.MAX_ARRAY, Sizes.hostArray("--latents", "latents", Sizes.MAX_ARRAY, 1));
        long cols = 4096, rows = Sizes.MAX_ARRAY / cols; // 524,287 latents at d = 4,096
        assertEquals(rows * cols, Sizes.hostArray("--latents", "latents", rows, cols));
        UserError e = assertThrows(UserError.class, () -> Sizes.hostArray("--latents", "latents", rows + 1, cols));
        assertTrue(e.getMessage().startsWith("--latents: 524,288 latents × 4,096 = 2,147,483,648 elements"), e.getMessage());
        assertTrue(e.getMessage().contains("2,147,483,639") && e.getMessage().contains("at most 524,287 latents"), e.getMessage());
        assertThrows(UserError.class, () -> Sizes.hostArray("--batch", "tokens per batch", 50_000_000, 768));
    }

    /** The state's weights at d = 4,096: 524,287 latents fit one array, 524,288 (2³¹ elements) and the 1M are refused with the way around. */
    @Test
    void theStatePastOneArrayIsRefusedNamingTheCudaBackend() {
        assertEquals(524_287L * 4096, Sizes.hostState("--latents", 524_287, 4096));
        for (long m : new long[]{524_288, 1 << 20}) {
            UserError e = assertThrows(UserError.class, () -> Sizes.hostState("--latents", m, 4096));
            assertTrue(e.getMessage().startsWith(String.format("--latents: %,d latents × 4,096 = %,d elements", m, m * 4096)), e.getMessage());
            assertTrue(e.getMessage().contains("at most 524,287 latents") && e.getMessage().contains("--backend cuda"), e.getMessage());
        }
        assertEquals(4L << 30, Sizes.product("--latents", 1 << 20, 4096), "the device side counts the same SAE in long");
    }

    @Test
    void aProductPastSixtyFourBitsIsAUserErrorNotAWrappedCount() {
        assertEquals(1_000_000L * 4096, Sizes.product("--latents", 1_000_000, 4096));
        UserError e = assertThrows(UserError.class, () -> Sizes.product("--latents", Long.MAX_VALUE / 2, 3));
        assertTrue(e.getMessage().startsWith("--latents: ") && e.getMessage().contains("overflow"), e.getMessage());
        assertThrows(UserError.class, () -> Sizes.bytes("--batch", Long.MAX_VALUE / 2, 4));
    }
}
