package gsae.api;

/**
 * The latents an SAE keeps for each row and their activations.
 *
 * @param rows    number of rows (tokens) encoded
 * @param k       latents per row
 * @param indices latent indices, ascending within each row   [rows, k]
 * @param values  activations a = ReLU(z) at those latents     [rows, k]
 */
public record Codes(int rows, int k, int[] indices, float[] values) {

    /** Checks that both arrays hold rows × k entries. */
    public Codes {
        if (indices.length != (long) rows * k || values.length != (long) rows * k)
            throw new IllegalArgumentException("codes hold " + indices.length + " indices and " + values.length
                    + " values, expected rows × k = " + rows + " × " + k);
    }
}
