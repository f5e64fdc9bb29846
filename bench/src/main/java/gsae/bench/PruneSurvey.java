package gsae.bench;

import gsae.cpu.FusedEncoder;
import gsae.cpu.PruneStats;
import gsae.cpu.Workers;
import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.ops.Batch;
import gsae.ops.Params;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * How much the exact pruning of issue #14 can skip, without timing: for a fresh SAE on random data
 * (as {@link PruneBench}) and, given CHECKPOINT and SHARDS, a trained one on 2048 tokens of its data,
 * prints per β the fraction of (token, latent) pairs that survive and the sampled pass's dot products
 * against the N·M of the full projection ({@link PruneStats#workFraction}; 0 where every block went dense),
 * and how loose Cauchy–Schwarz is: max_i |g·W_dec[i]| / ‖g‖ over sampled tokens.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar gsae.bench.PruneSurvey [CHECKPOINT SHARDS]</pre>
 */
public final class PruneSurvey {

    private static final float[] BETAS = {0.1f, 0.25f, 0.5f, 1f, 4f, 16f};

    private PruneSurvey() {}

    public static void main(String[] args) {
        int n = 2048;
        BenchData random = BenchData.of("512x8192x32x" + n, 1f, 1);
        survey("random", random.params(), random.batch(), random.cfg().k());
        if (args.length == 2) {
            Checkpoint c = Checkpoint.load(Path.of(args[0]));
            int d = c.sae().d();
            try (ShardDataset source = ShardDataset.open(List.of(Path.of(args[1])), 1, false, false)) {
                float[] x = new float[n * d], g = new float[n * d];
                source.next(x, g, n);
                survey("trained", c.state().params(), c.scales().apply(x, g, n, d), c.sae().k());
            }
        }
    }

    private static void survey(String name, Params p, Batch b, int k) {
        try (Workers workers = new Workers(2)) {
            for (float beta : BETAS) {
                FusedEncoder encoder = new FusedEncoder(workers, true);
                encoder.encodeSelect(p, b, beta, k, null, 0);
                PruneStats s = encoder.lastStats();
                System.out.printf("%s beta=%s survivors=%.4f work=%.4f fullRows=%d denseRows=%d of %d%n", name, beta, s.survivorFraction(), s.workFraction(), s.fullRows(), s.denseRows(), s.rows());
            }
        }
        int d = p.d(), m = p.m(), rows = 32;
        double[] ratio = new double[rows];
        for (int t = 0; t < rows; t++) {
            int r = t * (b.n() / rows);
            double norm = 0, max = 0;
            for (int j = 0; j < d; j++) norm += (double) b.g()[r * d + j] * b.g()[r * d + j];
            for (int i = 0; i < m; i++) {
                double dot = 0;
                for (int j = 0; j < d; j++) dot += (double) b.g()[r * d + j] * p.wDec()[i * d + j];
                max = Math.max(max, Math.abs(dot));
            }
            ratio[t] = max / Math.sqrt(norm);
        }
        Arrays.sort(ratio);
        System.out.printf("%s max_i |g·W_dec[i]| / ‖g‖ over %d tokens: min %.3f median %.3f max %.3f%n", name, rows, ratio[0], ratio[rows / 2], ratio[rows - 1]);
    }
}
