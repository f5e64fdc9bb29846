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

    @Test
    void aProductPastSixtyFourBitsIsAUserErrorNotAWrappedCount() {
        assertEquals(1_000_000L * 4096, Sizes.product("--latents", 1_000_000, 4096));
        UserError e = assertThrows(UserError.class, () -> Sizes.product("--latents", Long.MAX_VALUE / 2, 3));
        assertTrue(e.getMessage().startsWith("--latents: ") && e.getMessage().contains("overflow"), e.getMessage());
        assertThrows(UserError.class, () -> Sizes.bytes("--batch", Long.MAX_VALUE / 2, 4));
    }
}
