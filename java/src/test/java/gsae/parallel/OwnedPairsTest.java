package gsae.parallel;

import gsae.ops.Selection;
import org.junit.jupiter.api.Test;

import static gsae.parallel.OwnedPairs.ELSEWHERE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A rank's view of a global selection, as the device kernels take it and as the counters need it. */
class OwnedPairsTest {

    /** Two tokens, four slots: owned latents 2 and 0 in the first, only latent 3 in the second. */
    private static final OwnedPairs PAIRS = new OwnedPairs(2, 4, new int[] {ELSEWHERE, 2, ELSEWHERE, 0, 3, ELSEWHERE, ELSEWHERE, ELSEWHERE},
            new float[] {0, 1.5f, 0, 0.25f, 2f, 0, 0, 0});

    @Test
    void paddedSlotsTakeDistinctUnusedLatentsAtZero() {
        Selection s = PAIRS.padded(5);
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, s.indices(), "each token's latents distinct and ascending");
        assertArrayEquals(new float[] {0.25f, 0, 1.5f, 0, 0, 0, 0, 2f}, s.values(), "owned slots keep a, padding adds nothing");
        assertThrows(IllegalArgumentException.class, () -> PAIRS.padded(3), "three latents cannot fill four distinct slots");
    }

    @Test
    void ownedListsTheFiredLatentsOnce() {
        Selection s = PAIRS.owned();
        assertEquals(3, s.n());
        assertArrayEquals(new int[] {2, 0, 3}, s.indices());
        assertArrayEquals(new float[] {1.5f, 0.25f, 2f}, s.values());
    }
}
