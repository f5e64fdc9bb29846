package gsae.ops;

/**
 * The latents kept for each token and their activations, each row in ascending latent order.
 *
 * @param n       rows (tokens)
 * @param k       latents per row
 * @param indices latent indices, ascending within a row  [N, k]
 * @param values  a = ReLU(z) at those latents             [N, k]
 */
public record Selection(int n, int k, int[] indices, float[] values) {
    public Selection {
        if (indices.length != (long) n * k || values.length != (long) n * k)
            throw new IllegalArgumentException("selection arrays do not match n=" + n + ", k=" + k);
    }

    public static Selection empty(int n, int k) {
        return new Selection(n, k, new int[n * k], new float[n * k]);
    }
}
