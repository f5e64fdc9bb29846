package gsae.bench;

import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.ops.Batch;
import gsae.ops.Params;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Issue #14, lever survey: how many (token, latent) pairs survive the Cauchy–Schwarz bound of
 * {@code ScoreBound} against a subspace bound, in exact (double) arithmetic without rounding margins,
 * no timing. With Q (r × d, orthonormal rows: the top r eigenvectors of the batch's Σ g gᵀ, by
 * subspace iteration), u = Qg, c = Qw, ρ = ‖g − Qᵀu‖, σ = ‖w − Qᵀc‖:
 * |u·c| − ρσ ≤ |g·w| ≤ |u·c| + ρσ. The upper end bounds the score as ‖g‖·n does; the lower end
 * raises the row's threshold from τ (k-th largest z) to the k-th largest z(1 + β·max(0, |u·c| − ρσ)).
 * r = 0 is the shipped bound. Per β and r it prints the surviving pairs and the (token, 16-latent
 * vector) pairs holding one (the work of a sampled product in vectors), over every 8th token of a
 * 2,048-token batch, and the share of ‖g‖² that Q captures; and that work again with the latents
 * regrouped ({@link #group}) by their survivors on the tokens in between (work16grouped).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar gsae.bench.PruneBoundSurvey [LABEL CHECKPOINT SHARDS]…</pre>
 */
public final class PruneBoundSurvey {

    private static final float[] BETAS = {0.25f, 0.5f, 1f, 4f};
    private static final int[] RANKS = {0, 8, 16, 32, 64};
    private static final int N = 2048, STRIDE = 4, LANES = 16;

    private PruneBoundSurvey() {}

    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("random")) {
            BenchData random = BenchData.of(BenchData.REFERENCE, 1f, 1);
            survey("random", random.params(), random.batch(), random.cfg().k());
        }
        for (int a = args.length % 3 == 0 ? 0 : 1; a + 2 < args.length; a += 3) {
            Checkpoint c = Checkpoint.load(Path.of(args[a + 1]));
            int d = c.sae().d();
            try (ShardDataset source = ShardDataset.open(List.of(Path.of(args[a + 2])), 1, false, false)) {
                float[] x = new float[N * d], g = new float[N * d];
                source.next(x, g, N);
                survey(args[a], c.state().params(), c.scales().apply(x, g, N, d), c.sae().k());
            }
        }
    }

    private static void survey(String name, Params p, Batch b, int k) {
        int d = p.d(), m = p.m(), rows = b.n() / STRIDE;
        double[][] z = new double[rows][m], s = new double[rows][m];
        double[] gNorm = new double[rows], wNorm = new double[m];
        for (int i = 0; i < m; i++) wNorm[i] = Math.sqrt(dot(p.wDec(), i * d, p.wDec(), i * d, d));
        float[] xc = new float[d];
        for (int t = 0; t < rows; t++) {
            int r = t * STRIDE;
            for (int j = 0; j < d; j++) xc[j] = b.x()[r * d + j] - p.bDec()[j];
            gNorm[t] = Math.sqrt(dot(b.g(), r * d, b.g(), r * d, d));
            for (int i = 0; i < m; i++) {
                z[t][i] = dot(xc, 0, p.wEnc(), i * d, d) + p.bEnc()[i];
                s[t][i] = Math.abs(dot(b.g(), r * d, p.wDec(), i * d, d));
            }
        }
        double[] tau = new double[rows];
        for (int t = 0; t < rows; t++) tau[t] = kthLargest(z[t].clone(), k);
        double[][] gram = gram(b.g(), b.n(), d);
        for (int rank : RANKS) {
            for (int iters : rank == 0 ? new int[] {0} : new int[] {3, 40}) {
                double[][] q = rank == 0 ? new double[0][d] : topEigen(gram, d, rank, iters);
                double[][] u = new double[rows][], c = new double[m][];
                double[] rho = new double[rows], sigma = new double[m];
                double energy = 0;
                for (int t = 0; t < rows; t++) {
                    u[t] = project(q, b.g(), t * STRIDE * d, d);
                    rho[t] = rank == 0 ? gNorm[t] : residual(q, u[t], b.g(), t * STRIDE * d, d);
                    energy += gNorm[t] == 0 ? 1 : dot(u[t], u[t]) / (gNorm[t] * gNorm[t]);
                }
                for (int i = 0; i < m; i++) {
                    c[i] = project(q, p.wDec(), i * d, d);
                    sigma[i] = rank == 0 ? wNorm[i] : residual(q, c[i], p.wDec(), i * d, d);
                }
                for (float beta : BETAS) {
                    long pairs = 0, vectors = 0, fullRows = 0, violations = 0;
                    boolean[][] survive = new boolean[rows][];
                    for (int t = 0; t < rows; t++) {
                        double[] lowScore = new double[m];
                        double[] hi = new double[m];
                        for (int i = 0; i < m; i++) {
                            double uc = Math.abs(dot(u[t], c[i]));
                            hi[i] = uc + rho[t] * sigma[i];
                            double lo = Math.max(0, uc - rho[t] * sigma[i]);
                            if (s[t][i] > hi[i] * (1 + 1e-9) || s[t][i] < lo * (1 - 1e-9)) violations++;
                            lowScore[i] = z[t][i] > 0 ? z[t][i] * (1 + beta * lo) : z[t][i];
                        }
                        double threshold = kthLargest(lowScore, k);
                        survive[t] = new boolean[m];
                        boolean full = !(tau[t] > 0) || beta * gNorm[t] * max(wNorm) > 8;
                        for (int i = 0; i < m; i++) survive[t][i] = full || z[t][i] > 0 && z[t][i] * (1 + beta * hi[i]) >= threshold;
                        if (t % 2 == 1) continue;
                        if (full) fullRows++;
                        for (int v = 0; v * LANES < m; v++) {
                            boolean any = false;
                            for (int i = v * LANES; i < Math.min(m, (v + 1) * LANES); i++) {
                                if (survive[t][i]) {
                                    pairs++;
                                    any = true;
                                }
                            }
                            if (any) vectors++;
                        }
                    }
                    int[] order = group(survive, m);
                    long grouped = 0;
                    for (int t = 0; t < rows; t += 2) {
                        for (int v = 0; v * LANES < m; v++) {
                            boolean any = false;
                            for (int i = v * LANES; i < Math.min(m, (v + 1) * LANES); i++) any |= survive[t][order[i]];
                            if (any) grouped++;
                        }
                    }
                    int eval = rows / 2, vecs = (m + LANES - 1) / LANES;
                    System.out.printf("%s beta=%s rank=%d iters=%d survivors=%.4f work16=%.4f work16grouped=%.4f fullRows=%d/%d energy=%.3f violations=%d%n",
                            name, beta, rank, iters, pairs / (double) eval / m, vectors / (double) eval / vecs, grouped / (double) eval / vecs,
                            fullRows, eval, energy / rows, violations);
                }
            }
        }
        double[] ratio = new double[rows];
        for (int t = 0; t < rows; t++) ratio[t] = max(s[t]) / gNorm[t];
        Arrays.sort(ratio);
        System.out.printf("%s max_i |g·W_dec[i]| / ‖g‖ over %d tokens: min %.3f median %.3f max %.3f; floor k/M = %.4f%n",
                name, rows, ratio[0], ratio[rows / 2], ratio[rows - 1], k / (double) m);
    }

    /**
     * A latent order in groups of LANES that share survivors: greedily, from the latent surviving in
     * most learning rows (the odd ones), each group adds the latent that widens the group's set of
     * rows least. Learned on the odd rows, judged on the even ones.
     */
    private static int[] group(boolean[][] survive, int m) {
        int words = (survive.length / 2 + 63) / 64;
        long[][] bits = new long[m][words];
        for (int t = 1; t < survive.length; t += 2)
            for (int i = 0; i < m; i++) if (survive[t][i]) bits[i][t / 2 / 64] |= 1L << (t / 2 % 64);
        Integer[] byCount = new Integer[m];
        for (int i = 0; i < m; i++) byCount[i] = i;
        Arrays.sort(byCount, (a, b) -> Integer.compare(count(bits[b]), count(bits[a])));
        boolean[] used = new boolean[m];
        int[] order = new int[m];
        int at = 0, next = 0;
        while (at < m) {
            while (used[byCount[next]]) next++;
            int seed = byCount[next];
            used[seed] = true;
            order[at++] = seed;
            long[] union = bits[seed].clone();
            for (int member = 1; member < LANES && at < m; member++) {
                int best = -1, bestGrowth = Integer.MAX_VALUE;
                for (int i = 0; i < m && bestGrowth > 0; i++) {
                    if (used[i]) continue;
                    int growth = 0;
                    for (int w = 0; w < words; w++) growth += Long.bitCount(bits[i][w] & ~union[w]);
                    if (growth < bestGrowth) {
                        best = i;
                        bestGrowth = growth;
                    }
                }
                used[best] = true;
                order[at++] = best;
                for (int w = 0; w < words; w++) union[w] |= bits[best][w];
            }
        }
        return order;
    }

    private static int count(long[] bits) {
        int c = 0;
        for (long w : bits) c += Long.bitCount(w);
        return c;
    }

    private static double dot(float[] a, int ao, float[] b, int bo, int d) {
        double sum = 0;
        for (int j = 0; j < d; j++) sum += (double) a[ao + j] * b[bo + j];
        return sum;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int j = 0; j < a.length; j++) sum += a[j] * b[j];
        return sum;
    }

    private static double max(double[] a) {
        double best = Double.NEGATIVE_INFINITY;
        for (double v : a) best = Math.max(best, v);
        return best;
    }

    private static double kthLargest(double[] a, int k) {
        Arrays.sort(a);
        return a[a.length - k];
    }

    private static double[] project(double[][] q, float[] a, int off, int d) {
        double[] u = new double[q.length];
        for (int l = 0; l < q.length; l++) for (int j = 0; j < d; j++) u[l] += q[l][j] * a[off + j];
        return u;
    }

    private static double residual(double[][] q, double[] u, float[] a, int off, int d) {
        double sum = 0;
        for (int j = 0; j < d; j++) {
            double e = a[off + j];
            for (int l = 0; l < q.length; l++) e -= q[l][j] * u[l];
            sum += e * e;
        }
        return Math.sqrt(sum);
    }

    /** Σ_r g_r g_rᵀ.   [d][d] */
    private static double[][] gram(float[] g, int n, int d) {
        double[][] a = new double[d][d];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < d; i++) {
                double gi = g[r * d + i];
                for (int j = 0; j <= i; j++) a[i][j] += gi * g[r * d + j];
            }
        }
        for (int i = 0; i < d; i++) for (int j = 0; j < i; j++) a[j][i] = a[i][j];
        return a;
    }

    /** Orthonormal rows spanning the top-rank invariant subspace of a (subspace iteration from a seeded start). */
    private static double[][] topEigen(double[][] a, int d, int rank, int iters) {
        SplittableRandom rng = new SplittableRandom(7);
        double[][] q = new double[rank][d];
        for (double[] row : q) for (int j = 0; j < d; j++) row[j] = rng.nextDouble() - 0.5;
        orthonormalize(q);
        for (int it = 0; it < iters; it++) {
            double[][] next = new double[rank][d];
            for (int l = 0; l < rank; l++) for (int i = 0; i < d; i++) next[l][i] = dot(a[i], q[l]);
            q = next;
            orthonormalize(q);
        }
        return q;
    }

    private static void orthonormalize(double[][] q) {
        for (int l = 0; l < q.length; l++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int o = 0; o < l; o++) {
                    double proj = dot(q[l], q[o]);
                    for (int j = 0; j < q[l].length; j++) q[l][j] -= proj * q[o][j];
                }
            }
            double norm = Math.sqrt(dot(q[l], q[l]));
            for (int j = 0; j < q[l].length; j++) q[l][j] /= norm;
        }
    }
}
