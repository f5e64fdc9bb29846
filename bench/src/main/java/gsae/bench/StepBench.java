package gsae.bench;

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
 * One full training step (encode-select, decode, backward, update through the host training step)
 * on the same batch of N tokens, time per step; bench/run.sh turns it into tokens/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class StepBench {

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
    private TrainingStep training;

    @Setup(Level.Trial)
    public void setUp() {
        data = BenchData.of(config, beta, 1);
        training = BenchData.backend(impl, threads).open(data.cfg(), TrainState.fresh(data.params()));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        training.close();
    }

    @Benchmark
    public StepMetrics step() {
        return training.step(data.batch(), data.learningRate());
    }
}
