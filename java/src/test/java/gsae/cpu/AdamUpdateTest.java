package gsae.cpu;

import gsae.ops.Ops;
import gsae.ops.Params;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two update steps on a tiny SAE (d = 17: a full vector of 8 or 16 lanes plus a scalar tail),
 * against Adam worked out by hand. With zero moments, step 1 moves every coordinate with g ≠ 0 by
 * lr·g/(|g| + ε) ≈ ±lr (m̂ = g, v̂ = g²) and leaves g = 0 alone; step 2 with g' = −g/2 gives
 * m = 0.9·0.1g + 0.1g' = 0.04g, v = 0.999·0.001g² + 0.001g'² = 0.001249g², c1 = 0.19, c2 = 0.001999,
 * so θ moves by −lr·(0.04/0.19)/√(0.001249/0.001999)·sign(g) = −0.266335…·lr·sign(g).
 * Tolerance: float rounding of values near 1, a few ulps (2^-20 absolute).
 */
class AdamUpdateTest {

    private static final int D = 17;
    private static final float LR = 0.01f;
    private static final double TOL = 0x1p-20;

    static Stream<Ops> implementations() {
        return Stream.of(new ReferenceOps(), new FastOps(1), new FastOps(2));
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void twoStepsMatchHandComputation(Ops ops) {
        Params p = Params.zeros(D, 2), g = Params.zeros(D, 2), m = Params.zeros(D, 2), v = Params.zeros(D, 2);
        Arrays.fill(p.wEnc(), 0.5f);
        for (int j = 0; j < D; j++) {
            g.wEnc()[j] = 0.2f;
            g.wEnc()[D + j] = -0.4f;
            g.wDec()[j] = j == 0 ? 0.3f : 0.1f;
            g.wDec()[D + j] = j == D - 1 ? 0.7f : -0.2f;
            p.bDec()[j] = 1f;
            g.bDec()[j] = -1f;
        }
        p.wDec()[0] = 1f;
        p.wDec()[2 * D - 1] = 1f;
        p.bEnc()[0] = 0.25f;
        p.bEnc()[1] = -0.5f;
        g.bEnc()[1] = 0.3f;

        ops.update(p, g.copy(), m, v, LR, 1);
        // W_dec row 0 = e_0: projection removes g's first value, the rest (0.1) step by −lr, then renormalise.
        double norm = Math.sqrt(1 + (D - 1) * (double) LR * LR);
        for (int j = 0; j < D; j++) {
            assertNear(0.5 - LR, p.wEnc()[j], "W_enc row 0");
            assertNear(0.5 + LR, p.wEnc()[D + j], "W_enc row 1");
            assertNear((j == 0 ? 1 : -LR) / norm, p.wDec()[j], "W_dec row 0");
            assertNear((j == D - 1 ? 1 : LR) / norm, p.wDec()[D + j], "W_dec row 1 (e_{d−1}, tail lane)");
            assertNear(1 + LR, p.bDec()[j], "b_dec");
        }
        assertNear(0.25, p.bEnc()[0], "b_enc with zero gradient");
        assertNear(-0.5 - LR, p.bEnc()[1], "b_enc");
        assertEquals(0f, m.bEnc()[0], "a zero gradient leaves the first moment at zero");
        assertNear(0.1 * 0.2, m.wEnc()[0], "first moment");
        assertNear(0.001 * 0.2 * 0.2, v.wEnc()[0], "second moment");

        Params g2 = Params.zeros(D, 2);
        for (int j = 0; j < 2 * D; j++) g2.wEnc()[j] = -g.wEnc()[j] / 2;
        g2.bEnc()[1] = -g.bEnc()[1] / 2;
        ops.update(p, g2, m, v, LR, 2);
        double second = (0.04 / 0.19) / Math.sqrt(0.001249 / 0.001999);
        for (int j = 0; j < D; j++) {
            assertNear(0.5 - LR - second * LR, p.wEnc()[j], "W_enc row 0, step 2");
            assertNear(0.5 + LR + second * LR, p.wEnc()[D + j], "W_enc row 1, step 2");
        }
        assertNear(-0.5 - LR - second * LR, p.bEnc()[1], "b_enc, step 2");
    }

    private static void assertNear(double expected, float actual, String what) {
        assertEquals(expected, actual, TOL, what);
    }
}
