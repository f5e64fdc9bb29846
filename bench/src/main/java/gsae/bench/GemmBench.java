package gsae.bench;

import gsae.cpu.Gemm;
import gsae.cpu.Workers;
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
 * The micro-kernel as a plain product C = A·Bᵀ, A [n, d], B [m, d] (the encoder's shape).
 * GFLOP/s = 2·n·m·d / (ms · 1e6), packing included.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GemmBench {

    @Param("2048") public int n;
    @Param("512") public int d;
    @Param("8192") public int m;
    @Param("2") public int threads;

    private Workers workers;
    private float[] a, b;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom rng = new SplittableRandom(1);
        a = new float[n * d];
        b = new float[m * d];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextDouble() - 0.5);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rng.nextDouble() - 0.5);
        workers = new Workers(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        workers.close();
    }

    @Benchmark
    public float[] abt() {
        return Gemm.abt(workers, a, b, n, m, d);
    }
}
