package gsae.ops;

import gsae.config.Sizes;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Four float32 row-major arrays shaped like the SAE's parameters (SPEC §1). The same record holds
 * parameters, their gradients and Adam's moments.
 *
 * @param d    input width
 * @param m    number of latents M
 * @param wEnc encoder rows                                  [M, d]
 * @param bEnc encoder bias                                  [M]
 * @param wDec decoder rows, unit norm when these are weights [M, d]
 * @param bDec decoder bias, also subtracted from the input   [d]
 */
public record Params(int d, int m, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec) {

    public Params {
        if (wEnc.length != (long) m * d || wDec.length != (long) m * d || bEnc.length != m || bDec.length != d)
            throw new IllegalArgumentException("parameter shapes do not match d=" + d + ", M=" + m);
    }

    /** Zero arrays of this shape; M·d beyond one Java array is a UserError naming the latents (see {@link Sizes#hostState}). */
    public static Params zeros(int d, int m) {
        int md = Sizes.hostState("latents", m, d);
        return new Params(d, m, new float[md], new float[m], new float[md], new float[d]);
    }

    /**
     * SPEC §5 initialisation: W_dec rows random unit vectors (Gaussian, normalised) from the seed's
     * counter-based generator ({@link InitRandom}, which the CUDA backend draws on the device bit for
     * bit alike), W_enc = W_dec, b_enc = 0, b_dec = the given mean of the first batch.
     */
    public static Params init(int d, int m, long seed, float[] firstBatchMean) {
        return init(d, LatentShard.whole(m), seed, firstBatchMean);
    }

    /**
     * The latents of {@code shard} of {@link #init(int, int, long, float[])}'s SAE, b_dec whole:
     * only their rows are drawn, bit for bit those of the whole draw (see {@link TrainState#slice}).
     */
    public static Params init(int d, LatentShard shard, long seed, float[] firstBatchMean) {
        if (firstBatchMean.length != d) throw new IllegalArgumentException("the first batch's mean must have d=" + d + " entries");
        Params p = zeros(d, shard.count());
        for (int i = 0; i < p.m; i++) InitRandom.decoderRow(seed, d, shard.first() + i, p.wDec, i * d);
        System.arraycopy(p.wDec, 0, p.wEnc, 0, p.wDec.length);
        System.arraycopy(firstBatchMean, 0, p.bDec, 0, d);
        return p;
    }

    /** Box–Muller on a SplittableRandom, so that every JDK draws the same numbers (test data, the teacher). */
    public static double gaussian(SplittableRandom rng) {
        double u = 1.0 - rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    /** Scales each row of W_dec to unit L2 norm (rows of norm 0 are left alone). */
    public void normalizeDecoderRows() {
        for (int i = 0; i < m; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) wDec[i * d + j] * wDec[i * d + j];
            if (ss == 0) continue;
            float inv = (float) (1.0 / Math.sqrt(ss));
            for (int j = 0; j < d; j++) wDec[i * d + j] *= inv;
        }
    }

    /** Latents [first, end) of these arrays (rows of W_enc and W_dec, entries of b_enc) with b_dec whole: copies, one rank's share when latents are sharded. */
    public Params rows(int first, int end) {
        if (first < 0 || end > m || first > end) throw new IllegalArgumentException("latents " + first + ".." + end + " are not within 0.." + m);
        return new Params(d, end - first, Arrays.copyOfRange(wEnc, first * d, end * d), Arrays.copyOfRange(bEnc, first, end),
                Arrays.copyOfRange(wDec, first * d, end * d), bDec.clone());
    }

    public Params copy() {
        return new Params(d, m, wEnc.clone(), bEnc.clone(), wDec.clone(), bDec.clone());
    }

    public void fill(float value) {
        Arrays.fill(wEnc, value);
        Arrays.fill(bEnc, value);
        Arrays.fill(wDec, value);
        Arrays.fill(bDec, value);
    }
}
