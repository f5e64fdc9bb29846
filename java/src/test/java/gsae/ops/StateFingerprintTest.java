package gsae.ops;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The fingerprint data-parallel ranks compare sees every bit of the state, and where each word sits. */
class StateFingerprintTest {

    /** A state of random bits (NaN payloads, −0 and subnormals included), d = 2, M = 3. */
    static TrainState random(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Params[] p = {Params.zeros(2, 3), Params.zeros(2, 3), Params.zeros(2, 3)};
        for (Params q : p)
            for (float[] a : new float[][] {q.wEnc(), q.bEnc(), q.wDec(), q.bDec()})
                for (int i = 0; i < a.length; i++) a[i] = Float.intBitsToFloat(rng.nextInt());
        return new TrainState(p[0], p[1], p[2], 9, new long[] {rng.nextLong(), rng.nextLong(), rng.nextLong()});
    }

    static float[][] tensors(TrainState s) {
        return new float[][] {s.params().wEnc(), s.params().bEnc(), s.params().wDec(), s.params().bDec(), s.adamM().wEnc(), s.adamM().bEnc(),
                s.adamM().wDec(), s.adamM().bDec(), s.adamV().wEnc(), s.adamV().bEnc(), s.adamV().wDec(), s.adamV().bDec()};
    }

    @Test
    void everySingleBitFlipChangesItAndNoTwoCollide() {
        TrainState s = random(1);
        long base = StateFingerprint.of(s);
        Set<Long> seen = new HashSet<>(Set.of(base));
        int flips = 0;
        for (float[] a : tensors(s))
            for (int i = 0; i < a.length; i++)
                for (int bit = 0; bit < 32; bit++) {
                    float before = a[i];
                    a[i] = Float.intBitsToFloat(Float.floatToRawIntBits(before) ^ (1 << bit));
                    seen.add(StateFingerprint.of(s));
                    a[i] = before;
                    flips++;
                }
        long[] since = s.sinceFired();
        for (int i = 0; i < since.length; i++)
            for (int bit = 0; bit < 64; bit++) {
                since[i] ^= 1L << bit;
                seen.add(StateFingerprint.of(s));
                since[i] ^= 1L << bit;
                flips++;
            }
        assertEquals(flips + 1, seen.size(), "each of the " + flips + " one-bit changes has its own fingerprint");
        assertEquals(base, StateFingerprint.of(s), "restored");
    }

    @Test
    void movingAWordOrATensorChangesIt() {
        TrainState s = random(2);
        long base = StateFingerprint.of(s);
        float[] w = s.params().wEnc();
        float t = w[0];
        w[0] = w[1];
        w[1] = t;
        assertNotEquals(base, StateFingerprint.of(s), "two words swapped within a tensor");
        w[1] = w[0];
        w[0] = t;
        float[] m = s.adamM().wEnc();
        float[] copy = w.clone();
        System.arraycopy(m, 0, w, 0, w.length);
        System.arraycopy(copy, 0, m, 0, m.length);
        assertNotEquals(base, StateFingerprint.of(s), "W_enc and its first moment swapped");
        assertEquals(StateFingerprint.of(s), StateFingerprint.of(s.atStep(1234)), "the step count is not part of it");
    }
}
