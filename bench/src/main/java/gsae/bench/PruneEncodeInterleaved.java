package gsae.bench;

import gsae.cpu.FusedEncoder;
import gsae.cpu.PruneStats;
import gsae.cpu.Workers;
import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.ops.Batch;
import gsae.ops.Params;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The encode-select stage alone, interleaved as {@link PruneInterleaved} times whole steps: per
 * round one call of each variant (order rotating) on THREADS workers, the same parameters and batch
 * throughout (no training, so the pruned calls see the same data every time). Variants: β = 0;
 * β = 1 unpruned and pruned; β = 0.25 unpruned and pruned. Prints each round, then per variant the median
 * time and the median over rounds of its time ÷ the β = 0 call's, and the pruned calls' {@link PruneStats}.
 * With THREADS = 1 the calls run on the main thread and the same figures are also given in that thread's
 * CPU time, which time slices lost to other processes on a shared machine do not inflate.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar gsae.bench.PruneEncodeInterleaved ROUNDS THREADS [random] [LABEL CHECKPOINT SHARDS]…</pre>
 */
public final class PruneEncodeInterleaved {

    private static final String[] NAMES = {"b0", "b1-unpruned", "b1-pruned", "b0.25-unpruned", "b0.25-pruned"};
    private static final float[] BETAS = {0f, 1f, 1f, 0.25f, 0.25f};
    private static final boolean[] PRUNE = {false, false, true, false, true};

    private PruneEncodeInterleaved() {}

    public static void main(String[] args) {
        int rounds = Integer.parseInt(args[0]), threads = Integer.parseInt(args[1]), n = 2048;
        int a = 2;
        if (args.length > 2 && args[2].equals("random")) {
            BenchData random = BenchData.of(BenchData.REFERENCE, 1f, 1);
            run("random", random.params(), random.batch(), random.cfg().k(), rounds, threads);
            a = 3;
        }
        for (; a + 2 < args.length; a += 3) {
            Checkpoint c = Checkpoint.load(Path.of(args[a + 1]));
            int d = c.sae().d();
            try (ShardDataset source = ShardDataset.open(List.of(Path.of(args[a + 2])), 1, false, false)) {
                float[] x = new float[n * d], g = new float[n * d];
                source.next(x, g, n);
                run(args[a], c.state().params(), c.scales().apply(x, g, n, d), c.sae().k(), rounds, threads);
            }
        }
    }

    private static void run(String data, Params p, Batch b, int k, int rounds, int threads) {
        int v = NAMES.length;
        try (Workers workers = new Workers(threads)) {
            FusedEncoder[] encoders = new FusedEncoder[v];
            for (int i = 0; i < v; i++) encoders[i] = new FusedEncoder(workers, PRUNE[i]);
            for (int w = 0; w < 3; w++) for (int i = 0; i < v; i++) encoders[i].encodeSelect(p, b, BETAS[i], k, null, 0);
            double[][] ms = new double[v][rounds], cpu = new double[v][rounds];
            ThreadMXBean bean = ManagementFactory.getThreadMXBean();
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder("round " + data + " " + r);
                for (int j = 0; j < v; j++) {
                    int i = (j + r) % v;
                    long t0 = System.nanoTime(), c0 = bean.getCurrentThreadCpuTime();
                    encoders[i].encodeSelect(p, b, BETAS[i], k, null, 0);
                    ms[i][r] = (System.nanoTime() - t0) / 1e6;
                    cpu[i][r] = (bean.getCurrentThreadCpuTime() - c0) / 1e6;
                }
                for (int i = 0; i < v; i++) line.append(String.format(" %s=%.1f", NAMES[i], ms[i][r]));
                if (threads == 1) for (int i = 0; i < v; i++) line.append(String.format(" cpu:%s=%.1f", NAMES[i], cpu[i][r]));
                System.out.println(line);
            }
            for (int i = 0; i < v; i++) {
                double[] ratio = new double[rounds], cpuRatio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratio[r] = ms[i][r] / ms[0][r];
                    cpuRatio[r] = cpu[i][r] / cpu[0][r];
                }
                PruneStats s = encoders[i].lastStats();
                System.out.printf("summary %s %s: median %.1f ms; median time ÷ β=0 time of the same round %.3f%s%s%n", data, NAMES[i],
                        median(ms[i]), median(ratio), threads != 1 ? "" : String.format("; CPU time: median %.1f ms, ratio %.3f", median(cpu[i]), median(cpuRatio)),
                        s == null ? "" : String.format(
                                " (survivors %.4f, work %.4f, exact %.4f, full rows %d, dense rows %d of %d)",
                                s.survivorFraction(), s.workFraction(), s.exact() / ((double) s.rows() * s.latents()), s.fullRows(), s.denseRows(), s.rows()));
            }
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
