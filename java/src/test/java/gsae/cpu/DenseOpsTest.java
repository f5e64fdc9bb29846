package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static gsae.cpu.EncodeCheck.EPS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dense baseline against the reference, stage by stage, on the reference's selection.
 *
 * <p>Gradient tolerances: every float quantity of the dense path is a tree of sums and products of
 * the inputs, rounded at most κ times along any path, so it errs by at most κ·u times the same tree
 * evaluated on absolute values ("abs tree", computed here in double; Higham, Accuracy and Stability,
 * §3). κ ≤ 2(N + d + k) + 16 counts the chains: x − b_dec, z (d), decode (k non-zero terms; zero
 * terms add exactly), e, dx̂, dA (d), the N-term products, the final roundings. u is taken as 2^-23
 * (2× margin). AuxK divides by Σ‖e − ē‖², computed from a perturbed e, which adds its relative
 * error δ_D to the AuxK terms.
 */
class DenseOpsTest {

    private static final ReferenceOps REFERENCE = new ReferenceOps();

    @ParameterizedTest(name = "n={0} d={1} M={2} k={3} beta={4} auxK={5}")
    @CsvSource({"40, 20, 96, 6, 0, 4", "33, 7, 61, 5, 0.5, 9", "17, 1, 13, 2, 1, 3", "50, 64, 256, 16, 0, 0"})
    void agreesWithReference(int n, int d, int m, int k, float beta, int auxK) {
        long seed = 100L * n + d + m;
        Params p = EncodeCheck.params(seed, d, m);
        Batch b = EncodeCheck.batch(seed + 1, n, d);
        boolean[] dead = auxK > 0 ? EncodeCheck.dead(seed + 2, m, 0.3) : null;
        DenseOps dense = new DenseOps(2);

        Encoded want = REFERENCE.encodeSelect(p, b, beta, k, dead, auxK);
        Encoded got = dense.encodeSelect(p, b, beta, k, dead, auxK);
        EncodeCheck.Scores scores = EncodeCheck.Scores.of(p, b, beta);
        EncodeCheck.assertMatches(want.top(), got.top(), scores, null, "top");
        if (want.aux() != null) {
            assertNotNull(got.aux(), "aux missing");
            EncodeCheck.assertMatches(want.aux(), got.aux(), scores, dead, "aux");
        }

        for (boolean bias : new boolean[]{true, false})
            assertDecode(p, want.top(), REFERENCE.decode(p, want.top(), bias), dense.decode(p, want.top(), bias), bias);

        Params gradWant = Params.zeros(d, m), gradGot = Params.zeros(d, m);
        float alpha = 1f / 32;
        Losses lossWant = REFERENCE.backward(p, b, want, REFERENCE.decode(p, want.top(), true), alpha, gradWant);
        Losses lossGot = dense.backward(p, b, want, dense.decode(p, want.top(), true), alpha, gradGot);
        new AbsTree(p, b, want, alpha).assertClose(lossWant, lossGot, gradWant, gradGot);

        Params pWant = p.copy(), pGot = p.copy();
        Params mWant = Params.zeros(d, m), vWant = Params.zeros(d, m), mGot = Params.zeros(d, m), vGot = Params.zeros(d, m);
        REFERENCE.update(pWant, gradWant.copy(), mWant, vWant, 1e-3f, 1);
        dense.update(pGot, gradWant.copy(), mGot, vGot, 1e-3f, 1);
        // The update is the fast path's AdamUpdate: a few float roundings per element against the
        // reference's double projection and norm, hence eps = 2u·(2d + 8) and an lr·√d floor (as in FastOpsTest).
        double eps = 2 * SparseProblem.U * (2 * d + 8);
        float floor = (float) (1e-3 * Math.sqrt(d));
        SparseProblem.assertClose("update: W_enc", pWant.wEnc(), pGot.wEnc(), eps, floor);
        SparseProblem.assertClose("update: W_dec", pWant.wDec(), pGot.wDec(), eps, floor);
        SparseProblem.assertClose("update: b_dec", pWant.bDec(), pGot.bDec(), eps, floor);
        assertArrayEquals(vWant.bEnc(), vGot.bEnc(), "update: Adam v of b_enc uses the reference's float formula");
    }


    /** Decode has k non-zero terms and one bias add per element: (k + 2)·2^-23·(Σ|a w| + |b_dec|). */
    private static void assertDecode(Params p, Selection s, float[] want, float[] got, boolean bias) {
        int d = p.d();
        for (int row = 0; row < s.n(); row++) {
            for (int j = 0; j < d; j++) {
                double magnitude = bias ? Math.abs(p.bDec()[j]) : 0;
                for (int slot = 0; slot < s.k(); slot++)
                    magnitude += Math.abs(s.values()[row * s.k() + slot] * p.wDec()[s.indices()[row * s.k() + slot] * d + j]);
                double tol = (s.k() + 2) * EPS * magnitude + Math.ulp(want[row * d + j]);
                if (Math.abs(got[row * d + j] - want[row * d + j]) > tol)
                    fail("decode(bias=" + bias + ") [" + row + ", " + j + "] = " + got[row * d + j] + ", want " + want[row * d + j] + " ± " + tol);
            }
        }
    }

    /** SPEC §3–4 on absolute values, in double, for the reconstruction terms and the AuxK terms apart. */
    private static final class AbsTree {
        final Params main, aux;
        final double kappaEps, deltaD, fvuTol, auxkTol;

