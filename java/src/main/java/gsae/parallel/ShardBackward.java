package gsae.parallel;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Losses;
import gsae.ops.Params;

import java.util.Arrays;

/**
 * SPEC §3–4 for the latents one rank owns, given the global reconstructions (the ranks' decodes
 * summed). Every rank holds the whole batch, so the losses and their denominators come out the
 * same everywhere; the weight gradients are those of the owned pairs:
 *
 *     e = x − x̂,  dx̂ = −2e / Σ‖x − x̄‖²                            (x̂ global, bias included)
 *     AuxK: r = ê − e,  dê = 2α r / Σ‖e − ē‖²                      (ê global)
 *     dW_dec[i] += a·dout_n,  dz = (dout_n·W_dec[i])·1[a > 0],  dW_enc[i] += dz·(x_n − b_dec),  db_enc[i] += dz
 *
 * with dout = dx̂ for top pairs and dê for AuxK pairs. db_dec = Σ_n dx̂_n − Σ_i db_enc[i]·W_enc[i]
 * needs the second sum over every rank's latents: this returns both parts, and the caller
 * all-reduces the encoder share. O(N·k·d) per rank; sums over tokens in double.
 */
final class ShardBackward {

    /**
     * @param losses       FVU, AuxK and the loss, the same on every rank
     * @param dxhatSum     Σ_n dx̂_n, the same on every rank         [d]
     * @param encoderShare Σ_{owned i} db_enc[i]·W_enc[i]             [d]
     */
    record Result(Losses losses, double[] dxhatSum, double[] encoderShare) {}

    private ShardBackward() {}

    /**
     * Writes the owned latents' gradients into {@code grads} (W_enc, b_enc, W_dec; b_dec untouched).
     *
     * @param xhat global reconstruction with b_dec   [N, d]
     * @param ehat global AuxK reconstruction, no bias, or null when no latent is dead  [N, d]
     * @param aux  AuxK's pairs, null exactly when ehat is
     */
    static Result run(Params p, Batch b, float[] xhat, OwnedPairs top, float[] ehat, OwnedPairs aux, float auxAlpha, Params grads) {
        int n = b.n(), d = p.d();
        double denom = Denominators.centredSumOfSquares(b.x(), n, d);
        if (denom == 0) throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens)");
        float[] e = new float[n * d], dxhat = new float[n * d];
        double sse = 0;
        double[] dxhatSum = new double[d];
        for (int i = 0; i < e.length; i++) {
            e[i] = b.x()[i] - xhat[i];
            sse += (double) e[i] * e[i];
            dxhat[i] = (float) (-2.0 * e[i] / denom);
            dxhatSum[i % d] += dxhat[i];
        }
        Arrays.fill(grads.wEnc(), 0f);
        Arrays.fill(grads.wDec(), 0f);
        double[] bEnc = new double[p.m()], share = new double[d];
        addPairs(p, b, top, dxhat, grads, bEnc, share);

        double auxk = 0;
        if (aux != null) {
            double auxDenom = Denominators.centredSumOfSquares(e, n, d);
            float[] r = new float[n * d];
            double auxSse = 0;
            for (int i = 0; i < r.length; i++) {
                r[i] = ehat[i] - e[i];
                auxSse += (double) r[i] * r[i];
            }
            if (auxDenom > 0) {
                auxk = auxSse / auxDenom;
                for (int i = 0; i < r.length; i++) r[i] = (float) (2.0 * auxAlpha * r[i] / auxDenom);
                if (auxAlpha != 0f) addPairs(p, b, aux, r, grads, bEnc, share);
            }
        }
        for (int i = 0; i < bEnc.length; i++) grads.bEnc()[i] = (float) bEnc[i];
        double fvu = sse / denom;
        return new Result(new Losses(fvu, auxk, fvu + auxAlpha * auxk), dxhatSum, share);
    }

    /** The terms of every owned pair whose output gradient is dout [N, d]. */
    private static void addPairs(Params p, Batch b, OwnedPairs s, float[] dout, Params grads, double[] bEnc, double[] share) {
        int d = p.d();
        float[] gDec = grads.wDec(), gEnc = grads.wEnc();
        for (int row = 0; row < s.n(); row++) {
            int x = row * d;
            for (int at = row * s.width(); at < (row + 1) * s.width(); at++) {
                int i = s.latent()[at];
                float a = s.a()[at];
                if (i == OwnedPairs.ELSEWHERE || a == 0f) continue; // a = ReLU(z) = 0: no term at all
                int w = i * d;
                double da = 0;
                for (int j = 0; j < d; j++) {
                    gDec[w + j] = Math.fma(a, dout[x + j], gDec[w + j]);
                    da += (double) dout[x + j] * p.wDec()[w + j];
                }
                if (da == 0) continue;
                float dz = (float) da;
                bEnc[i] += da;
                for (int j = 0; j < d; j++) {
                    gEnc[w + j] = Math.fma(dz, b.x()[x + j] - p.bDec()[j], gEnc[w + j]);
                    share[j] += da * p.wEnc()[w + j];
                }
            }
        }
    }
}
