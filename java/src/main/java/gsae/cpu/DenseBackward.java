package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;

/**
 * SPEC §3–4 as dense products, for the baseline: with A the dense activations [N, M] and
 * dY the gradient at the output [N, d],
 * dA = dY·W_decᵀ, dZ = dA ∘ 1[A > 0], dW_dec = Aᵀ·dY, dW_enc = dZᵀ·(x − b_dec),
 * db_enc = Σ_n dZ_n, db_dec = Σ_n dx̂_n − db_enc·W_enc; once for the reconstruction and once,
 * scaled by α, for AuxK. Sums of scalars are taken in double.
 */
final class DenseBackward {

    private final Workers workers;
    private final Params p;
    private final Batch b;
    private final float[] xc; // [N, d]
    private final double[] wEnc, bEnc, wDec, bDec;

    DenseBackward(Workers workers, Params p, Batch b) {
        if (b.d() != p.d()) throw new IllegalArgumentException("batch width " + b.d() + " does not match the SAE's d=" + p.d());
        this.workers = workers;
        this.p = p;
        this.b = b;
        this.xc = DenseOps.centred(p, b);
        wEnc = new double[p.m() * p.d()];
        bEnc = new double[p.m()];
        wDec = new double[p.m() * p.d()];
        bDec = new double[p.d()];
    }

    /** @param global the denominators of a larger batch this one is a slice of, or null for this batch's own */
    Losses run(Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
        int n = b.n(), d = p.d();
        double denom = global != null ? global.fvu() : Denominators.centredSumOfSquares(b.x(), n, d);
        if (denom == 0) throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens)");
        float[] e = new float[n * d], dxhat = new float[n * d];
        double sse = 0;
        for (int i = 0; i < e.length; i++) {
            e[i] = b.x()[i] - xhat[i];
            sse += (double) e[i] * e[i];
            dxhat[i] = (float) (-2.0 * e[i] / denom);
        }
        for (int i = 0; i < dxhat.length; i++) bDec[i % d] += dxhat[i];
        addTerms(enc.top(), dxhat);

        double auxk = 0;
        if (enc.aux() != null) {
            double auxDenom = global != null ? global.auxk() : Denominators.centredSumOfSquares(e, n, d);
            float[] ehat = Gemm.ab(workers, DenseOps.dense(enc.aux(), p.m()), p.wDec(), n, p.m(), d);
            double auxSse = 0;
            float[] dehat = new float[n * d];
            for (int i = 0; i < e.length; i++) {
                double r = (double) ehat[i] - e[i];
                auxSse += r * r;
                if (auxDenom > 0) dehat[i] = (float) (auxAlpha * 2.0 * r / auxDenom);
            }
            if (auxDenom > 0) {
                auxk = auxSse / auxDenom;
                addTerms(enc.aux(), dehat);
            }
        }
        copy(wEnc, grads.wEnc());
        copy(bEnc, grads.bEnc());
        copy(wDec, grads.wDec());
        copy(bDec, grads.bDec());
        double fvu = sse / denom;
        return new Losses(fvu, auxk, fvu + auxAlpha * auxk);
    }

    /** Adds the gradient terms of the selected pairs whose output receives gradient dY [N, d]. */
    private void addTerms(Selection s, float[] dy) {
        int n = b.n(), d = p.d(), m = p.m();
        float[] a = DenseOps.dense(s, m);
        float[] dz = Gemm.abt(workers, dy, p.wDec(), n, m, d);
        for (int i = 0; i < dz.length; i++) if (!(a[i] > 0f)) dz[i] = 0f;
        add(wDec, Gemm.atb(workers, a, dy, n, m, d));
        add(wEnc, Gemm.atb(workers, dz, xc, n, m, d));
        double[] dbEnc = new double[m];
        for (int row = 0; row < n; row++)
            for (int i = 0; i < m; i++) dbEnc[i] += dz[row * m + i];
        for (int i = 0; i < m; i++) {
            bEnc[i] += dbEnc[i];
            for (int j = 0; j < d; j++) bDec[j] -= dbEnc[i] * p.wEnc()[i * d + j];
        }
    }

    private static void add(double[] into, float[] from) {
        for (int i = 0; i < into.length; i++) into[i] += from[i];
    }

    private static void copy(double[] from, float[] to) {
        for (int i = 0; i < from.length; i++) to[i] = (float) from[i];
    }
}
