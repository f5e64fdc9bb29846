package gsae.bench;

import gsae.config.SaeConfig;
import gsae.cpu.CpuBackend;
import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.ops.Batch;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The comparison of {@link PruneBench} for a shared, busy machine: the variants' steps are timed
 * interleaved (one step of each per round, the order rotating), so that load drifting between JMH
 * trials cannot favour one; reports per variant the median step time and the median over rounds of
 * its time relative to the β = 0 step of the same round. Variants: β = 1 pruned, unpruned; β = 0;
 * β = 0.1 pruned, unpruned. Prints one line per round ("round …") and a summary per data set.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar gsae.bench.PruneInterleaved ROUNDS [CHECKPOINT SHARDS]
 * java … gsae.bench.PruneInterleaved ROUNDS [random] [LABEL CHECKPOINT SHARDS]…</pre>
 * The second form runs the random data only when "random" is given, then each labelled checkpoint on its shards.
 */
public final class PruneInterleaved {

    private static final String[] NAMES = {"b1-pruned", "b1-unpruned", "b0", "b0.1-pruned", "b0.1-unpruned"};
    private static final float[] BETAS = {1f, 1f, 0f, 0.1f, 0.1f};
    private static final boolean[] PRUNE = {true, false, true, true, false};

    private PruneInterleaved() {}

    public static void main(String[] args) {
        int rounds = Integer.parseInt(args[0]), n = 2048;
        BenchData random = BenchData.of("512x8192x32x" + n, 1f, 1);
        if (args.length == 1 || args[1].equals("random")) run("random", random.cfg(), TrainState.fresh(random.params()), random.batch(), rounds);
        if (args.length == 3) args = new String[] {args[0], "trained", args[1], args[2]}; // the first form
        for (int a = args.length % 3 == 1 ? 1 : 2; a + 2 < args.length; a += 3) {
            Checkpoint c = Checkpoint.load(Path.of(args[a + 1]));
            int d = c.sae().d();
            try (ShardDataset source = ShardDataset.open(List.of(Path.of(args[a + 2])), 1, false, false)) {
                float[] x = new float[n * d], g = new float[n * d];
                source.next(x, g, n);
                run(args[a], c.sae(), c.state(), c.scales().apply(x, g, n, d), rounds);
            }
        }
    }

    private static void run(String data, SaeConfig cfg, TrainState state, Batch batch, int rounds) {
        int v = NAMES.length;
        List<CpuBackend> backends = new ArrayList<>();
        List<TrainingStep> steps = new ArrayList<>();
        for (int i = 0; i < v; i++) {
            backends.add(CpuBackend.fast(2, PRUNE[i]));
            steps.add(backends.get(i).open(cfg.withBeta(BETAS[i]), state.copy()));
        }
        float lr = cfg.defaultLearningRate();
        for (int w = 0; w < 3; w++) for (TrainingStep s : steps) s.step(batch, lr);
        double[][] ms = new double[v][rounds];
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + data + " " + r);
            for (int j = 0; j < v; j++) {
                int i = (j + r) % v;
                long t0 = System.nanoTime();
                steps.get(i).step(batch, lr);
                ms[i][r] = (System.nanoTime() - t0) / 1e6;
            }
            for (int i = 0; i < v; i++) line.append(String.format(" %s=%.1f", NAMES[i], ms[i][r]));
            System.out.println(line);
        }
        for (int i = 0; i < v; i++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = ms[i][r] / ms[2][r];
            System.out.printf("summary %s %s: median %.1f ms, %.0f tokens/s; median time ÷ β=0 time of the same round %.3f%n",
                    data, NAMES[i], median(ms[i]), batch.n() / (median(ms[i]) / 1e3), median(ratio));
        }
        steps.forEach(TrainingStep::close);
        backends.forEach(CpuBackend::close);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
