package gsae.parallel;

import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Selection;

/**
 * The selection score of SPEC §2 at selected latents only, for ranking one rank's candidates
 * against the other ranks' (the stages report activations, not scores):
 *
 *     z = (x_n − b_dec)·W_enc[i] + b_enc[i],  s = |g_n·W_dec[i]|,  score = z + β·z·s
 *
 * in double, rounded once to float. O(N·k·d): the same order as the sparse backward.
 */
public final class CandidateScores {

    private CandidateScores() {}

    /** score[n, slot] for the latents of {@code s} (local indices of {@code p}).  returns [N, k] */
    public static float[] of(Params p, Batch b, float beta, Selection s) {
        int d = p.d(), k = s.k();
        float[] out = new float[s.n() * k];
        for (int row = 0; row < s.n(); row++) {
            for (int slot = 0; slot < k; slot++) {
                int i = s.indices()[row * k + slot];
                double z = p.bEnc()[i], proj = 0;
                for (int j = 0; j < d; j++) z += ((double) b.x()[row * d + j] - p.bDec()[j]) * p.wEnc()[i * d + j];
                if (beta != 0f)
                    for (int j = 0; j < d; j++) proj += (double) b.g()[row * d + j] * p.wDec()[i * d + j];
                out[row * k + slot] = (float) (z + beta * z * Math.abs(proj));
            }
        }
        return out;
    }
}
