package gsae.parallel;

import gsae.ops.Selection;

/**
 * A global selection as one rank sees it: per token, {@code width} slots, each either a latent this
 * rank owns (its local index and activation) or {@link #ELSEWHERE}.
 *
 * @param n      tokens
 * @param width  slots per token
 * @param latent local latent index, or ELSEWHERE when another rank owns the slot's latent  [N, width]
 * @param a      activation ReLU(z) of owned slots, 0 elsewhere                              [N, width]
 */
public record OwnedPairs(int n, int width, int[] latent, float[] a) {

    /** The slot's latent lives on another rank. */
    public static final int ELSEWHERE = -1;

    public OwnedPairs {
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

    /**
     * The slots as a selection of local latents for kernels that take each latent at most once per
     * token (the CUDA backend's decode and backward): owned slots as they are, every other slot a
     * local latent the token's owned slots do not use, with a = 0, which adds nothing to a decode or
     * a gradient. Needs at least {@code width} latents on this rank.
     */
    public Selection padded(int latents) {
        if (latents < width) throw new IllegalArgumentException(latents + " latents cannot fill " + width + " distinct slots per token");
        int[] idx = latent.clone();
        float[] val = a.clone();
        boolean[] used = new boolean[latents];
        for (int row = 0; row < n; row++) {
            int from = row * width, to = from + width, spare = 0;
            for (int at = from; at < to; at++) if (idx[at] != ELSEWHERE) used[idx[at]] = true;
            for (int at = from; at < to; at++) {
                if (idx[at] != ELSEWHERE) continue;
                while (used[spare]) spare++;
                idx[at] = spare++;
            }
            for (int at = from; at < to; at++) used[idx[at]] = false;
            for (int at = from + 1; at < to; at++) // ascending within the token, as a Selection is
                for (int q = at; q > from && idx[q - 1] > idx[q]; q--) {
                    int i = idx[q];
                    idx[q] = idx[q - 1];
                    idx[q - 1] = i;
                    float v = val[q];
                    val[q] = val[q - 1];
                    val[q - 1] = v;
                }
        }
        return new Selection(n, width, idx, val);
    }

    /** The owned slots alone, one pair per row of the result (local latent, a): the latents that fired on this rank. */
    public Selection owned() {
        int count = 0;
        for (int i : latent) if (i != ELSEWHERE) count++;
        int[] idx = new int[count];
        float[] val = new float[count];
        for (int at = 0, q = 0; at < latent.length; at++)
            if (latent[at] != ELSEWHERE) {
                idx[q] = latent[at];
                val[q++] = a[at];
            }
        return new Selection(count, 1, idx, val);
    }
}
