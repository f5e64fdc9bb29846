package gsae.bench;

import gsae.cuda.CudaBackend;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
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
 * One full device-resident training step ({@code CudaTrainingStep}, from
 * {@code CudaBackend.open(0)} for impl = fused or {@code openDense(0)} for impl = dense), fed the
 * way training feeds it: each call hands a host batch (float[] x and g, cycling through
 * {@link CudaInputs#ROTATION} batches) to {@code step}, which copies it into pinned staging memory
 * and sends it host→device on the stream, runs the four stages and the dead-latent counters, and
 * reads back the step's scalars, which waits for the stream. So the time per call includes the
 * host→device transfer and ends after the device is done; it excludes only reading the batch from
 * disk (gsae train measures that). Sampled per call (median is percentile 50 of the JSON);
 * warm-up not reported. No latent becomes dead (see {@link CudaInputs}), so AuxK stays off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx16g"})
public class CudaStepBench {

    /** d x M x k x N. */
    @Param({CudaInputs.REFERENCE, CudaInputs.WIDE})
    public String config;

    @Param({"1", "0"})
    public float beta;

    @Param({"fused", "dense"})
    public String impl;

    private CudaInputs inputs;
    private CudaBackend backend;
    private TrainingStep training;
    private float lr;
    private long call;

    @Setup(Level.Trial)
    public void setUp() {
        String why = CudaBackend.unavailableReason();
        if (why != null) throw new IllegalStateException("CUDA benchmarks need a usable GPU: " + why);
        inputs = CudaInputs.of(config, beta);
        backend = switch (impl) {
            case "fused" -> CudaBackend.open(0);
            case "dense" -> CudaBackend.openDense(0);
            default -> throw new IllegalArgumentException("impl must be fused or dense, got " + impl);
        };
        training = backend.open(inputs.data().cfg(), TrainState.fresh(inputs.data().params()));
        lr = inputs.data().learningRate();
        System.out.println("# device: " + backend.device() + ", backend " + backend.name());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (training != null) training.close();
        } finally {
            if (backend != null) backend.close();
        }
    }

    @Benchmark
    public StepMetrics step() {
        return training.step(inputs.batch(call++), lr);
    }
}
