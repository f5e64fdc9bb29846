package gsae.bench;

import gsae.config.SaeConfig;
import gsae.cpu.CpuBackend;
import gsae.cpu.FastOps;
import gsae.cpu.PruneStats;
import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.ops.Batch;
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

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The full fused training step at the reference configuration with the exact pruning of issue #14
 * ("pruned", at β = {@link #beta}), without it ("unpruned", same β) and at β = 0 ("beta0"), side by side, on a fresh SAE with
 * random data ("random", as {@link StepBench}) or on a trained checkpoint with N tokens of its shards
 * ("trained": -p checkpoint=DIR -p shards=PATH, gradients scaled by the checkpoint's grad_scale as the
 * trainer does, dead-latent counters as saved, so AuxK runs as it would in training). At teardown it
 * prints the pruning statistics of the last step ("prune-stats …").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class PruneBench {

    /** "random", or "trained" with checkpoint and shards given (-p data=random,trained -p checkpoint=… -p shards=…). */
    @Param({"random"})
    public String data;

    @Param({"pruned", "unpruned", "beta0"})
    public String variant;

    /** Folder of a `gsae train` run (its checkpoint), for data=trained. */
    @Param({""})
    public String checkpoint;

    /** Shard file or folder the checkpoint was trained on, for data=trained. */
    @Param({""})
    public String shards;

    /** β of the pruned and unpruned variants. */
    @Param({"1"})
    public float beta;

    @Param({"2048"})
    public int tokens;

    @Param({"2"})
    public int threads;

    private CpuBackend backend;
    private TrainingStep training;
    private Batch batch;
    private float lr;

    @Setup(Level.Trial)
    public void setUp() {
        float beta = variant.equals("beta0") ? 0f : this.beta;
        SaeConfig cfg;
        TrainState state;
        if (data.equals("random")) {
            BenchData b = BenchData.of("512x8192x32x" + tokens, beta, 1);
            cfg = b.cfg();
            state = TrainState.fresh(b.params());
            batch = b.batch();
        } else if (data.equals("trained")) {
            if (checkpoint.isEmpty() || shards.isEmpty()) throw new IllegalArgumentException("data=trained needs -p checkpoint=DIR -p shards=PATH");
            Checkpoint c = Checkpoint.load(Path.of(checkpoint));
            cfg = c.sae().withBeta(beta);
            state = c.state().copy();
            try (ShardDataset source = ShardDataset.open(List.of(Path.of(shards)), 1, false, false)) {
                float[] x = new float[tokens * cfg.d()], g = new float[tokens * cfg.d()];
                source.next(x, g, tokens);
                batch = c.scales().apply(x, g, tokens, cfg.d());
            }
        } else {
            throw new IllegalArgumentException("data must be random or trained, got " + data);
        }
        if (!List.of("pruned", "unpruned", "beta0").contains(variant)) throw new IllegalArgumentException("variant must be pruned, unpruned or beta0, got " + variant);
        lr = cfg.defaultLearningRate();
        backend = CpuBackend.fast(threads, !variant.equals("unpruned"));
        training = backend.open(cfg, state);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        PruneStats s = ((FastOps) backend.ops()).lastPruneStats();
        if (s != null)
            System.out.printf("prune-stats data=%s beta=%s survivors=%.4f work=%.4f exact=%.4f fullRows=%d denseRows=%d of %d%n", data, beta, s.survivorFraction(), s.workFraction(), s.exact() / ((double) s.rows() * s.latents()), s.fullRows(), s.denseRows(), s.rows());
        training.close();
        backend.close();
    }

    @Benchmark
    public StepMetrics step() {
        return training.step(batch, lr);
    }
}
