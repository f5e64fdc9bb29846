package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;
import gsae.ops.Selection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pruned β &gt; 0 encode-select (issue #14) selects exactly what the unpruned fused path and the reference select. */
class PrunedEncoderTest {

    private static final ReferenceOps REFERENCE = new ReferenceOps();

    /**
     * Rows of every kind: ‖g‖ log-uniform in [0.01, 3] (pruned), a few with ‖g‖ = 300 (scored in full),
     * one with g = 0, and one with x = b_dec, where z = b_enc has fewer than k positive entries (full).
     */
    @ParameterizedTest(name = "n={0} d={1} M={2} k={3} beta={4} dead={5} auxK={6}")
    @CsvSource({
            "64,  64,  2048, 8,  0.5, 0,    0",
            "64,  64,  2048, 8,  1,   0.3,  16",
            "37,  77,  1000, 5,  4,   0,    0",
            "37,  77,  1000, 5,  16,  0.2,  7",
            "200, 33,  4099, 16, 1,   0,    0",
            "200, 33,  4099, 16, 0.5, 0.05, 32",
            "96,  128, 512,  32, 1,   0.5,  64",
            "13,  1,   50,   3,  1,   0.3,  4",
            "100, 7,   33,   1,  16,  0,    0",
            "7,   512, 8192, 32, 1,   0.01, 256",
    })
    void sameAsUnprunedAndReference(int n, int d, int m, int k, float beta, double deadFraction, int auxK) {
        long seed = 17L * n + 5L * d + m + k + (long) (beta * 8);
        Params p = EncodeCheck.params(seed, d, m);
        int rareFirst = 3; // b_enc: only 3 positive entries, so a row with x = b_dec falls back
        for (int i = 0; i < m; i++) p.bEnc()[i] = i < rareFirst ? 0.5f : -Math.abs(p.bEnc()[i]) - 1e-3f;
        Batch b = mixedRows(seed + 1, p, n, k, beta);
        boolean[] dead = deadFraction > 0 ? EncodeCheck.dead(seed + 2, m, deadFraction) : null;

        Encoded pruned = null, unpruned;
        PruneStats sparseStats = null;
        try (Workers workers = new Workers(2)) {
            unpruned = new FusedEncoder(workers, false).encodeSelect(p, b, beta, k, dead, auxK);
            for (double denseBlock : new double[]{1, FusedEncoder.DENSE_BLOCK, 0}) { // sparse pass only, as shipped, dense only
                FusedEncoder encoder = new FusedEncoder(workers, true, denseBlock);
                pruned = encoder.encodeSelect(p, b, beta, k, dead, auxK);
                PruneStats stats = encoder.lastStats();
                assertNotNull(stats, "beta > 0 prunes");
                if (denseBlock == 1) sparseStats = stats;
                assertSame(unpruned.top(), pruned.top(), "top, dense block threshold " + denseBlock);
                if (unpruned.aux() == null) assertNull(pruned.aux(), "aux");
                else assertSame(unpruned.aux(), pruned.aux(), "aux, dense block threshold " + denseBlock);
                if (denseBlock == 0) assertEquals(n, stats.denseRows(), "every block dense: " + stats);
                // A second call: where the first paid, only marked vectors of the x-side block are kept and
                // a block that must be scored densely (here row 0's, with fewer than k positive z) recomputes it.
                Encoded again = encoder.encodeSelect(p, b, beta, k, dead, auxK);
                assertSame(unpruned.top(), again.top(), "top, second call, dense block threshold " + denseBlock);
                if (unpruned.aux() != null) assertSame(unpruned.aux(), again.aux(), "aux, second call, dense block threshold " + denseBlock);
            }
        }

        Encoded want = REFERENCE.encodeSelect(p, b, beta, k, dead, auxK);
        EncodeCheck.Scores scores = EncodeCheck.Scores.of(p, b, beta);
        EncodeCheck.assertMatches(want.top(), pruned.top(), scores, null, "top");
        if (want.aux() != null) EncodeCheck.assertMatches(want.aux(), pruned.aux(), scores, dead, "aux");

        int mustFallBack = k > rareFirst ? 3 : 2; // rows 1, 2 (huge g) and row 0 (x = b_dec) when k > 3
        assertTrue(sparseStats.fullRows() >= mustFallBack, "x = b_dec and huge-g rows fall back, got " + sparseStats);
        assertTrue(sparseStats.marked() >= sparseStats.fullRows() * m + (n - sparseStats.fullRows()) * k
                && sparseStats.marked() <= (long) n * m, "each pruned row scores at least its k, full rows all M: " + sparseStats);
    }

    /** At a size where pruning has room, most pairs are skipped and the selection is still the same. */
    @Test
    void prunesMostPairsWhenThereIsRoom() {
        int n = 60, d = 32, m = 4096, k = 8;
        Params p = EncodeCheck.params(3, d, m);
        Batch b = EncodeCheck.batch(4, n, d);
        for (int i = 0; i < n * d; i++) b.g()[i] *= 0.02f; // ‖g‖ ≈ 0.06: score within 6 % of z
        try (Workers workers = new Workers(2)) {
            FusedEncoder encoder = new FusedEncoder(workers, true, FusedEncoder.DENSE_BLOCK); // as shipped, at any d
            Encoded pruned = encoder.encodeSelect(p, b, 1f, k, null, 0);
            PruneStats stats = encoder.lastStats();
            assertEquals(0, stats.fullRows(), stats.toString());
            assertEquals(0, stats.denseRows(), "little to score: every block takes the sparse pass, " + stats);
            assertTrue(stats.survivorFraction() < 0.05, "expected under 5 % of pairs scored, got " + stats);
            assertTrue(stats.exact() < 2L * n * k, "the pairs' approximate pass leaves about k per row to recompute, " + stats);
            assertSame(new FusedEncoder(workers, false).encodeSelect(p, b, 1f, k, null, 0).top(), pruned.top(), "top");
        }
    }

    /**
     * The bound is tight: latent 0's decoder row is g's direction, so its score is exactly
     * z·(1 + β‖g‖) and it ties the k-th best score; the tie goes to the lower index, so pruning must
     * keep it. Latent 1 has z one ulp lower and must lose.
     */
    @Test
    void keepsALatentThatTiesAtTheBound() {
        int d = 8, m = 64, k = 4;
        Params p = Params.zeros(d, m);
        float[] z = new float[m];
        Arrays.fill(z, -1f);
        z[0] = 0.5f;
        z[1] = Math.nextDown(0.5f);
        z[10] = 3f;
        z[11] = 2.5f;
        z[12] = 2f;
        z[13] = 1f;
        for (int i = 0; i < m; i++) {
            p.wEnc()[i * d] = z[i];              // z_i = x·W_enc[i] with x = e_0
            p.wDec()[i * d + (i < 2 ? 1 : 2)] = 1f; // latents 0, 1 along g = e_1; the rest orthogonal
        }
        float[] x = new float[2 * d], g = new float[2 * d];
        for (int r = 0; r < 2; r++) {
            x[r * d] = 1f;
            g[r * d + 1] = 1f;
        }
        Batch b = new Batch(2, d, x, g);
        try (Workers workers = new Workers(1)) {
            FusedEncoder encoder = new FusedEncoder(workers, true, 1); // the sparse pass, whatever the marks cover
            Encoded pruned = encoder.encodeSelect(p, b, 1f, k, null, 0);
            assertEquals(0, encoder.lastStats().fullRows(), "both rows are pruned, not scored in full");
            assertEquals(0, encoder.lastStats().denseRows(), "both rows go through the sparse pass");
            assertArrayEquals(new int[]{0, 10, 11, 12, 0, 10, 11, 12}, pruned.top().indices());
            assertSame(new FusedEncoder(workers, false).encodeSelect(p, b, 1f, k, null, 0).top(), pruned.top(), "top");
        }
    }

    /**
     * Scores decided in their last bits: every latent has the same z, every decoder row is a shuffle of
     * one Gaussian vector (every other row a copy of the one before: exact ties), and g is constant
     * along d with β‖g‖ in [4, 7], so every g·W_dec[i] is the same real number and the k-th best score
     * is decided by how the engine's FMA chain rounds each shuffle, which the pairs' approximate pass
     * (summed in another order) does not reproduce; the recomputed scores must be the unpruned path's,
     * ties to the lower index.
     */
    @ParameterizedTest(name = "d={0} beta={1}")
    @CsvSource({"3, 1", "64, 0.5", "77, 4", "512, 1", "512, 16", "256, 0.5"})
    void nearTiesAreDecidedByTheExactChain(int d, float beta) {
        int n = 13, m = 300, k = 5;
        SplittableRandom rng = new SplittableRandom(d);
        float[] base = new float[d];
        double norm = 0;
        for (int j = 0; j < d; j++) norm += (base[j] = (float) Params.gaussian(rng)) * base[j];
        for (int j = 0; j < d; j++) base[j] /= (float) Math.sqrt(norm);
        Params p = Params.zeros(d, m);
        for (int i = 0; i < m; i++) {
            p.wEnc()[i * d] = 1f;
            if (i % 2 == 1) {
                System.arraycopy(p.wDec(), (i - 1) * d, p.wDec(), i * d, d);
                continue;
            }
            float[] shuffled = base.clone();
            for (int j = d - 1; j > 0; j--) {
                int o = rng.nextInt(j + 1);
                float t = shuffled[j];
                shuffled[j] = shuffled[o];
                shuffled[o] = t;
            }
            System.arraycopy(shuffled, 0, p.wDec(), i * d, d);
        }
        float[] x = new float[n * d], g = new float[n * d];
        for (int r = 0; r < n; r++) {
            x[r * d] = 0.5f + r;
            Arrays.fill(g, r * d, (r + 1) * d, (4 + 0.25f * r) / beta / (float) Math.sqrt(d)); // β‖g‖ in [4, 7]
        }
        Batch b = new Batch(n, d, x, g);
        boolean[] dead = EncodeCheck.dead(d + 1, m, 0.4);
        try (Workers workers = new Workers(2)) {
            Encoded want = new FusedEncoder(workers, false).encodeSelect(p, b, beta, k, dead, 3);
            FusedEncoder encoder = new FusedEncoder(workers, true, 1); // the sampled pass, whatever the marks cover
            Encoded got = encoder.encodeSelect(p, b, beta, k, dead, 3);
            PruneStats stats = encoder.lastStats();
            assertEquals(0, stats.denseRows(), stats.toString());
            assertTrue(stats.fullRows() < n, "some rows are pruned, " + stats);
            assertTrue(stats.exact() > (n - stats.fullRows()) * (long) k, "near ties: more than k recomputed per pruned row, " + stats);
            assertSame(want.top(), got.top(), "top");
            assertSame(want.aux(), got.aux(), "aux");
        }
    }

    /**
     * The approximate pass's error margin is needed: g is constant (c per element) and W_dec[i] =
     * (L, a_i, …, a_i, −L) with c·a_i below half an ulp of c·L. The engine's chain starts at c·L, so it
     * loses every a_i term and ends at the same s̃ for every latent (all scores tie at z: latents 0 … k − 1
     * win), while the pairs' pass, summing in 64 interleaved accumulators, keeps most of them: its ŝ grows
     * with a_i, latent 0's by more than the bound's 2⁻²⁰ slacks less than the best. With the margin
     * e set to 0, the winners' upper bounds fall below the k-th largest lower bound and the selection differs.
     */
    @Test
    void approximationMarginKeepsWinnersTheChainRoundsDifferently() {
        int n = 4, d = 1024, m = 100, k = 5;
        float c = 0.707f, l = 0.75f, beta = 0.3f; // β‖g‖·‖W_dec[i]‖ ≈ 0.3 · 22.6 · 1.06 ≈ 7.2 ≤ 8: the rows are pruned
        Params p = Params.zeros(d, m);
        for (int i = 0; i < m; i++) {
            p.wEnc()[i * d] = 1f;
            Arrays.fill(p.wDec(), i * d + 1, (i + 1) * d - 1, (i % 50 + 1) * 4e-10f);
            p.wDec()[i * d] = l;
            p.wDec()[(i + 1) * d - 1] = -l;
        }
        float[] x = new float[n * d], g = new float[n * d];
        Arrays.fill(g, c);
        for (int r = 0; r < n; r++) x[r * d] = 1f;
        Batch b = new Batch(n, d, x, g);
        try (Workers workers = new Workers(1)) {
            Encoded want = new FusedEncoder(workers, false).encodeSelect(p, b, beta, k, null, 0);
            FusedEncoder encoder = new FusedEncoder(workers, true, 1);
            Encoded got = encoder.encodeSelect(p, b, beta, k, null, 0);
            assertEquals(0, encoder.lastStats().fullRows(), encoder.lastStats().toString());
            assertArrayEquals(new int[]{0, 1, 2, 3, 4}, Arrays.copyOf(want.top().indices(), k), "the chain ties every score");
            assertSame(want.top(), got.top(), "top");
        }
    }

    /**
     * Where pruning does not pay (‖g‖ ≈ 3 at d = 16: every vector marked), a reused encoder probes once, runs the
     * next PROBE_EVERY − 1 calls unpruned, then probes again; its selections stay those of the unpruned path.
     */
    @Test
    void skipsPruningWhereItDoesNotPayAndProbesAgain() {
        Params p = EncodeCheck.params(12, 16, 256);
        Batch b = EncodeCheck.batch(13, 40, 16);
        try (Workers workers = new Workers(1)) {
            FusedEncoder reused = new FusedEncoder(workers, true, FusedEncoder.DENSE_BLOCK);
            Selection want = new FusedEncoder(workers, false).encodeSelect(p, b, 1f, 4, null, 0).top();
            PruneStats first = null;
            for (int call = 0; call <= FusedEncoder.PROBE_EVERY; call++) {
                assertSame(want, reused.encodeSelect(p, b, 1f, 4, null, 0).top(), "call " + call);
                PruneStats stats = reused.lastStats();
                if (call == 0) first = stats;
                else if (call < FusedEncoder.PROBE_EVERY) assertTrue(stats == first, "call " + call + " skipped pruning");
                else assertTrue(stats != first, "call " + call + " probed again");
            }
            assertTrue(first.survivorFraction() > FusedEncoder.DENSE_BLOCK, "the case must be one where pruning does not pay: " + first);
        }
    }

    /** Without pruning, or at β = 0, there is nothing to report. */
    @Test
    void statsOnlyWhenPruning() {
        Params p = EncodeCheck.params(8, 16, 100);
        Batch b = EncodeCheck.batch(9, 10, 16);
        try (Workers workers = new Workers(1)) {
            FusedEncoder off = new FusedEncoder(workers, false), on = new FusedEncoder(workers);
            off.encodeSelect(p, b, 1f, 4, null, 0);
            assertNull(off.lastStats());
            on.encodeSelect(p, b, 0f, 4, null, 0);
            assertNull(on.lastStats());
            on.encodeSelect(p, b, -1f, 4, null, 0);
            assertNull(on.lastStats(), "negative beta: the bound does not apply");
            on.encodeSelect(p, b, 1f, 4, null, 0);
            assertNull(on.lastStats(), "d = 16 < MIN_DEPTH: the shipped encoder does not prune");
        }
    }

    private static void assertSame(Selection want, Selection got, String what) {
        assertArrayEquals(want.indices(), got.indices(), what + " indices");
        assertArrayEquals(want.values(), got.values(), what + " values (bitwise)");
    }

    /**
     * Gaussian x; g rows rescaled to mixed norms; row 0 x = b_dec; rows 1, 2 (when there) ‖g‖ = 300;
     * row 3 g = 0. Every third row from 6 on has g along the decoder row of the latent with the largest
     * z under τ / (1 + 0.7·β‖g‖), which makes its score z(1 + β‖g‖) &gt; τ: it is selected, and a bound
     * any looser than Cauchy–Schwarz's would have pruned it.
     */
    private static Batch mixedRows(long seed, Params p, int n, int k, float beta) {
        int d = p.d(), m = p.m();
        Batch b = EncodeCheck.batch(seed, n, d);
        SplittableRandom rng = new SplittableRandom(seed + 99);
        float[] x = b.x(), g = b.g();
        for (int r = 0; r < n; r++) {
            double norm = 0;
            for (int j = 0; j < d; j++) norm += (double) g[r * d + j] * g[r * d + j];
            double want = r == 1 || r == 2 ? 300 : r == 3 ? 0 : Math.exp(Math.log(0.01) + rng.nextDouble() * Math.log(300));
            for (int j = 0; j < d; j++) g[r * d + j] = (float) (g[r * d + j] * want / Math.sqrt(norm));
            if (r < 6 || r % 3 != 0) continue;
            double[] z = new double[m];
            for (int i = 0; i < m; i++) {
                z[i] = p.bEnc()[i];
                for (int j = 0; j < d; j++) z[i] += (double) (x[r * d + j] - p.bDec()[j]) * p.wEnc()[i * d + j];
            }
            double[] sorted = z.clone();
            Arrays.sort(sorted);
            double below = sorted[m - k] / (1 + 0.7 * beta * want);
            int pick = -1;
            for (int i = 0; i < m; i++) if (z[i] > 0 && z[i] < below && (pick < 0 || z[i] > z[pick])) pick = i;
            if (pick >= 0) for (int j = 0; j < d; j++) g[r * d + j] = (float) want * p.wDec()[pick * d + j];
        }
        System.arraycopy(p.bDec(), 0, x, 0, d);
        return b;
    }
}
