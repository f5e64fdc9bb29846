package gsae.bench;

import gsae.cuda.CudaBackend;
import gsae.cuda.ResidentStages;
import gsae.ops.Losses;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Each stage of the CUDA training step on its own (SPEC §2–5), everything resident on the device:
 * a call launches the stage on one of {@link CudaInputs#ROTATION} batches in turn and returns after
 * the stream has drained, so the time per call is device time plus launch overhead, with no host
 * copies. Sampled per call (the JSON has the median as percentile 50); the warm-up iterations are
 * not reported. impl = fused runs the hand-written kernels (bf16 tensor-core encoder unless
 * {@code -Dgsae.cuda.precision=f32}), impl = dense the cuBLAS baseline; backward and update are the
 * same kernels in both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx16g"})
public class CudaStageBench {

    /** d x M x k x N. */
    @Param({CudaInputs.REFERENCE, CudaInputs.WIDE})
    public String config;

    @Param({"1", "0"})
    public float beta;

    @Param({"fused", "dense"})
    public String impl;

    private ResidentStages stages;
    private long call;

    @Setup(Level.Trial)
    public void setUp() {
        String why = CudaBackend.unavailableReason();
        if (why != null) throw new IllegalStateException("CUDA benchmarks need a usable GPU: " + why);
        CudaInputs in = CudaInputs.of(config, beta);
        BenchData d = in.data();
        stages = ResidentStages.open(impl, d.params(), in.batches(), d.cfg().k(), beta, d.cfg().auxAlpha(), d.learningRate());
        System.out.println("# device: " + stages.describe());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (stages != null) stages.close();
    }

    private int next() {
        return (int) (call++ % stages.batches());
    }

    @Benchmark
    public void encodeSelect() {
        stages.encodeSelect(next());
    }

    @Benchmark
    public void decode() {
        stages.decode(next());
    }

    @Benchmark
    public Losses backward() {
        return stages.backward(next());
    }

    /** Adam on the whole parameter set (SPEC §5); it reads no batch. */
    @Benchmark
    public void update() {
        stages.update();
    }
}
