package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FusedEncoderTest {

    private static final ReferenceOps REFERENCE = new ReferenceOps();

    @ParameterizedTest(name = "n={0} d={1} M={2} k={3} beta={4} dead={5} auxK={6}")
    @CsvSource({
            "7,   1,    1,  1, 0,   0,   0",
            "13,  1,   50,  3, 0.5, 0.3, 4",
            "100, 7,    7,  7, 0,   0.5, 100",
            "100, 7,   33,  1, 1,   0,   0",
            "20,  64, 256, 32, 0,   0.2, 16",
            "20,  64, 256, 32, 1,   0.2, 16",
            "9,   77, 1000, 5, 0.3, 0,   0",
            "9,   77, 1000, 5, 0,   0.1, 300",
            "200, 64, 129, 16, 2,   0.4, 8",
            "6,   77, 4096, 32, 0,  0,   0",
            "6,   64, 2048, 1, 1,   0.05, 64",
    })
    void matchesReference(int n, int d, int m, int k, float beta, double deadFraction, int auxK) {
        long seed = 31L * n + 7L * d + m + k;
        Params p = EncodeCheck.params(seed, d, m);
        Batch b = EncodeCheck.batch(seed + 1, n, d);
        boolean[] dead = deadFraction > 0 ? EncodeCheck.dead(seed + 2, m, deadFraction) : null;
        Encoded want = REFERENCE.encodeSelect(p, b, beta, k, dead, auxK);
        Encoded got;
        try (Workers workers = new Workers(2)) {
            got = new FusedEncoder(workers).encodeSelect(p, b, beta, k, dead, auxK);
        }
        EncodeCheck.Scores scores = EncodeCheck.Scores.of(p, b, beta);
        EncodeCheck.assertMatches(want.top(), got.top(), scores, null, "top");
        if (want.aux() == null) {
            assertNull(got.aux(), "aux must be null when no latent is dead or auxK = 0");
        } else {
            assertNotNull(got.aux(), "aux missing");
            EncodeCheck.assertMatches(want.aux(), got.aux(), scores, dead, "aux");
        }
    }

    @Test
    void resultDoesNotDependOnThreadCount() {
        Params p = EncodeCheck.params(5, 33, 300);
        Batch b = EncodeCheck.batch(6, 250, 33);
        boolean[] dead = EncodeCheck.dead(7, 300, 0.3);
        Encoded one;
        try (Workers w = new Workers(1)) {
            one = new FusedEncoder(w).encodeSelect(p, b, 0.8f, 9, dead, 12);
        }
        for (int threads : new int[]{2, 3}) {
            try (Workers w = new Workers(threads)) {
                Encoded many = new FusedEncoder(w).encodeSelect(p, b, 0.8f, 9, dead, 12);
                assertArrayEquals(one.top().indices(), many.top().indices(), threads + " threads: top indices");
                assertArrayEquals(one.top().values(), many.top().values(), threads + " threads: top values");
                assertArrayEquals(one.aux().indices(), many.aux().indices(), threads + " threads: aux indices");
                assertArrayEquals(one.aux().values(), many.aux().values(), threads + " threads: aux values");
            }
        }
    }

    /** Latent pairs (2j, 2j+1) share every weight, so their scores tie exactly; an odd k splits a pair. */
    @Test
    void tiesGoToTheLowerIndex() {
        int d = 11, m = 64, k = 5, n = 40;
        Params p = EncodeCheck.params(11, d, m);
        for (int i = 1; i < m; i += 2) {
            System.arraycopy(p.wEnc(), (i - 1) * d, p.wEnc(), i * d, d);
            System.arraycopy(p.wDec(), (i - 1) * d, p.wDec(), i * d, d);
            p.bEnc()[i] = p.bEnc()[i - 1];
        }
        Batch b = EncodeCheck.batch(12, n, d);
        boolean[] dead = new boolean[m];
        Arrays.fill(dead, 40, m, true);
        for (float beta : new float[]{0f, 1.5f}) {
            Encoded got;
            try (Workers w = new Workers(2)) {
                got = new FusedEncoder(w).encodeSelect(p, b, beta, k, dead, 3);
            }
            assertPairsKeptLowFirst(got.top().indices(), k, "top, beta=" + beta);
            assertPairsKeptLowFirst(got.aux().indices(), 3, "aux, beta=" + beta);
            Encoded want = REFERENCE.encodeSelect(p, b, beta, k, dead, 3);
            assertArrayEquals(want.top().indices(), got.top().indices(), "top indices, beta=" + beta);
            assertArrayEquals(want.aux().indices(), got.aux().indices(), "aux indices, beta=" + beta);
        }
    }

    private static void assertPairsKeptLowFirst(int[] indices, int k, String what) {
        for (int row = 0; row < indices.length / k; row++) {
            int[] sel = Arrays.copyOfRange(indices, row * k, row * k + k);
            for (int i : sel)
                if (i % 2 == 1) assertTrue(Arrays.binarySearch(sel, i - 1) >= 0, what + ": row " + row + " kept " + i + " without its tied twin " + (i - 1));
        }
    }

    @Test
    void betaZeroIgnoresGradients() {
        Params p = EncodeCheck.params(21, 16, 40);
        Batch b = EncodeCheck.batch(22, 30, 16);
        Batch noGradients = new Batch(b.n(), b.d(), b.x(), null);
        try (Workers w = new Workers(1)) {
            FusedEncoder enc = new FusedEncoder(w);
            Encoded withG = enc.encodeSelect(p, b, 0f, 6, null, 0);
            Encoded withoutG = enc.encodeSelect(p, noGradients, 0f, 6, null, 0);
            assertArrayEquals(withG.top().indices(), withoutG.top().indices());
            assertArrayEquals(withG.top().values(), withoutG.top().values());
        }
    }

    @Test
    void rejectsBadArguments() {
        Params p = EncodeCheck.params(1, 4, 10);
        Batch b = EncodeCheck.batch(2, 3, 4);
        try (Workers w = new Workers(1)) {
            FusedEncoder enc = new FusedEncoder(w);
            assertThrows(IllegalArgumentException.class, () -> enc.encodeSelect(p, b, 0f, 11, null, 0));
            assertThrows(IllegalArgumentException.class, () -> enc.encodeSelect(p, b, 0f, 0, null, 0));
            assertThrows(IllegalArgumentException.class, () -> enc.encodeSelect(p, new Batch(3, 4, b.x(), null), 1f, 2, null, 0));
            assertThrows(IllegalArgumentException.class, () -> enc.encodeSelect(p, b, 0f, 2, new boolean[9], 2));
            assertEquals(null, enc.encodeSelect(p, b, 0f, 2, new boolean[10], 2).aux(), "no dead latent: no aux");
        }
    }

    /** One instance reused across shapes and weights (its panels repacked in place) answers as fresh ones do. */
    @Test
    void reusedInstanceMatchesFreshOnes() {
        int[][] shapes = {{7, 61}, {64, 256}, {7, 61}, {7, 64}, {7, 200}, {7, 61}, {64, 256}}; // d, M
        try (Workers workers = new Workers(2)) {
            FusedEncoder reused = new FusedEncoder(workers);
            for (int c = 0; c < shapes.length; c++) {
                int d = shapes[c][0], m = shapes[c][1];
                Params p = EncodeCheck.params(40 + c, d, m);
                Batch b = EncodeCheck.batch(50 + c, 30, d);
                Encoded got = reused.encodeSelect(p, b, 1f, 5, null, 0);
                Encoded want = new FusedEncoder(workers).encodeSelect(p, b, 1f, 5, null, 0);
                assertArrayEquals(want.top().indices(), got.top().indices(), "call " + c + ": indices");
                assertArrayEquals(want.top().values(), got.top().values(), "call " + c + ": values");
            }
        }
    }
}
