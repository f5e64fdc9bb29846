package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Central finite differences of the loss, in double, against ReferenceOps.backward for every
 * coordinate of W_enc, b_enc, W_dec and b_dec, with AuxK active. The selection is held fixed: a
 * coordinate whose perturbation changes any index set or any sign of a selected z is skipped.
 *
 * With the selection and the ReLU pattern fixed, the loss restricted to one coordinate is a
 * quadratic (z, x̂ and ê are affine in any single parameter; e and both denominators are constants
 * by SPEC §3–4), so the central difference is exact up to rounding and the tolerance needs no
 * truncation term: the reference rounds each gradient to float (≤ 2^-24 relative, 2^-23 allowed),
 * and the difference quotient carries the double rounding of the loss, ≤ 2^-40·L/δ for sums of
 * fewer than 2^12 terms.
 */
class ReferenceGradientTest {

    private static final ReferenceOps REF = new ReferenceOps();
    private static final float ALPHA = 0.5f;

    @Test
    void backwardMatchesFiniteDifferences() {
        SparseProblem q = SparseProblem.random(5, 12, 3, 8, 1f, 0.4, 2, 11);
        Params p = q.params();
        Encoded enc = select(q, p);
        assertTrue(enc.aux() != null, "the fixture must have dead latents");
        Params grads = Params.zeros(q.d(), q.m());
        Losses losses = REF.backward(p, q.batch(), enc, null, ALPHA, grads);
        FrozenLoss loss = new FrozenLoss(p, q.batch(), enc, ALPHA);
        assertEquals(losses.loss(), loss.at(p), 1e-12 * losses.loss(), "the test's loss is the reference's");
        assertTrue(losses.auxk() > 0, "AuxK must be active");

        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec"};
        for (int which = 0; which < 4; which++) {
            float[] param = arrays(p)[which], grad = arrays(grads)[which];
            int checked = 0, nonzero = 0;
            for (int c = 0; c < param.length; c++) {
                float theta = param[c];
                float h = Math.max(Math.abs(theta), 0.125f) * 0x1p-8f;
                float up = theta + h, down = theta - h;
                param[c] = up;
                double lossUp = loss.at(p);
                boolean sameUp = sameSelection(enc, select(q, p));
                param[c] = down;
                double lossDown = loss.at(p);
                boolean sameDown = sameSelection(enc, select(q, p));
                param[c] = theta;
                if (!sameUp || !sameDown) continue;
                double delta = (double) up - down;
                double fd = (lossUp - lossDown) / delta;
                double tol = 0x1p-23 * Math.abs(grad[c]) + 0x1p-40 * losses.loss() / delta;
                if (!(Math.abs(fd - grad[c]) <= tol))
                    fail(names[which] + "[" + c + "]: finite difference " + fd + ", backward " + grad[c] + ", tolerance " + tol);
                checked++;
                if (grad[c] != 0f) nonzero++;
            }
            assertTrue(checked >= 0.8 * param.length, names[which] + ": only " + checked + " of " + param.length + " coordinates kept the selection");
            assertTrue(nonzero >= checked / 4, names[which] + ": only " + nonzero + " nonzero gradients checked");
        }
    }

    private static Encoded select(SparseProblem q, Params p) {
        return REF.encodeSelect(p, q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
    }

    private static float[][] arrays(Params p) {
        return new float[][]{p.wEnc(), p.bEnc(), p.wDec(), p.bDec()};
    }

    private static boolean sameSelection(Encoded a, Encoded b) {
        return samePattern(a.top(), b.top()) && samePattern(a.aux(), b.aux());
    }

    /** Same indices and the same latents with a > 0 (the ReLU's side). */
    private static boolean samePattern(Selection a, Selection b) {
        if (!Arrays.equals(a.indices(), b.indices())) return false;
        for (int i = 0; i < a.values().length; i++)
            if ((a.values()[i] > 0f) != (b.values()[i] > 0f)) return false;
        return true;
    }

    /**
     * FVU + α·AuxK in double for a fixed selection, with AuxK's e and both denominators frozen at the
     * parameters it was built with (SPEC §3: stop_grad(e); Σ‖x − x̄‖² does not depend on parameters).
     */
    private static final class FrozenLoss {
        final Batch b;
        final Encoded enc;
        final float alpha;
        final double[] e0;
        final double denom, auxDenom;

        FrozenLoss(Params p, Batch b, Encoded enc, float alpha) {
            this.b = b;
            this.enc = enc;
            this.alpha = alpha;
            double[] x = new double[b.x().length];
            for (int i = 0; i < x.length; i++) x[i] = b.x()[i];
            denom = ReferenceOps.centredSumOfSquares(x, b.n(), b.d());
            e0 = residual(p);
            auxDenom = ReferenceOps.centredSumOfSquares(e0, b.n(), b.d());
        }

        double[] residual(Params p) {
            double[] xhat = reconstruct(p, enc.top(), true);
            for (int i = 0; i < xhat.length; i++) xhat[i] = b.x()[i] - xhat[i];
            return xhat;
        }

        double at(Params p) {
            double[] e = residual(p), ehat = reconstruct(p, enc.aux(), false);
            double sse = 0, auxSse = 0;
            for (int i = 0; i < e.length; i++) {
                sse += e[i] * e[i];
                auxSse += (ehat[i] - e0[i]) * (ehat[i] - e0[i]);
            }
            return sse / denom + alpha * auxSse / auxDenom;
        }

        /** Σ_slot ReLU(z)·W_dec[i] (+ b_dec), z recomputed in double at p. */
        double[] reconstruct(Params p, Selection s, boolean withBias) {
            int d = p.d();
            double[] out = new double[b.n() * d];
            for (int row = 0; row < b.n(); row++) {
                if (withBias) for (int j = 0; j < d; j++) out[row * d + j] = p.bDec()[j];
                for (int slot = 0; slot < s.k(); slot++) {
                    int i = s.indices()[row * s.k() + slot];
                    double a = Math.max(0.0, ReferenceOps.preActivation(p, b, row, i));
                    for (int j = 0; j < d; j++) out[row * d + j] += a * p.wDec()[i * d + j];
                }
            }
            return out;
        }
    }
}