        AbsTree(Params p, Batch b, Encoded enc, float alpha) {
            int n = b.n(), d = p.d(), m = p.m();
            kappaEps = (2.0 * (n + d + enc.top().k()) + 16) * EPS;
            double[] xa = new double[n * d], ea = new double[n * d];
            for (int i = 0; i < n * d; i++) xa[i] = Math.abs(b.x()[i]) + Math.abs(p.bDec()[i % d]);
            double[] xhat = reconstruct(p, enc.top(), xa, true);
            double denom = ReferenceOps.centredSumOfSquares(toDouble(b.x()), n, d), sq = 0;
            for (int i = 0; i < n * d; i++) {
                ea[i] = Math.abs(b.x()[i]) + xhat[i];
                sq += ea[i] * ea[i];
            }
            main = Params.zeros(d, m);
            double[] dy = new double[n * d];
            for (int i = 0; i < n * d; i++) dy[i] = 2 * ea[i] / denom;
            for (int i = 0; i < n * d; i++) main.bDec()[i % d] += (float) dy[i];
            addPairs(p, enc.top(), xa, dy, main);
            fvuTol = 2 * kappaEps * sq / denom;

            aux = Params.zeros(d, m);
            if (enc.aux() == null) {
                deltaD = 0;
                auxkTol = 0;
                return;
            }
            double[] e = new double[n * d];
            double[] xhatRef = toDouble(REFERENCE.decode(p, enc.top(), true));
            for (int i = 0; i < n * d; i++) e[i] = b.x()[i] - xhatRef[i];
            double auxDenom = ReferenceOps.centredSumOfSquares(e, n, d), spread = 0, auxSq = 0;
            for (int i = 0; i < n * d; i++) spread += (Math.abs(e[i]) + ea[i]) * ea[i];
            deltaD = 4 * kappaEps * spread / auxDenom;
            double[] ehat = reconstruct(p, enc.aux(), xa, false), dAux = new double[n * d];
            for (int i = 0; i < n * d; i++) {
                dAux[i] = alpha * 2 * (ehat[i] + ea[i]) / auxDenom;
                auxSq += (ehat[i] + ea[i]) * (ehat[i] + ea[i]);
            }
            addPairs(p, enc.aux(), xa, dAux, aux);
            auxkTol = (2 * kappaEps + deltaD) * auxSq / auxDenom;
        }

        /** Abs tree of x̂ (or ê without bias): Σ_{i∈S} |z_i|·|W_dec[i]| (+ |b_dec|).  returns [N, d] */
        private static double[] reconstruct(Params p, Selection s, double[] xa, boolean bias) {
            int d = p.d();
            double[] out = new double[s.n() * d];
            for (int row = 0; row < s.n(); row++) {
                for (int j = 0; j < d; j++) out[row * d + j] = bias ? Math.abs(p.bDec()[j]) : 0;
                for (int slot = 0; slot < s.k(); slot++) {
                    int i = s.indices()[row * s.k() + slot];
                    double za = absZ(p, xa, row, i);
                    for (int j = 0; j < d; j++) out[row * d + j] += za * Math.abs(p.wDec()[i * d + j]);
                }
            }
            return out;
        }

        private static double absZ(Params p, double[] xa, int row, int i) {
            int d = p.d();
            double za = Math.abs(p.bEnc()[i]);
            for (int j = 0; j < d; j++) za += xa[row * d + j] * Math.abs(p.wEnc()[i * d + j]);
            return za;
        }

        /** The abs tree of SPEC §4's sums for the pairs of s with output gradient dy. */
        private static void addPairs(Params p, Selection s, double[] xa, double[] dy, Params into) {
            int d = p.d();
            for (int row = 0; row < s.n(); row++) {
                for (int slot = 0; slot < s.k(); slot++) {
                    int i = s.indices()[row * s.k() + slot];
                    double za = absZ(p, xa, row, i), da = 0;
                    for (int j = 0; j < d; j++) {
                        into.wDec()[i * d + j] += (float) (za * dy[row * d + j]);
                        da += dy[row * d + j] * Math.abs(p.wDec()[i * d + j]);
                    }
                    into.bEnc()[i] += (float) da;
                    for (int j = 0; j < d; j++) {
                        into.wEnc()[i * d + j] += (float) (da * xa[row * d + j]);
                        into.bDec()[j] += (float) (da * Math.abs(p.wEnc()[i * d + j]));
                    }
                }
            }
        }

        void assertClose(Losses want, Losses got, Params gradWant, Params gradGot) {
            assertEquals(want.fvu(), got.fvu(), fvuTol + 1e-12, "fvu");
            assertEquals(want.auxk(), got.auxk(), auxkTol + 1e-12, "auxk");
            compare("dW_enc", gradWant.wEnc(), gradGot.wEnc(), main.wEnc(), aux.wEnc());
            compare("db_enc", gradWant.bEnc(), gradGot.bEnc(), main.bEnc(), aux.bEnc());
            compare("dW_dec", gradWant.wDec(), gradGot.wDec(), main.wDec(), aux.wDec());
            compare("db_dec", gradWant.bDec(), gradGot.bDec(), main.bDec(), aux.bDec());
        }

        private void compare(String what, float[] want, float[] got, float[] absMain, float[] absAux) {
            for (int i = 0; i < want.length; i++) {
                double tol = kappaEps * (absMain[i] + absAux[i]) + deltaD * absAux[i] + Math.ulp(want[i]);
                if (Math.abs(got[i] - want[i]) > tol)
                    fail(what + "[" + i + "] = " + got[i] + ", want " + want[i] + " ± " + tol);
            }
        }

        private static double[] toDouble(float[] v) {
            double[] out = new double[v.length];
            for (int i = 0; i < v.length; i++) out[i] = v[i];
            return out;
        }
    }
}
