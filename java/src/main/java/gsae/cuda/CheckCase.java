package gsae.cuda;

import gsae.ops.Batch;
import gsae.ops.Params;

import java.util.SplittableRandom;

/**
 * One seeded problem for comparing the CUDA backend with the reference: random parameters (W_dec
 * rows unit norm, W_enc independent so that z and s are not tied), a batch of N tokens with
 * gradients, and a dead mask with about a third of the latents dead.
 *
 * @param n    tokens
 * @param d    width
 * @param m    latents
 * @param k    latents kept per token
 * @param beta gradient weight (0: plain TopK)
 * @param auxK AuxK's k_aux before the min with the dead count
 * @param seed generator seed
 */
public record CheckCase(int n, int d, int m, int k, float beta, int auxK, long seed) {

    public CheckCase {
        if (n < 2 || d < 1 || k < 1 || m < k) throw new IllegalArgumentException("bad check case n=" + n + " d=" + d + " M=" + m + " k=" + k);
    }

    public static CheckCase of(int n, int d, int m, int k, float beta, long seed) {
        return new CheckCase(n, d, m, k, beta, Math.max(1, d / 2), seed);
    }

    /** "N=33 d=77 M=300 k=8 β=0.5". */
    public String label() {
        return "N=" + n + " d=" + d + " M=" + m + " k=" + k + " β=" + beta;
    }

    public Params params() {
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = Params.zeros(d, m);
        double scale = 1.0 / Math.sqrt(d);
        for (int i = 0; i < m * d; i++) p.wDec()[i] = (float) Params.gaussian(rng);
        p.normalizeDecoderRows();
        for (int i = 0; i < m * d; i++) p.wEnc()[i] = (float) (scale * Params.gaussian(rng));
        for (int i = 0; i < m; i++) p.bEnc()[i] = (float) (0.1 * Params.gaussian(rng));
        for (int j = 0; j < d; j++) p.bDec()[j] = (float) (0.1 * Params.gaussian(rng));
        return p;
    }

    public Batch batch() {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        float[] x = new float[n * d], g = new float[n * d];
        for (int i = 0; i < n * d; i++) {
            x[i] = (float) Params.gaussian(rng);
            g[i] = (float) Params.gaussian(rng);
        }
        return new Batch(n, d, x, g);
    }

    public boolean[] dead() {
        SplittableRandom rng = new SplittableRandom(seed + 17);
        boolean[] dead = new boolean[m];
        for (int i = 0; i < m; i++) dead[i] = rng.nextInt(3) == 0;
        return dead;
    }
}
