package gsae.bench;

import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Params;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inputs of the CUDA benchmarks: {@link BenchData}'s parameters and batch, plus further batches of
 * the same distribution (activations around the same per-dimension offset, which SPEC §5's
 * initialisation put in b_dec) so that successive calls read different memory: one batch's x and
 * g at N = 8192 are 50 MB, the size of an H200's L2, and the rotation is four times that, so a call
 * finds nothing of its batch left in the L2 by the previous calls. Generated once per configuration per JVM: with {@code -f 0} every trial after the
 * first of a configuration skips the generation (seconds at M = 98,304).
 *
 * @param data    the configuration, parameters and batch 0
 * @param batches {@link #ROTATION} batches, batch 0 first
 */
record CudaInputs(BenchData data, Batch[] batches) {

    /** Issue #5's reference configuration: d = 768, M = 24,576 (32×), k = 32, N = 8,192. */
    static final String REFERENCE = "768x24576x32x8192";
    /** The same at 128× expansion. */
    static final String WIDE = "768x98304x32x8192";
    /** Batches the calls cycle through. */
    static final int ROTATION = 4;

    private static final Map<String, CudaInputs> MADE = new ConcurrentHashMap<>();

    /** The inputs for {@code config} (DxMxKxN) with the SAE's β set to {@code beta}. */
    static CudaInputs of(String config, float beta) {
        CudaInputs base = MADE.computeIfAbsent(config, CudaInputs::generate);
        BenchData d = base.data;
        return new CudaInputs(new BenchData(withBeta(d.cfg(), beta), d.params(), d.batch()), base.batches);
    }

    /**
     * SPEC defaults except that no latent ever becomes dead: a benchmark runs thousands of steps on
     * random data, and AuxK switching on midway would change the work being timed.
     */
    private static SaeConfig withBeta(SaeConfig c, float beta) {
        return new SaeConfig(c.d(), c.latents(), c.k(), beta, c.auxK(), c.auxAlpha(), Long.MAX_VALUE);
    }

    private static CudaInputs generate(String config) {
        BenchData d = BenchData.of(config, 1f, 1);
        Batch[] batches = new Batch[ROTATION];
        batches[0] = d.batch();
        for (int i = 1; i < ROTATION; i++) batches[i] = batch(d.params().bDec(), d.batch().n(), 1000L + i);
        return new CudaInputs(d, batches);
    }

    /**
     * x = offset + Gaussian, g = Gaussian / √d, as {@link BenchData#of}.
     *
     * @param offset per-dimension mean of the activations   [d]
     */
    private static Batch batch(float[] offset, int n, long seed) {
        int d = offset.length;
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n * d], g = new float[n * d];
        for (int i = 0; i < n * d; i++) {
            x[i] = offset[i % d] + (float) Params.gaussian(rng);
            g[i] = (float) (Params.gaussian(rng) / Math.sqrt(d));
        }
        return new Batch(n, d, x, g);
    }

    /** Batch {@code call} of the rotation. */
    Batch batch(long call) {
        return batches[(int) (call % batches.length)];
    }
}
