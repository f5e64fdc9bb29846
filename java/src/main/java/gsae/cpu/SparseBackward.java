package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;

import java.util.Arrays;

import static gsae.cpu.SparseDecoder.TOKENS_PER_TASK;

/**
 * SPEC §3–4 in O(N·k·d), nothing of shape [N, M]:
 *
 *     e = x − x̂,  dx̂ = −2e / Σ‖x − x̄‖²,  da[n, slot] = dx̂_n·W_dec[i],  dz = da·1[a > 0]
 *     AuxK: r = a_aux·W_dec − e,  dê = 2α r / Σ‖e − ē‖²,  dz_aux = (dê_n·W_dec[i])·1[a_aux > 0]
 *     db_dec = Σ_n dx̂_n − Σ_i db_enc[i]·W_enc[i]
 *
 * Per-token quantities are computed in parallel over fixed chunks of tokens; the weight gradients
 * by {@link LatentGradients}. Token sums are taken per token, then added in token order in double,
 * so no result depends on the thread count. Scratch arrays are kept and grown between calls.
 */
final class SparseBackward {

    private final Workers workers;
    private final LatentPairs topPairs = new LatentPairs(), auxPairs = new LatentPairs();
    private final LatentGradients latents;
    private float[] e = new float[0], dxhat = new float[0], daux = new float[0], dzTop = new float[0], dzAux = new float[0];
    private double[] perToken = new double[0], perChunk = new double[0];

    SparseBackward(Workers workers) {
        this.workers = workers;
        this.latents = new LatentGradients(workers);
    }

