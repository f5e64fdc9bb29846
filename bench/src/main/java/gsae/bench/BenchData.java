package gsae.bench;

import gsae.config.SaeConfig;
import gsae.cpu.CpuBackend;
import gsae.ops.Batch;
import gsae.ops.Ops;
import gsae.ops.Params;

import java.util.SplittableRandom;

/**
 * Seeded synthetic inputs for one benchmark configuration: SPEC §5's initialisation, activations
 * Gaussian around a per-dimension offset (as real activations have), gradients Gaussian. A
 * configuration is written {@code DxMxKxN} (d, latents, k, tokens per batch) because JMH splits
 * parameter values on commas.
 *
 * @param cfg    the SAE (SPEC defaults for AuxK; nothing is dead within a benchmark)
 * @param params initial parameters
 * @param batch  N tokens with gradients
 */
record BenchData(SaeConfig cfg, Params params, Batch batch) {

    /** SPEC's reference configuration: d = 512, M = 8192, k = 32, N = 2048. */
    static final String REFERENCE = "512x8192x32x2048";

    static BenchData of(String config, float beta, long seed) {
        String[] part = config.split("x");
        if (part.length != 4) throw new IllegalArgumentException("config must be DxMxKxN, got " + config);
        int d = Integer.parseInt(part[0]), m = Integer.parseInt(part[1]), k = Integer.parseInt(part[2]), n = Integer.parseInt(part[3]);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] offset = new float[d], x = new float[n * d], g = new float[n * d];
        for (int j = 0; j < d; j++) offset[j] = (float) Params.gaussian(rng);
        for (int i = 0; i < n * d; i++) {
            x[i] = offset[i % d] + (float) Params.gaussian(rng);
            g[i] = (float) (Params.gaussian(rng) / Math.sqrt(d));
        }
        return new BenchData(SaeConfig.of(d, m, k, beta), Params.init(d, m, seed, offset), new Batch(n, d, x, g));
    }

    /** The operations under test: "fused" (FastOps) or "dense" (DenseOps), on {@code threads} workers. */
    static CpuBackend backend(String impl, int threads) {
        return switch (impl) {
            case "fused" -> CpuBackend.fast(threads);
            case "dense" -> CpuBackend.dense(threads);
            default -> throw new IllegalArgumentException("impl must be fused or dense, got " + impl);
        };
    }

    static Ops ops(String impl, int threads) {
        return backend(impl, threads).ops();
    }

    float learningRate() {
        return cfg.defaultLearningRate();
    }
}
