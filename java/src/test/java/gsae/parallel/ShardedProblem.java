package gsae.parallel;

import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Seeded inputs for the latent-sharded tests, the gather of rank states, and the tolerance check. */
public final class ShardedProblem {

    /** 2^-24: the unit roundoff of float. */
    public static final double U = 0x1p-24;

    private ShardedProblem() {}

    /** W_dec unit Gaussian rows, W_enc an independent Gaussian, biases of either sign. */
    public static Params params(int d, int m, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = Params.zeros(d, m);
        fill(p.wDec(), rng, 1.0);
        p.normalizeDecoderRows();
        fill(p.wEnc(), rng, 1.0 / Math.sqrt(d));
        fill(p.bEnc(), rng, 0.1);
        fill(p.bDec(), rng, 0.5);
        return p;
    }

    /** N Gaussian tokens with gradients (or without, when {@code withGradients} is false). */
    public static Batch batch(int n, int d, boolean withGradients, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n * d], g = withGradients ? new float[n * d] : null;
        fill(x, rng, 1.0);
        if (g != null) fill(g, rng, 1.0);
        return new Batch(n, d, x, g);
    }

    public static void fill(float[] a, SplittableRandom rng, double sigma) {
        for (int i = 0; i < a.length; i++) a[i] = (float) (sigma * Params.gaussian(rng));
    }

    /** The ranks' shares concatenated in rank order, b_dec and step from rank 0. */
    public static TrainState gather(List<TrainState> shares) {
        int d = shares.getFirst().params().d(), m = shares.stream().mapToInt(s -> s.params().m()).sum();
        Params p = Params.zeros(d, m), am = Params.zeros(d, m), av = Params.zeros(d, m);
        long[] since = new long[m];
        int at = 0;
        for (TrainState s : shares) {
            int c = s.params().m();
            put(s.params(), p, at);
            put(s.adamM(), am, at);
            put(s.adamV(), av, at);
            System.arraycopy(s.sinceFired(), 0, since, at, c);
            at += c;
        }
        return new TrainState(p, am, av, shares.getFirst().step(), since);
    }

    private static void put(Params from, Params to, int first) {
        int d = from.d();
        System.arraycopy(from.wEnc(), 0, to.wEnc(), first * d, from.wEnc().length);
        System.arraycopy(from.wDec(), 0, to.wDec(), first * d, from.wDec().length);
        System.arraycopy(from.bEnc(), 0, to.bEnc(), first, from.bEnc().length);
        System.arraycopy(from.bDec(), 0, to.bDec(), 0, d);
    }

    /**
     * The per-step error bound of FastOpsTest: the longest chain of float roundings behind a
     * gradient value (denominators over d, x̂ from k + 1 terms, da over d, a latent's sum over up to
     * N top and N AuxK pairs) gives eps = 2u·(2d + k + 2N + 4) relative to the terms. Sharding only
     * regroups x̂'s sum (P partial sums added in rank order: at most P more roundings, P ≤ k here)
     * and db_dec's encoder part, so the same bound per step, doubled, covers it.
     */
    public static double stepEps(SaeConfig cfg, int n) {
        return 2 * 2 * U * (2 * cfg.d() + cfg.k() + 2 * n + 4);
    }

    /** Asserts |got − ref| ≤ eps·(floor + |ref|) everywhere, listing the first misses. */
    public static void assertClose(String what, float[] ref, float[] got, double eps, double floor) {
        StringBuilder misses = new StringBuilder();
        int count = 0;
        for (int i = 0; i < ref.length; i++) {
            double bound = eps * (floor + Math.abs(ref[i]));
            if (!(Math.abs((double) got[i] - ref[i]) <= bound) && count++ < 5)
                misses.append(String.format("%n  [%d] ref %s got %s bound %.3g", i, ref[i], got[i], bound));
        }
        if (count > 0) fail(what + ": " + count + " of " + ref.length + " values differ" + misses);
    }

    public static void assertClose(String what, double ref, double got, double eps) {
        if (!(Math.abs(got - ref) <= eps * Math.abs(ref) + 1e-300))
            fail(what + ": ref " + ref + " got " + got + " (relative tolerance " + eps + ")");
    }

    public static void assertParamsClose(String what, Params ref, Params got, double eps, double floor) {
        assertClose(what + " W_enc", ref.wEnc(), got.wEnc(), eps, floor);
        assertClose(what + " b_enc", ref.bEnc(), got.bEnc(), eps, floor);
        assertClose(what + " W_dec", ref.wDec(), got.wDec(), eps, floor);
        assertClose(what + " b_dec", ref.bDec(), got.bDec(), eps, floor);
    }

    /** Asserts two states equal bit for bit. */
    public static void assertSameState(TrainState want, TrainState got, String what) {
        assertEquals(want.step(), got.step(), what + " step");
        assertArrayEquals(want.sinceFired(), got.sinceFired(), what + " since_fired");
        for (Params[] pair : new Params[][]{{want.params(), got.params()}, {want.adamM(), got.adamM()}, {want.adamV(), got.adamV()}}) {
            assertArrayEquals(pair[0].wEnc(), pair[1].wEnc(), what + " W_enc");
            assertArrayEquals(pair[0].bEnc(), pair[1].bEnc(), what + " b_enc");
            assertArrayEquals(pair[0].wDec(), pair[1].wDec(), what + " W_dec");
            assertArrayEquals(pair[0].bDec(), pair[1].bDec(), what + " b_dec");
        }
    }

    /**
     * Each rank's per-step metrics against one process's: FVU and AuxK within {@code eps}, L0 and the
     * dead fraction equal (the same selections). Returns whether AuxK ran.
     */
    public static boolean assertSameMetrics(List<StepMetrics> want, List<List<StepMetrics>> ranks, double eps) {
        boolean sawAux = false;
        for (int s = 0; s < want.size(); s++) {
            StepMetrics w = want.get(s);
            for (List<StepMetrics> rank : ranks) {
                StepMetrics got = rank.get(s);
                assertClose("step " + s + " FVU", w.fvu(), got.fvu(), eps);
                assertClose("step " + s + " AuxK", w.auxk(), got.auxk(), eps);
                assertEquals(w.l0(), got.l0(), "step " + s + " L0");
                assertEquals(w.deadFraction(), got.deadFraction(), "step " + s + " dead fraction");
            }
            sawAux |= w.auxk() > 0;
        }
        return sawAux;
    }

    /**
     * The ranks' shares, gathered, against one process's state: the same dead counters and step,
     * parameters and Adam's first moment within {@code eps}, and b_dec the same on every rank.
     */
    public static void assertShardsMatch(TrainState single, List<TrainState> shares, double eps, double floor) {
        TrainState whole = gather(shares);
        assertArrayEquals(single.sinceFired(), whole.sinceFired(), "dead-latent counters (the selections of every step)");
        assertEquals(single.step(), whole.step());
        assertParamsClose("parameters", single.params(), whole.params(), eps, floor);
        assertParamsClose("Adam m", single.adamM(), whole.adamM(), eps, floor);
        for (TrainState r : shares)
            assertArrayEquals(shares.getFirst().params().bDec(), r.params().bDec(), "b_dec is the same on every rank");
    }
}