    /** Same contract as {@link gsae.ops.Ops#backward(Params, Batch, Encoded, float[], float, Params, Denominators)}; uses the given x̂. */
    Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
        int n = b.n(), d = p.d();
        grow(n, d, enc);
        double denom = global != null ? global.fvu() : centredSumOfSquares(b.x(), n, d);
        if (denom == 0) throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens)");

        double sse = reconstructionPass(p, b, enc.top(), xhat, (float) (-2.0 / denom));
        double[] sumE = columnSums(e, n, d);
        topPairs.build(enc.top(), dzTop, d, p.m());

        double auxk = 0;
        auxPairs.clear(p.m());
        if (enc.aux() != null) {
            double auxDenom = global != null ? global.auxk() : centredSumOfSquares(e, n, d, mean(sumE, n));
            boolean active = auxDenom > 0 && auxAlpha != 0f;
            double auxSse = auxPass(p, enc.aux(), n, active ? (float) (2.0 * auxAlpha / auxDenom) : 0f);
            if (auxDenom > 0) auxk = auxSse / auxDenom;
            if (active) auxPairs.build(enc.aux(), dzAux, d, p.m());
        }

        double[] encoderShare = latents.compute(p, b.x(), dxhat, daux, topPairs, auxPairs, grads);
        double dxhatScale = -2.0 / denom;
        for (int j = 0; j < d; j++) grads.bDec()[j] = (float) (dxhatScale * sumE[j] - encoderShare[j]);
        double fvu = sse / denom;
        return new Losses(fvu, auxk, fvu + auxAlpha * auxk);
    }

    private void grow(int n, int d, Encoded enc) {
        if (e.length < n * d) {
            e = new float[n * d];
            dxhat = new float[n * d];
        }
        if (dzTop.length < n * enc.top().k()) dzTop = new float[n * enc.top().k()];
        if (enc.aux() != null && daux.length < n * d) daux = new float[n * d];
        if (enc.aux() != null && dzAux.length < n * enc.aux().k()) dzAux = new float[n * enc.aux().k()];
        if (perToken.length < n) perToken = new double[n];
    }

    /** e = x − x̂, dx̂ = scale·e and dz of every top pair; returns Σ‖e‖². */
    private double reconstructionPass(Params p, Batch b, Selection top, float[] xhat, float scale) {
        int n = b.n(), d = p.d();
        workers.forEach(SparseDecoder.tasks(n), t -> {
            for (int row = t * TOKENS_PER_TASK, end = Math.min(n, row + TOKENS_PER_TASK); row < end; row++) {
                int off = row * d;
                RowKernels.subtract(b.x(), off, xhat, off, e, off, d);
                perToken[row] = RowKernels.dot(e, off, e, off, d);
                RowKernels.scaleInto(scale, e, dxhat, off, d);
                gateByActivation(p, top, row, dxhat, dzTop);
            }
        });
        return sumPerToken(n);
    }

    /** r = a_aux·W_dec − e into daux, then daux = scale·r and dz of every AuxK pair; returns Σ‖r‖². */
    private double auxPass(Params p, Selection aux, int n, float scale) {
        int d = p.d();
        workers.forEach(SparseDecoder.tasks(n), t -> {
            for (int row = t * TOKENS_PER_TASK, end = Math.min(n, row + TOKENS_PER_TASK); row < end; row++) {
                int off = row * d;
                SparseDecoder.decodeRow(p.wDec(), d, aux, row, null, daux, off);
                RowKernels.subtract(daux, off, e, off, daux, off, d);
                perToken[row] = RowKernels.dot(daux, off, daux, off, d);
                RowKernels.scale(scale, daux, off, d);
                gateByActivation(p, aux, row, daux, dzAux);
            }
        });
        return sumPerToken(n);
    }

    /** dz[n, slot] = (dout_n·W_dec[i])·1[a > 0] for the slots of one token.  dout: [N, d], dz: [N, k] */
    private static void gateByActivation(Params p, Selection s, int row, float[] dout, float[] dz) {
        int d = p.d();
        for (int at = row * s.k(); at < (row + 1) * s.k(); at++)
            dz[at] = s.values()[at] > 0f ? RowKernels.dot(dout, row * d, p.wDec(), s.indices()[at] * d, d) : 0f;
    }

    private double sumPerToken(int n) {
        double total = 0;
        for (int row = 0; row < n; row++) total += perToken[row];
        return total;
    }

    /** Σ_n ‖v_n − v̄‖² over the rows of v.  v: [N, d] */
    private double centredSumOfSquares(float[] v, int n, int d) {
        return centredSumOfSquares(v, n, d, mean(columnSums(v, n, d), n));
    }

    private static double[] mean(double[] sum, int n) {
        double[] mean = sum.clone();
        for (int j = 0; j < mean.length; j++) mean[j] /= n;
        return mean;
    }

    private double centredSumOfSquares(float[] v, int n, int d, double[] mean) {
        float[] centre = new float[d];
        for (int j = 0; j < d; j++) centre[j] = (float) mean[j];
        workers.forEach(SparseDecoder.tasks(n), t -> {
            for (int row = t * TOKENS_PER_TASK, end = Math.min(n, row + TOKENS_PER_TASK); row < end; row++)
                perToken[row] = RowKernels.centredSquares(v, row * d, centre, d);
        });
        return sumPerToken(n);
    }

    /** Σ_n v_n in double: per chunk of tokens, then the chunks in order.  v: [N, d], returns [d] */
    private double[] columnSums(float[] v, int n, int d) {
        int tasks = SparseDecoder.tasks(n);
        if (perChunk.length < tasks * d) perChunk = new double[tasks * d];
        workers.forEach(tasks, t -> {
            Arrays.fill(perChunk, t * d, (t + 1) * d, 0.0);
            for (int row = t * TOKENS_PER_TASK, end = Math.min(n, row + TOKENS_PER_TASK); row < end; row++)
                for (int j = 0; j < d; j++) perChunk[t * d + j] += v[row * d + j];
        });
        double[] sum = new double[d];
        for (int t = 0; t < tasks; t++)
            for (int j = 0; j < d; j++) sum[j] += perChunk[t * d + j];
        return sum;
    }
}
