package gsae.bench;

import gsae.cpu.DenseOps;
import gsae.cpu.FusedEncoder;
import gsae.cpu.Workers;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The fused encode-select (SPEC §2) at a training shape, against the dense baseline. GFLOP/s counts the useful products only:
 * 2·n·m·d for β = 0 and 4·n·m·d for β ≠ 0 (the g·W_decᵀ pass), divided by ms · 1e6.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class EncodeBench {

    @Param("2048") public int n;
    @Param("512") public int d;
    @Param("8192") public int m;
    @Param("32") public int k;
    @Param({"0", "1"}) public float beta;
    @Param("2") public int threads;

    private Workers workers;
    private FusedEncoder encoder;
    private DenseOps dense;
    private Params params;
    private Batch batch;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom rng = new SplittableRandom(1);
        float[] mean = new float[d];
        params = Params.init(d, m, 2, mean);
        float[] x = new float[n * d], g = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) Params.gaussian(rng);
        for (int i = 0; i < g.length; i++) g[i] = (float) Params.gaussian(rng);
        batch = new Batch(n, d, x, g);
        workers = new Workers(threads);
        encoder = new FusedEncoder(workers);
        dense = new DenseOps(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        workers.close();
    }

    @Benchmark
    public Encoded encodeSelect() {
        return encoder.encodeSelect(params, batch, beta, k, null, 0);
    }

    /** The dense baseline: z and s materialised as [n, m], then a full-row top-k. */
    @Benchmark
    public Encoded denseEncodeSelect() {
        return dense.encodeSelect(params, batch, beta, k, null, 0);
    }
}
