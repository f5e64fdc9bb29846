package gsae.train;

import gsae.data.BatchSource;

import java.util.SplittableRandom;

/**
 * A seekable test stream: token i is a sparse mix of a few fixed random directions plus noise, and
 * its gradient is a fixed linear map of x plus noise, both drawn from a generator keyed by (seed, i)
 * so that any position can be reached without replaying.
 */
public class SyntheticSource implements BatchSource {

    private final int d;
    private final long seed;
    private final float[] features; // [F, d]
    private final int count;
    private long position;

    public SyntheticSource(int d, int featureCount, long seed) {
        this.d = d;
        this.seed = seed;
        this.count = featureCount;
        this.features = new float[featureCount * d];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < features.length; i++) features[i] = (float) rng.nextGaussian();
    }

    @Override
    public int d() {
        return d;
    }

    @Override
    public void next(float[] x, float[] g, int n) { // x, g: [n, d]
        for (int r = 0; r < n; r++) token(position++, x, g, r * d);
    }

    private void token(long index, float[] x, float[] g, int at) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        for (int j = 0; j < d; j++) x[at + j] = 0.05f * (float) rng.nextGaussian();
        for (int a = 0; a < 3; a++) {
            int f = rng.nextInt(count);
            float mag = 1f + 2f * (float) rng.nextDouble();
            for (int j = 0; j < d; j++) x[at + j] += mag * features[f * d + j];
        }
        for (int j = 0; j < d; j++) g[at + j] = 0.01f * x[at + (j * 7 + 3) % d] + 0.002f * (float) rng.nextGaussian();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public void seek(long tokens) {
        position = tokens;
    }

    @Override
    public String describe() {
        return "synthetic(d=" + d + ", seed=" + seed + ")";
    }

    @Override
    public void close() {}
}
