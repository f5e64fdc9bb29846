package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Selection;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded inputs and a derived-tolerance comparison of a float encode-select against the reference.
 *
 * <p>Bounds (u = 2^-24, taken as 2^-23 for a 2× margin): a float dot product of length d whose terms
 * have absolute sum T errs by at most d·u·T; x − b_dec and the bias add one rounding each, so
 * |Δz| ≤ (d + 2)·2^-23·(Σ|x−b_dec||w| + |b_enc|) and |Δs| ≤ d·2^-23·Σ|g||w_dec|. Then
 * |Δscore| ≤ |Δz|(1 + β|s|) + β|z||Δs| + 2·2^-23·|score| (the product and the final FMA).
 */
final class EncodeCheck {

    static final double EPS = 0x1p-23;

    private EncodeCheck() {}

    /** Random parameters: W_enc Gaussian / √d, unit W_dec rows, small biases. */
    static Params params(long seed, int d, int m) {
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = Params.zeros(d, m);
        for (int i = 0; i < m * d; i++) p.wEnc()[i] = (float) (Params.gaussian(rng) / Math.sqrt(d));
        for (int i = 0; i < m * d; i++) p.wDec()[i] = (float) Params.gaussian(rng);
        p.normalizeDecoderRows();
        for (int i = 0; i < m; i++) p.bEnc()[i] = (float) (0.1 * Params.gaussian(rng));
        for (int j = 0; j < d; j++) p.bDec()[j] = (float) (0.1 * Params.gaussian(rng));
        return p;
    }

    /** A batch of Gaussian activations and gradients. */
    static Batch batch(long seed, int n, int d) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n * d], g = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) Params.gaussian(rng);
        for (int i = 0; i < g.length; i++) g[i] = (float) (0.5 * Params.gaussian(rng));
        return new Batch(n, d, x, g);
    }

    /** Each latent dead with the given probability. */
    static boolean[] dead(long seed, int m, double fraction) {
        SplittableRandom rng = new SplittableRandom(seed);
        boolean[] dead = new boolean[m];
        for (int i = 0; i < m; i++) dead[i] = rng.nextDouble() < fraction;
        return dead;
    }

    /** Reference z and score in double with the float error bound of each.  all [N, M] */
    record Scores(int m, double[] z, double[] score, double[] zErr, double[] scoreErr) {

        static Scores of(Params p, Batch b, float beta) {
            int n = b.n(), d = p.d(), m = p.m();
            double[] z = new double[n * m], score = new double[n * m], zErr = new double[n * m], scoreErr = new double[n * m];
            for (int row = 0; row < n; row++) {
                for (int i = 0; i < m; i++) {
                    double zi = p.bEnc()[i], tz = Math.abs(p.bEnc()[i]), s = 0, ts = 0;
                    for (int j = 0; j < d; j++) {
                        double xc = (double) b.x()[row * d + j] - p.bDec()[j];
                        zi += xc * p.wEnc()[i * d + j];
                        tz += Math.abs(xc * p.wEnc()[i * d + j]);
                        if (beta != 0f) {
                            s += (double) b.g()[row * d + j] * p.wDec()[i * d + j];
                            ts += Math.abs((double) b.g()[row * d + j] * p.wDec()[i * d + j]);
                        }
                    }
                    int at = row * m + i;
                    double dz = (d + 2) * EPS * tz, ds = d * EPS * ts;
                    z[at] = zi;
                    score[at] = zi + beta * zi * Math.abs(s);
                    zErr[at] = dz;
                    scoreErr[at] = dz * (1 + beta * Math.abs(s)) + beta * Math.abs(zi) * ds + 2 * EPS * Math.abs(score[at]);
                }
            }
            return new Scores(m, z, score, zErr, scoreErr);
        }
    }

    /**
     * Asserts that got selects the same latents as ref row by row, except latents whose reference
     * score is within the rounding bound of the reference's k-th score (a near-tie either may break
     * either way), that indices ascend and lie in allowed, and that values match ReLU(z).
     *
     * @param allowed latents eligible for this selection, or null for all   [M]
     */
    static void assertMatches(Selection ref, Selection got, Scores sc, boolean[] allowed, String what) {
        assertEquals(ref.n(), got.n(), what + ": rows");
        assertEquals(ref.k(), got.k(), what + ": k");
        int k = ref.k(), m = sc.m();
        for (int row = 0; row < ref.n(); row++) {
            Set<Integer> want = new HashSet<>(), have = new HashSet<>();
            double kth = Double.POSITIVE_INFINITY, worstErr = 0;
            for (int j = 0; j < k; j++) {
                int i = ref.indices()[row * k + j];
                want.add(i);
                kth = Math.min(kth, sc.score()[row * m + i]);
            }
            for (int i = 0; i < m; i++) worstErr = Math.max(worstErr, sc.scoreErr()[row * m + i]);
            for (int j = 0; j < k; j++) {
                int i = got.indices()[row * k + j];
                if (j > 0) assertTrue(i > got.indices()[row * k + j - 1], what + ": row " + row + " indices not ascending");
                assertTrue(i >= 0 && i < m && (allowed == null || allowed[i]), what + ": row " + row + " selected ineligible latent " + i);
                have.add(i);
                double want0 = Math.max(0, sc.z()[row * m + i]), v = got.values()[row * k + j];
                if (Math.abs(v - want0) > sc.zErr()[row * m + i])
                    fail(what + ": row " + row + " latent " + i + " value " + v + ", reference " + want0 + ", bound " + sc.zErr()[row * m + i]);
            }
            Set<Integer> differ = new HashSet<>(want);
            differ.addAll(have);
            Set<Integer> both = new HashSet<>(want);
            both.retainAll(have);
            differ.removeAll(both);
            for (int i : differ) {
                double gap = Math.abs(sc.score()[row * m + i] - kth);
                if (gap > 2 * worstErr)
                    fail(what + ": row " + row + " sets differ at latent " + i + " whose score is " + gap
                            + " from the k-th, beyond the rounding bound " + 2 * worstErr + "; want " + want + ", got " + have);
            }
        }
    }
}
