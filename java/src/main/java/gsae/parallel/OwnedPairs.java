package gsae.parallel;

/**
 * A global selection as one rank sees it: per token, {@code width} slots, each either a latent this
 * rank owns (its local index and activation) or {@link #ELSEWHERE}.
 *
 * @param n      tokens
 * @param width  slots per token
 * @param latent local latent index, or ELSEWHERE when another rank owns the slot's latent  [N, width]
 * @param a      activation ReLU(z) of owned slots, 0 elsewhere                              [N, width]
 */
record OwnedPairs(int n, int width, int[] latent, float[] a) {

    /** The slot's latent lives on another rank. */
    static final int ELSEWHERE = -1;

    OwnedPairs {
        if (latent.length != n * width || a.length != n * width)
            throw new IllegalArgumentException("owned pairs do not match n=" + n + ", width=" + width);
    }

    /**
     * This rank's share of a decode, x̂_n = Σ_{owned slots} a·W_dec[i] (no bias): the ranks' shares
     * summed are SPEC §2's a·W_dec.
     *
     * @param wDec the owned decoder rows [M_r, d]
     * @return [N, d]
     */
    float[] decode(float[] wDec, int d) {
        float[] out = new float[n * d];
        for (int row = 0; row < n; row++)
            for (int at = row * width; at < (row + 1) * width; at++) {
                int i = latent[at];
                if (i == ELSEWHERE || a[at] == 0f) continue;
                for (int j = 0; j < d; j++) out[row * d + j] = Math.fma(a[at], wDec[i * d + j], out[row * d + j]);
            }
        return out;
    }
}
