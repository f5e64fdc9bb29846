package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Selection;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random inputs for the sparse stages and the tolerance check the tests share.
 *
 * @param dead one flag per latent, or null when none is dead [M]
 */
record SparseProblem(int d, int m, int k, int n, float beta, int auxK, Params params, Batch batch, boolean[] dead) {

    /** 2^-24: the unit roundoff of float. */
    static final double U = 0x1p-24;

    /**
     * W_dec rows unit Gaussian directions, W_enc an independent Gaussian (so encoder and decoder
     * differ), biases of either sign, x and g Gaussian; about {@code deadFraction}·M latents dead.
     */
    static SparseProblem random(int d, int m, int k, int n, float beta, double deadFraction, int auxK, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = Params.zeros(d, m);
        fill(p.wDec(), rng, 1.0);
        p.normalizeDecoderRows();
        fill(p.wEnc(), rng, 1.0 / Math.sqrt(d));
        fill(p.bEnc(), rng, 0.1);
        fill(p.bDec(), rng, 0.5);
        float[] x = new float[n * d], g = new float[n * d];
        fill(x, rng, 1.0);
        fill(g, rng, 1.0);
        boolean[] dead = null;
        if (deadFraction > 0) {
            dead = new boolean[m];
            for (int i = 0; i < m; i++) dead[i] = rng.nextDouble() < deadFraction;
        }
        return new SparseProblem(d, m, k, n, beta, auxK, p, new Batch(n, d, x, g), dead);
    }

    static void fill(float[] a, SplittableRandom rng, double sigma) {
        for (int i = 0; i < a.length; i++) a[i] = (float) (sigma * Params.gaussian(rng));
    }

    @Override
    public String toString() {
        return "d=" + d + " M=" + m + " k=" + k + " N=" + n + " β=" + beta + (dead == null ? "" : " auxK=" + auxK + " with dead latents");
    }

    static float maxAbs(float[] a) {
        float max = 0f;
        for (float v : a) max = Math.max(max, Math.abs(v));
        return max;
    }

    /** The same selection with |a|: decoding it with |W_dec|, |b_dec| gives Σ|terms| per output value. */
    static Selection absolute(Selection s) {
        float[] v = s.values().clone();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
        return new Selection(s.n(), s.k(), s.indices(), v);
    }

    static Params absolute(Params p) {
        Params q = p.copy();
        for (float[] a : new float[][]{q.wEnc(), q.bEnc(), q.wDec(), q.bDec()})
            for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]);
        return q;
    }

    /** Asserts |got − ref| ≤ eps·(scale[i] + |ref|) everywhere (llm.c's tol + |ref|·eps), listing the first misses. */
    static void assertClose(String what, float[] ref, float[] got, double eps, float[] scale) {
        StringBuilder misses = new StringBuilder();
        int count = 0;
        for (int i = 0; i < ref.length; i++) {
            double bound = eps * (scale[i] + Math.abs(ref[i]));
            if (!(Math.abs((double) got[i] - ref[i]) <= bound)) {
                if (count++ < 5) misses.append(String.format("%n  [%d] ref %s got %s bound %.3g", i, ref[i], got[i], bound));
            }
        }
        if (count > 0) fail(what + ": " + count + " of " + ref.length + " values differ" + misses);
    }

    /** The same with one scale for every value (a normwise floor). */
    static void assertClose(String what, float[] ref, float[] got, double eps, float scale) {
        float[] s = new float[ref.length];
        Arrays.fill(s, scale);
        assertClose(what, ref, got, eps, s);
    }

    static void assertClose(String what, double ref, double got, double eps) {
        if (!(Math.abs(got - ref) <= eps * Math.abs(ref) + 1e-300))
            fail(what + ": ref " + ref + " got " + got + " (relative tolerance " + eps + ")");
    }
}
