package gsae.ops;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counter-based generator behind SPEC §5's initialisation (update.cu's init_decoder is its device twin). */
class InitRandomTest {

    @Test
    void logAgreesWithTheJdkToAFewUlps() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            double x = i < 60 ? Math.scalb(1.0, -i) * (1 + i % 3 * 0.25) : rng.nextDouble();
            if (x == 0 || x >= 1) continue;
            double want = Math.log(x);
            assertEquals(want, InitRandom.log(x), 4 * Math.ulp(want), "ln " + x);
        }
    }

    @Test
    void uniformsAreExactAndInsideTheOpenInterval() {
        assertEquals(-1.0 + 0x1p-32, InitRandom.uniform(0));
        assertEquals(1.0 - 0x1p-32, InitRandom.uniform(-1));
        assertEquals(0x1p-32, InitRandom.uniform(Integer.MIN_VALUE));
    }

    /** Mean, variance and fourth moment of 200,000 draws within five standard errors of a standard normal's 0, 1, 3. */
    @Test
    void drawsAreStandardNormal() {
        int n = 200_000;
        double s1 = 0, s2 = 0, s4 = 0;
        for (int i = 0; i < n; i++) {
            double z = InitRandom.gaussian(42, i);
            s1 += z;
            s2 += z * z;
            s4 += z * z * z * z;
        }
        assertEquals(0, s1 / n, 5 * Math.sqrt(1.0 / n));
        assertEquals(1, s2 / n, 5 * Math.sqrt(2.0 / n));
        assertEquals(3, s4 / n, 5 * Math.sqrt(96.0 / n));
    }

    /** Element (i, j) depends on (seed, i·d + j) alone: a row drawn alone equals that row of the whole init; seeds differ. */
    @Test
    void rowsAreDrawnIndependentlyAndHaveUnitNorm() {
        int d = 37, m = 11;
        Params p = Params.init(d, m, 9, new float[d]);
        float[] row = new float[d];
        InitRandom.decoderRow(9, d, 7, row, 0);
        float[] want = new float[d];
        System.arraycopy(p.wDec(), 7 * d, want, 0, d);
        assertArrayEquals(want, row);
        assertArrayEquals(p.wDec(), p.wEnc(), "W_enc = W_dec");
        for (int i = 0; i < m; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) p.wDec()[i * d + j] * p.wDec()[i * d + j];
            assertEquals(1.0, Math.sqrt(ss), 1e-6, "row " + i);
        }
        InitRandom.decoderRow(10, d, 7, row, 0);
        assertNotEquals(want[0], row[0]);
        assertTrue(InitRandom.gaussian(9, 1L << 40) != InitRandom.gaussian(9, (1L << 40) + 1), "indices past 2³¹ are distinct draws");
    }
}
