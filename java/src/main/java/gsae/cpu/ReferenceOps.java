package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The scalar oracle: SPEC §2–5 written for clarity, one loop per formula, every reduction in double.
 * Its backward recomputes z and x̂ in double from the selected indices alone, so its gradients are
 * exact for that selection and a finite-difference check can hold it to double precision.
 */
public final class ReferenceOps implements Ops {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        int n = b.n(), m = p.m();
        int deadCount = dead == null ? 0 : (int) IntStream.range(0, m).filter(i -> dead[i]).count();
        int kAux = Math.min(auxK, deadCount);
        Selection top = Selection.empty(n, k);
        Selection aux = kAux > 0 ? Selection.empty(n, kAux) : null;
        double[] z = new double[m], score = new double[m];
        for (int row = 0; row < n; row++) {
            for (int i = 0; i < m; i++) {
                z[i] = preActivation(p, b, row, i);
                double s = beta == 0f ? 0.0 : Math.abs(dot(b.g(), row * p.d(), p.wDec(), i * p.d(), p.d()));
                score[i] = z[i] + beta * z[i] * s;
            }
            keepLargest(score, z, null, row, top);
            if (aux != null) keepLargest(score, z, dead, row, aux);
        }
        return new Encoded(top, aux);
    }

    /** Writes row {@code row} of {@code out}: its k largest scores among allowed latents, ascending index. */
    private static void keepLargest(double[] score, double[] z, boolean[] allowed, int row, Selection out) {
        Integer[] order = IntStream.range(0, score.length).filter(i -> allowed == null || allowed[i]).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -score[i]).thenComparingInt(i -> i));
        int[] chosen = new int[out.k()];
        for (int j = 0; j < out.k(); j++) chosen[j] = order[j];
        Arrays.sort(chosen);
        for (int j = 0; j < out.k(); j++) {
            out.indices()[row * out.k() + j] = chosen[j];
            out.values()[row * out.k() + j] = (float) Math.max(0.0, z[chosen[j]]);
        }
    }

    /** z[row, i] = (x_row − b_dec)·W_enc[i] + b_enc[i], in double. */
    static double preActivation(Params p, Batch b, int row, int i) {
        double acc = p.bEnc()[i];
        for (int j = 0; j < p.d(); j++) acc += ((double) b.x()[row * p.d() + j] - p.bDec()[j]) * p.wEnc()[i * p.d() + j];
        return acc;
    }

    private static double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        double acc = 0;
        for (int j = 0; j < len; j++) acc += (double) a[aOff + j] * b[bOff + j];
        return acc;
    }

    @Override
    public float[] decode(Params p, Selection s, boolean withBias) {
        double[] xhat = decodeDouble(p, s, withBias, null);
        float[] out = new float[xhat.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) xhat[i];
        return out;
    }

    /** x̂ in double; activations from {@code a} when given (double, [N, k]), else from the selection. */
    private static double[] decodeDouble(Params p, Selection s, boolean withBias, double[] a) {
        int d = p.d();
        double[] xhat = new double[s.n() * d];
        for (int row = 0; row < s.n(); row++) {
            for (int j = 0; j < d; j++) xhat[row * d + j] = withBias ? p.bDec()[j] : 0.0;
            for (int slot = 0; slot < s.k(); slot++) {
                int at = row * s.k() + slot, i = s.indices()[at];
                double ai = a != null ? a[at] : s.values()[at];
                for (int j = 0; j < d; j++) xhat[row * d + j] += ai * p.wDec()[i * d + j];
            }
        }
        return xhat;
    }

    /** a = ReLU(z) at the selected latents, recomputed in double.  returns [N, k] */
    private static double[] activations(Params p, Batch b, Selection s) {
        double[] a = new double[s.n() * s.k()];
        for (int row = 0; row < s.n(); row++)
            for (int slot = 0; slot < s.k(); slot++)
                a[row * s.k() + slot] = Math.max(0.0, preActivation(p, b, row, s.indices()[row * s.k() + slot]));
        return a;
    }

    /** Σ_n ‖v_n − v̄‖² over the rows of v [N, d]. */
    static double centredSumOfSquares(double[] v, int n, int d) {
        double total = 0;
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int row = 0; row < n; row++) mean += v[row * d + j];
            mean /= n;
            for (int row = 0; row < n; row++) total += (v[row * d + j] - mean) * (v[row * d + j] - mean);
        }
        return total;
    }

    @Override
    public Losses backward(Params p, Batch b, Encoded enc, float[] xhatIgnored, float auxAlpha, Params grads, Denominators global) {
        int n = b.n(), d = p.d();
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) x[i] = b.x()[i];
        double denom = global != null ? global.fvu() : centredSumOfSquares(x, n, d);
        if (denom == 0) throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens)");

        double[] a = activations(p, b, enc.top());
        double[] xhat = decodeDouble(p, enc.top(), true, a);
        double[] e = new double[n * d], dxhat = new double[n * d];
        double sse = 0;
        for (int i = 0; i < e.length; i++) {
            e[i] = x[i] - xhat[i];
            sse += e[i] * e[i];
            dxhat[i] = -2.0 * e[i] / denom;
        }
        double fvu = sse / denom;

        Gradients acc = new Gradients(d, p.m());
        acc.addPairs(p, b, enc.top(), a, dxhat);
        for (int row = 0; row < n; row++)
            for (int j = 0; j < d; j++) acc.bDec[j] += dxhat[row * d + j];

        double auxk = 0;
        if (enc.aux() != null) {
            double auxDenom = global != null ? global.auxk() : centredSumOfSquares(e, n, d);
            double[] aAux = activations(p, b, enc.aux());
            double[] ehat = decodeDouble(p, enc.aux(), false, aAux);
            double auxSse = 0;
            double[] dehat = new double[n * d];
            for (int i = 0; i < e.length; i++) auxSse += (ehat[i] - e[i]) * (ehat[i] - e[i]);
            if (auxDenom > 0) {
                auxk = auxSse / auxDenom;
                for (int i = 0; i < e.length; i++) dehat[i] = auxAlpha * 2.0 * (ehat[i] - e[i]) / auxDenom;
                acc.addPairs(p, b, enc.aux(), aAux, dehat);
            }
        }
        acc.writeTo(grads);
        return new Losses(fvu, auxk, fvu + auxAlpha * auxk);
    }

    /** Double accumulators for SPEC §4's sums. */
    private static final class Gradients {
        final int d;
        final double[] wEnc, bEnc, wDec, bDec;

        Gradients(int d, int m) {
            this.d = d;
            wEnc = new double[m * d];
            bEnc = new double[m];
            wDec = new double[m * d];
            bDec = new double[d];
        }

        /** The terms of every selected pair (n, i) whose output gradient is dout [N, d]. */
        void addPairs(Params p, Batch b, Selection s, double[] a, double[] dout) {
            for (int row = 0; row < s.n(); row++) {
                for (int slot = 0; slot < s.k(); slot++) {
                    int at = row * s.k() + slot, i = s.indices()[at];
                    double da = 0;
                    for (int j = 0; j < d; j++) {
                        wDec[i * d + j] += a[at] * dout[row * d + j];
                        da += dout[row * d + j] * p.wDec()[i * d + j];
                    }
                    double dz = a[at] > 0 ? da : 0.0;
                    if (dz == 0) continue;
                    bEnc[i] += dz;
                    for (int j = 0; j < d; j++) {
                        wEnc[i * d + j] += dz * ((double) b.x()[row * d + j] - p.bDec()[j]);
                        bDec[j] -= dz * p.wEnc()[i * d + j];
                    }
                }
            }
        }

        void writeTo(Params g) {
            copy(wEnc, g.wEnc());
            copy(bEnc, g.bEnc());
            copy(wDec, g.wDec());
            copy(bDec, g.bDec());
        }

        private static void copy(double[] from, float[] to) {
            for (int i = 0; i < from.length; i++) to[i] = (float) from[i];
        }
    }

    @Override
    public void update(Params p, Params grads, Params m, Params v, float lr, long t) {
        int d = p.d();
        for (int i = 0; i < p.m(); i++) {
            double gw = 0, ww = 0;
            for (int j = 0; j < d; j++) {
                gw += (double) grads.wDec()[i * d + j] * p.wDec()[i * d + j];
                ww += (double) p.wDec()[i * d + j] * p.wDec()[i * d + j];
            }
            if (ww == 0) continue;
            for (int j = 0; j < d; j++) grads.wDec()[i * d + j] -= (float) (gw / ww * p.wDec()[i * d + j]);
        }
        double c1 = 1.0 - Math.pow(ADAM_BETA1, t), c2 = 1.0 - Math.pow(ADAM_BETA2, t);
        adam(p.wEnc(), grads.wEnc(), m.wEnc(), v.wEnc(), lr, c1, c2);
        adam(p.bEnc(), grads.bEnc(), m.bEnc(), v.bEnc(), lr, c1, c2);
        adam(p.wDec(), grads.wDec(), m.wDec(), v.wDec(), lr, c1, c2);
        adam(p.bDec(), grads.bDec(), m.bDec(), v.bDec(), lr, c1, c2);
        p.normalizeDecoderRows();
    }

    /** m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr·(m/c1)/(√(v/c2) + ε). */
    private static void adam(float[] p, float[] g, float[] m, float[] v, float lr, double c1, double c2) {
        for (int i = 0; i < p.length; i++) {
            m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * g[i];
            v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * g[i] * g[i];
            p[i] -= (float) (lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + ADAM_EPS));
        }
    }
}
