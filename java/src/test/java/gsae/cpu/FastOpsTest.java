package gsae.cpu;

import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.HostTrainingStep;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static gsae.cpu.SparseProblem.U;
import static gsae.cpu.SparseProblem.assertClose;
import static gsae.cpu.SparseProblem.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** FastOps against the scalar reference on seeded random inputs, odd and power-of-two widths. */
class FastOpsTest {

    private static final ReferenceOps REF = new ReferenceOps();

    static Stream<SparseProblem> problems() {
        return Stream.of(
                SparseProblem.random(1, 5, 1, 9, 0f, 0, 0, 1),
                SparseProblem.random(1, 6, 2, 11, 1f, 0.5, 2, 2),
                SparseProblem.random(7, 13, 3, 21, 1f, 0.4, 3, 3),
                SparseProblem.random(7, 40, 1, 33, 2f, 0.3, 3, 4),
                SparseProblem.random(64, 64, 64, 10, 0.5f, 0, 0, 5),
                SparseProblem.random(64, 512, 8, 48, 0f, 0.25, 32, 6),
                SparseProblem.random(77, 300, 5, 40, 1f, 0, 0, 7),
                SparseProblem.random(77, 2500, 32, 24, 1f, 0.1, 38, 8));
    }

    private static Encoded select(SparseProblem q) {
        return REF.encodeSelect(q.params(), q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
    }

    /**
     * Each x̂ value is a float sum of k + 1 products and the bias, the reference's is exact then
     * rounded once: |Δ| ≤ (k + 2)·u·Σ|terms| (Higham's γ bound), Σ|terms| being x̂ decoded from |a|, |W_dec|, |b_dec|.
     */
    @ParameterizedTest
    @MethodSource("problems")
    void decodeMatchesReference(SparseProblem q) {
        Encoded enc = select(q);
        FastOps fast = new FastOps(2);
        for (boolean bias : new boolean[]{true, false}) {
            float[] terms = REF.decode(SparseProblem.absolute(q.params()), SparseProblem.absolute(enc.top()), bias);
            float[] ref = REF.decode(q.params(), enc.top(), bias);
            assertClose(q + " x̂ bias=" + bias, ref, fast.decode(q.params(), enc.top(), bias), (q.k() + 2) * U, terms);
        }
    }

    /**
     * The longest chain of float roundings behind any gradient value: the denominators (per-token
     * sums over d), e = x − x̂ (x̂ from k + 1 terms), da = dx̂·W_dec (d terms), then a latent's sum over
     * its pairs (at most N top plus N AuxK pairs). Each step adds at most one unit roundoff per term,
     * so eps = 2u·(2d + k + 2N + 4) bounds the relative error against Σ|terms|; the normwise floor
     * eps·max|ref| stands in for Σ|terms| where sums cancel.
     */
    static double backwardEps(SparseProblem q) {
        return 2 * U * (2 * q.d() + q.k() + 2 * q.n() + 4);
    }

    @ParameterizedTest
    @MethodSource("problems")
    void backwardMatchesReference(SparseProblem q) {
        Encoded enc = select(q);
        FastOps fast = new FastOps(2);
        Params ref = Params.zeros(q.d(), q.m()), got = Params.zeros(q.d(), q.m());
        got.fill(Float.NaN);
        float alpha = SaeConfig.DEFAULT_AUX_ALPHA;
        Losses lr = REF.backward(q.params(), q.batch(), enc, null, alpha, ref);
        Losses lf = fast.backward(q.params(), q.batch(), enc, fast.decode(q.params(), enc.top(), true), alpha, got);
        double eps = backwardEps(q);
        assertClose(q + " FVU", lr.fvu(), lf.fvu(), eps);
        assertClose(q + " AuxK", lr.auxk(), lf.auxk(), eps);
        assertClose(q + " loss", lr.loss(), lf.loss(), eps);
        assertClose(q + " dW_dec", ref.wDec(), got.wDec(), eps, maxAbs(ref.wDec()));
        assertClose(q + " dW_enc", ref.wEnc(), got.wEnc(), eps, maxAbs(ref.wEnc()));
        assertClose(q + " db_enc", ref.bEnc(), got.bEnc(), eps, maxAbs(ref.bEnc()));
        assertClose(q + " db_dec", ref.bDec(), got.bDec(), eps, dbDecTerms(q, enc, ref));
        if (q.dead() != null && enc.aux() != null) assertEquals(true, lr.auxk() > 0, "AuxK should be active in " + q);
    }

    /** max_j of Σ_n |dx̂_nj| + Σ_i |db_enc[i]·W_enc[i, j]|: the size of db_dec's terms before they cancel. */
    static float dbDecTerms(SparseProblem q, Encoded enc, Params grads) {
        int d = q.d();
        float[] xhat = REF.decode(q.params(), enc.top(), true);
        double denom = 0, max = 0;
        double[] mean = new double[d];
        for (int i = 0; i < q.n() * d; i++) mean[i % d] += q.batch().x()[i] / (double) q.n();
        for (int i = 0; i < q.n() * d; i++) denom += Math.pow(q.batch().x()[i] - mean[i % d], 2);
        for (int j = 0; j < d; j++) {
            double t = 0;
            for (int row = 0; row < q.n(); row++) t += 2 * Math.abs(q.batch().x()[row * d + j] - xhat[row * d + j]) / denom;
            for (int i = 0; i < q.m(); i++) t += Math.abs(grads.bEnc()[i] * q.params().wEnc()[i * d + j]);
            max = Math.max(max, t);
        }
        return (float) max;
    }

    @Test
    void zeroVarianceBatchIsRejected() {
        SparseProblem q = SparseProblem.random(7, 13, 3, 4, 0f, 0, 0, 9);
        float[] x = new float[4 * 7];
        for (int i = 0; i < x.length; i++) x[i] = i % 7;
        Batch same = new Batch(4, 7, x, null);
        Encoded enc = REF.encodeSelect(q.params(), same, 0f, 3, null, 0);
        FastOps fast = new FastOps(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fast.backward(q.params(), same, enc, fast.decode(q.params(), enc.top(), true), 0f, Params.zeros(7, 13)));
        assertEquals(true, e.getMessage().contains("zero variance"), e.getMessage());
    }

    /**
     * Adam from random moments at t = 3. The moments use the reference's float formula, but dW_dec is
     * projected in float (error ≤ 2u·(2d + 2)·‖g_i‖‖w_i‖ per value) and W_dec renormalised in float
     * (2u·(d + 2) relative); an Adam step moves a value by at most about lr/(1 − β1^t)·‖g‖/√v, so
     * with the moments drawn on g's scale eps = 2u·(2d + 8) against |ref| + lr·√d covers both.
     */
    @ParameterizedTest
    @MethodSource("problems")
    void updateMatchesReference(SparseProblem q) {
        SplittableRandom rng = new SplittableRandom(q.d() * 31L + q.m());
        Params grads = Params.zeros(q.d(), q.m()), m = Params.zeros(q.d(), q.m()), v = Params.zeros(q.d(), q.m());
        for (Params t : new Params[]{grads, m})
            for (float[] a : new float[][]{t.wEnc(), t.bEnc(), t.wDec(), t.bDec()}) SparseProblem.fill(a, rng, 1.0);
        for (float[] a : new float[][]{v.wEnc(), v.bEnc(), v.wDec(), v.bDec()})
            for (int i = 0; i < a.length; i++) a[i] = (float) (0.5 + rng.nextDouble());
        Params pRef = q.params().copy(), pGot = q.params().copy();
        Params mRef = m.copy(), vRef = v.copy();
        float lr = 1e-3f;
        REF.update(pRef, grads.copy(), mRef, vRef, lr, 3);
        new FastOps(2).update(pGot, grads.copy(), m, v, lr, 3);
        double eps = 2 * U * (2 * q.d() + 8);
        float floor = (float) (lr * Math.sqrt(q.d()));
        assertClose(q + " W_enc", pRef.wEnc(), pGot.wEnc(), eps, floor);
        assertClose(q + " b_enc", pRef.bEnc(), pGot.bEnc(), eps, floor);
        assertClose(q + " W_dec", pRef.wDec(), pGot.wDec(), eps, floor);
        assertClose(q + " b_dec", pRef.bDec(), pGot.bDec(), eps, floor);
        assertClose(q + " m(W_dec)", mRef.wDec(), m.wDec(), eps, maxAbs(mRef.wDec()));
        assertClose(q + " v(W_dec)", vRef.wDec(), v.wDec(), eps, maxAbs(vRef.wDec()));
        assertArrayEquals(mRef.wEnc(), m.wEnc(), "Adam's first moment of W_enc uses the reference's float formula");
        assertArrayEquals(vRef.bEnc(), v.bEnc(), "Adam's second moment of b_enc uses the reference's float formula");
    }

    /** Decode, backward and update give bit-identical results on one worker and on two. */
    @ParameterizedTest
    @MethodSource("problems")
    void resultsDoNotDependOnThreadCount(SparseProblem q) {
        Encoded enc = select(q);
        Params[] grads = new Params[2], params = new Params[2];
        float[][] xhat = new float[2][];
        double[] loss = new double[2];
        for (int w = 0; w < 2; w++) {
            FastOps fast = new FastOps(w + 1);
            xhat[w] = fast.decode(q.params(), enc.top(), true);
            grads[w] = Params.zeros(q.d(), q.m());
            loss[w] = fast.backward(q.params(), q.batch(), enc, xhat[w], 0.25f, grads[w]).loss();
            params[w] = q.params().copy();
            fast.update(params[w], grads[w].copy(), Params.zeros(q.d(), q.m()), Params.zeros(q.d(), q.m()), 1e-3f, 1);
        }
        assertArrayEquals(xhat[0], xhat[1]);
        assertEquals(loss[0], loss[1]);
        for (int i = 0; i < 2; i++) {
            Params[] pair = i == 0 ? grads : params;
            assertArrayEquals(pair[0].wEnc(), pair[1].wEnc());
            assertArrayEquals(pair[0].bEnc(), pair[1].bEnc());
            assertArrayEquals(pair[0].wDec(), pair[1].wDec());
            assertArrayEquals(pair[0].bDec(), pair[1].bDec());
        }
    }

    /**
     * Four host training steps, FastOps against the reference, with dead latents appearing after the
     * first step (dead-tokens = N) so AuxK runs. Per-step errors compound through the parameters
     * (each step's Adam moves a value by about lr), so the bound is per-step eps times the steps.
     */
    @Test
    void trainingStepsTrackTheReference() {
        int d = 24, m = 96, k = 4, n = 40, steps = 4;
        SparseProblem q = SparseProblem.random(d, m, k, n, 1f, 0, 0, 10);
        SaeConfig cfg = new SaeConfig(d, m, k, 1f, 6, SaeConfig.DEFAULT_AUX_ALPHA, n);
        TrainState init = TrainState.fresh(q.params());
        HostTrainingStep ref = new HostTrainingStep(cfg, REF, init), fast = new HostTrainingStep(cfg, new FastOps(2), init);
        double eps = steps * backwardEps(q);
        boolean sawDead = false;
        for (int s = 0; s < steps; s++) {
            SparseProblem batch = SparseProblem.random(d, m, k, n, 1f, 0, 0, 100 + s);
            StepMetrics r = ref.step(batch.batch(), 1e-3f), f = fast.step(batch.batch(), 1e-3f);
            assertClose("step " + s + " FVU", r.fvu(), f.fvu(), eps);
            assertClose("step " + s + " AuxK", r.auxk(), f.auxk(), eps);
            assertEquals(r.l0(), f.l0(), "step " + s + " L0");
            assertEquals(r.deadFraction(), f.deadFraction(), "step " + s + " dead fraction");
            sawDead |= r.auxk() > 0;
        }
        assertEquals(true, sawDead, "AuxK never ran");
        Params pr = ref.snapshot().params(), pf = fast.snapshot().params();
        float floor = (float) (1e-3 * Math.sqrt(d));
        assertClose("W_enc", pr.wEnc(), pf.wEnc(), eps, floor);
        assertClose("b_enc", pr.bEnc(), pf.bEnc(), eps, floor);
        assertClose("W_dec", pr.wDec(), pf.wDec(), eps, floor);
        assertClose("b_dec", pr.bDec(), pf.bDec(), eps, floor);
    }
}
