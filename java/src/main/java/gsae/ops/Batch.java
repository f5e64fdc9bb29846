package gsae.ops;

/**
 * N tokens handed to a backend, already multiplied by the model's scales (SPEC §6).
 *
 * @param n rows
 * @param d width
 * @param x activations, act_scale applied     [N, d]
 * @param g gradients, grad_scale applied; null when no gradient exists (β then falls back to 0) [N, d]
 */
public record Batch(int n, int d, float[] x, float[] g) {
    public Batch {
        if (n < 1 || d < 1) throw new IllegalArgumentException("empty batch: n=" + n + ", d=" + d);
        if (x.length != (long) n * d) throw new IllegalArgumentException("x has " + x.length + " values, expected " + n + "×" + d);
        if (g != null && g.length != (long) n * d) throw new IllegalArgumentException("g has " + g.length + " values, expected " + n + "×" + d);
    }

    public boolean hasGradients() {
        return g != null;
    }
}
