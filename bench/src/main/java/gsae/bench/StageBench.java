package gsae.bench;

import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Each stage of one training step on its own (SPEC §2–5), time per call on a batch of N tokens;
 * bench/run.sh turns it into tokens/s. Inputs of the later stages come from running the earlier
 * ones once at setup, so every stage sees the selection its own implementation makes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class StageBench {

    /** d x M x k x N. */
    @Param({BenchData.REFERENCE, "768x24576x32x2048"})
    public String config;

    @Param({"1", "0"})
    public float beta;

    @Param({"fused", "dense"})
    public String impl;

    @Param({"2"})
    public int threads;

    private BenchData data;
    private Ops ops;
    private Encoded enc;
    private float[] xhat;
    private Params grads, updated, updateGrads, m, v;
    private long t;

    @Setup(Level.Trial)
    public void setUp() {
        data = BenchData.of(config, beta, 1);
        ops = BenchData.ops(impl, threads);
        Params p = data.params();
        enc = ops.encodeSelect(p, data.batch(), beta, data.cfg().k(), null, data.cfg().auxK());
        xhat = ops.decode(p, enc.top(), true);
        grads = Params.zeros(p.d(), p.m());
        ops.backward(p, data.batch(), enc, xhat, data.cfg().auxAlpha(), grads);
        updated = p.copy();
        updateGrads = grads.copy();
        m = Params.zeros(p.d(), p.m());
        v = Params.zeros(p.d(), p.m());
    }

    @Benchmark
    public Encoded encodeSelect() {
        return ops.encodeSelect(data.params(), data.batch(), beta, data.cfg().k(), null, data.cfg().auxK());
    }

    @Benchmark
    public float[] decode() {
        return ops.decode(data.params(), enc.top(), true);
    }

    @Benchmark
    public Losses backward() {
        return ops.backward(data.params(), data.batch(), enc, xhat, data.cfg().auxAlpha(), grads);
    }

    /** Adam on the whole parameter set; the gradients stay fixed (their projection is idempotent). */
    @Benchmark
    public Params update() {
        ops.update(updated, updateGrads, m, v, data.learningRate(), ++t);
        return updated;
    }
}
