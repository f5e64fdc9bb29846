package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;

/**
 * The dense baseline (issue #3): what a framework does without a fused kernel. Encode-select
 * materialises z and s as [N, M] products and runs a full-row top-k; decode multiplies a dense
 * a [N, M] by W_dec; backward forms every gradient as a dense product ({@link DenseBackward}).
 * All products go through {@link Gemm} on the same micro-kernel as the fused path, so a benchmark
 * of the two measures the algorithm, not the kernel.
 */
public final class DenseOps implements Ops, AutoCloseable {

    /** Rows per top-k task. */
    private static final int SELECT_ROWS = 64;

    private final Workers workers;
    private final AdamUpdate adam;

    public DenseOps(int threads) {
        this.workers = new Workers(threads);
        this.adam = new AdamUpdate(workers);
    }

    @Override
    public String name() {
        return "dense";
    }

    @Override
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        int n = b.n(), d = p.d(), m = p.m();
        int kAux = FusedEncoder.auxCount(p, b, beta, k, dead, auxK);

        float[] z = Gemm.abt(workers, centred(p, b), p.wEnc(), n, m, d);
        float[] score = beta == 0f ? new float[Math.multiplyExact(n, m)] : Gemm.abt(workers, b.g(), p.wDec(), n, m, d);
        Selection top = Selection.empty(n, k);
        Selection aux = kAux > 0 ? Selection.empty(n, kAux) : null;
        workers.forEach((n + SELECT_ROWS - 1) / SELECT_ROWS, task -> {
            int first = task * SELECT_ROWS, rows = Math.min(SELECT_ROWS, n - first);
            for (int row = first; row < first + rows; row++) {
                for (int i = 0, at = row * m; i < m; i++, at++) {
                    z[at] += p.bEnc()[i];
                    score[at] = Math.fma(beta * z[at], Math.abs(score[at]), z[at]);
                }
            }
            selectRows(score, z, m, first, rows, null, top);
            if (aux != null) selectRows(score, z, m, first, rows, dead, aux);
        });
        return new Encoded(top, aux);
    }

    /** Full-row top-k of score over the allowed latents for rows first … first + rows − 1. */
    private static void selectRows(float[] score, float[] z, int m, int first, int rows, boolean[] allowed, Selection out) {
        RowTopK best = new RowTopK(rows, out.k());
        for (int r = 0; r < rows; r++) {
            int base = (first + r) * m;
            for (int i = 0; i < m; i++)
                if ((allowed == null || allowed[i]) && score[base + i] >= best.threshold(r)) best.offer(r, score[base + i], z[base + i], i);
            best.write(r, out, first + r);
        }
    }

    /** x − b_dec.  returns [N, d] */
    static float[] centred(Params p, Batch b) {
        int d = p.d();
        float[] xc = new float[b.n() * d];
        for (int i = 0; i < xc.length; i++) xc[i] = b.x()[i] - p.bDec()[i % d];
        return xc;
    }

    /** The selection as a dense matrix: a[n, i] = value if i ∈ S_n, else 0.  returns [N, M] */
    static float[] dense(Selection s, int m) {
        float[] a = new float[Math.multiplyExact(s.n(), m)];
        for (int row = 0; row < s.n(); row++)
            for (int slot = 0; slot < s.k(); slot++) a[row * m + s.indices()[row * s.k() + slot]] = s.values()[row * s.k() + slot];
        return a;
    }

    /** x̂ = a·W_dec (+ b_dec) with a dense.  returns [N, d] */
    @Override
    public float[] decode(Params p, Selection s, boolean withBias) {
        int d = p.d();
        float[] xhat = Gemm.ab(workers, dense(s, p.m()), p.wDec(), s.n(), p.m(), d);
        if (withBias) for (int i = 0; i < xhat.length; i++) xhat[i] += p.bDec()[i % d];
        return xhat;
    }

    @Override
    public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
        return new DenseBackward(workers, p, b).run(enc, xhat, auxAlpha, grads, global);
    }

    /** SPEC §5 is elementwise in O(M·d), dense in both paths: the baseline shares the fast path's update, so benchmarks compare only what differs. */
    @Override
    public void update(Params p, Params grads, Params m, Params v, float lr, long t) {
        adam.update(p, grads, m, v, lr, t);
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        workers.close();
    }
}
