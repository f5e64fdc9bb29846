package gsae.cuda;

import gsae.config.SaeConfig;
import gsae.cpu.ReferenceOps;
import gsae.ops.Backend;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.HostTrainingStep;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Each stage of a GPU {@link Ops} against {@link ReferenceOps} on a {@link CheckCase}, with
 * tolerances derived from the arithmetic (u = 2^-24, f32 unit roundoff):
 * <ul>
 * <li>z and s, each a length-d chain of f32 FMAs: |δz| ≤ (d+2)·u·A_z with A_z = |b_enc| + Σ|x−b_dec|·|W_enc|;
 *     in bf16 mode each product also carries the rounding of both operands, 2·2^-8 + 2^-16, so
 *     |δz| ≤ (2·2^-8 + 2^-16 + (d+2)·u)·A_z (likewise s with A_s = Σ|g|·|W_dec|);
 *     δscore = δz·(1+βs) + β|z|·δs + 4u|score|.</li>
 * <li>Top-k index sets must be equal except for latents whose reference score lies within
 *     δscore of the k-th score (ties the mode cannot resolve); values, recomputed in f32 in every
 *     mode, within (d+2)·u·A_z + u|z|.</li>
 * <li>Decode: a length-k FMA chain, (k+1)·u·(|b_dec| + Σ|a|·|W_dec|) + u·|x̂|.</li>
 * <li>Backward: every gradient holds f32 residuals e = x − x̂ whose relative error is amplified
 *     by κ = ‖x‖/‖e‖; with chains of length k (decode) and d (dot products),
 *     ε = (k+d+16)·u·κ and tol = ε·(|ref| + max|ref|) per tensor; losses within ε relative.</li>
 * <li>Update: the GPU repeats the reference's roundings; only f64 row sums differ in order, so
 *     8u·(|ref| + scale) with scale the largest Adam step for parameters, max|g| for m and
 *     max|g|² for v.</li>
 * <li>Training: the GPU step in f32 and the reference step take the same selections, so after
 *     T steps the parameters may differ by what rounding moves each step, far below the distance
 *     they travel: ‖P_gpu − P_ref‖ ≤ 1% of ‖P_ref − P_0‖ per tensor, and each step's FVU and
 *     AuxK within 1e-3 relative (a chosen bound, well above the backward's ε at test sizes).</li>
 * </ul>
 */
public final class SelfCheck {

    private static final double U = 0x1p-24;

    private final Ops reference = new ReferenceOps();
    private final Ops gpu;
    private final Precision precision;
    private final String mode;

    /** Checks {@code gpu}, whose encoder runs in {@code precision}; {@code mode} names it in the table. */
    public SelfCheck(Ops gpu, Precision precision, String mode) {
        this.gpu = gpu;
        this.precision = precision;
        this.mode = mode;
    }

    public CheckResult encodeSelect(CheckCase c) {
        Params p = c.params();
        Batch b = c.batch();
        boolean[] dead = c.dead();
        int deadCount = (int) IntStream.range(0, c.m()).filter(i -> dead[i]).count();
        int kAux = Math.min(c.auxK(), deadCount);
        Encoded got = gpu.encodeSelect(p, b, c.beta(), c.k(), dead, c.auxK());
        Tally t = new Tally();
        if ((got.aux() == null) != (kAux == 0)) t.fail("AuxK selection " + (kAux == 0 ? "present" : "missing") + " with k_aux=" + kAux);
        for (int row = 0; row < c.n(); row++) {
            RowScores s = new RowScores(p, b, row, c.beta());
            checkRow(t, s, got.top(), row, null, "top");
            if (got.aux() != null && kAux > 0) checkRow(t, s, got.aux(), row, dead, "aux");
        }
        return t.result("encode-select", c.label(), mode);
    }

    /** The reference's z, s, score and their error bounds for one token, in double. */
    private final class RowScores {
        final double[] z, score, zTol, scoreTol;

        RowScores(Params p, Batch b, int row, float beta) {
            int m = p.m(), d = p.d();
            z = new double[m];
            score = new double[m];
            zTol = new double[m];
            scoreTol = new double[m];
            double operand = precision.operandRounding(), product = 2 * operand + operand * operand;
            for (int i = 0; i < m; i++) {
                double zi = p.bEnc()[i], az = Math.abs(p.bEnc()[i]), si = 0, as = 0;
                for (int j = 0; j < d; j++) {
                    double xc = (double) b.x()[row * d + j] - p.bDec()[j];
                    zi += xc * p.wEnc()[i * d + j];
                    az += Math.abs(xc * p.wEnc()[i * d + j]);
                    si += (double) b.g()[row * d + j] * p.wDec()[i * d + j];
                    as += Math.abs((double) b.g()[row * d + j] * p.wDec()[i * d + j]);
                }
                si = Math.abs(si);
                z[i] = zi;
                score[i] = zi + beta * zi * si;
                zTol[i] = (d + 2) * U * az + U * Math.abs(zi);
                double dz = (product + (d + 2) * U) * az, ds = beta == 0 ? 0 : (product + (d + 1) * U) * as;
                scoreTol[i] = dz * (1 + beta * si) + beta * Math.abs(zi) * ds + 4 * U * Math.abs(score[i]);
            }
        }
    }

    private static void checkRow(Tally t, RowScores s, Selection got, int row, boolean[] allowed, String which) {
        int k = got.k(), m = s.z.length;
        Integer[] order = IntStream.range(0, m).filter(i -> allowed == null || allowed[i]).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -s.score[i]).thenComparingInt(i -> i));
        int kth = order[k - 1];
        boolean[] inRef = new boolean[m], inGot = new boolean[m];
        for (int j = 0; j < k; j++) inRef[order[j]] = true;
        for (int j = 0; j < k; j++) {
            int i = got.indices()[row * k + j];
            String where = which + " row " + row + " slot " + j;
            if (i < 0 || i >= m || (j > 0 && i <= got.indices()[row * k + j - 1]) || (allowed != null && !allowed[i])) {
                t.fail(where + ": index " + i + " is out of range, not ascending or not allowed");
                continue;
            }
            inGot[i] = true;
            t.near(got.values()[row * k + j], Math.max(0, s.z[i]), s.zTol[i], where + " (latent " + i + ") value");
        }
        for (int i = 0; i < m; i++) {
            if (inRef[i] == inGot[i]) continue;
            double gap = Math.abs(s.score[i] - s.score[kth]);
            t.ratio(gap / (s.scoreTol[i] + s.scoreTol[kth]), which + " row " + row + ": latent " + i + (inGot[i] ? " chosen" : " missed")
                    + " with score gap " + gap + " to the k-th");
        }
    }

    public CheckResult decode(CheckCase c, boolean withBias) {
        Params p = c.params();
        Selection s = randomSelection(c);
        float[] got = gpu.decode(p, s, withBias), ref = reference.decode(p, s, withBias);
        Tally t = new Tally();
        int d = c.d(), k = c.k();
        for (int row = 0; row < c.n(); row++) {
            for (int j = 0; j < d; j++) {
                double scale = withBias ? Math.abs(p.bDec()[j]) : 0;
                for (int slot = 0; slot < k; slot++)
                    scale += Math.abs((double) s.values()[row * k + slot] * p.wDec()[s.indices()[row * k + slot] * d + j]);
                double tol = (k + 1) * U * scale + U * Math.abs(ref[row * d + j]) + Double.MIN_NORMAL;
                t.near(got[row * d + j], ref[row * d + j], tol, "x̂[" + row + ", " + j + "]");
            }
        }
        return t.result(withBias ? "decode" : "decode-nobias", c.label(), mode);
    }

    /** k distinct ascending latents per row with activations ≥ 0, some exactly 0. */
    static Selection randomSelection(CheckCase c) {
        SplittableRandom rng = new SplittableRandom(c.seed() * 31 + 7);
        Selection s = Selection.empty(c.n(), c.k());
        for (int row = 0; row < c.n(); row++) {
            int[] pick = rng.ints(0, c.m()).distinct().limit(c.k()).sorted().toArray();
            for (int j = 0; j < c.k(); j++) {
                s.indices()[row * c.k() + j] = pick[j];
                s.values()[row * c.k() + j] = rng.nextInt(5) == 0 ? 0f : (float) Math.abs(Params.gaussian(rng));
            }
        }
        return s;
    }

    public CheckResult backward(CheckCase c, float auxAlpha) {
        Params p = c.params();
        Batch b = c.batch();
        Encoded enc = reference.encodeSelect(p, b, c.beta(), c.k(), c.dead(), c.auxK());
        float[] xhat = reference.decode(p, enc.top(), true);
        Params want = Params.zeros(c.d(), c.m()), got = Params.zeros(c.d(), c.m());
        got.fill(Float.NaN);
        Losses lw = reference.backward(p, b, enc, xhat, auxAlpha, want);
        Losses lg = gpu.backward(p, b, enc, xhat, auxAlpha, got);
        double eps = (c.k() + c.d() + 16) * U * amplification(b, xhat, enc, p);
        Tally t = new Tally();
        t.near(lg.fvu(), lw.fvu(), eps * lw.fvu() + U, "fvu");
        t.near(lg.auxk(), lw.auxk(), eps * lw.auxk() + U, "auxk");
        t.near(lg.loss(), lw.loss(), eps * lw.loss() + U, "loss");
        tensor(t, got.wEnc(), want.wEnc(), eps, "dW_enc");
        tensor(t, got.bEnc(), want.bEnc(), eps, "db_enc");
        tensor(t, got.wDec(), want.wDec(), eps, "dW_dec");
        tensor(t, got.bDec(), want.bDec(), eps, "db_dec");
        return t.result("backward", c.label(), mode);
    }

    /** κ = ‖x‖/‖e‖ for the top residual, and ‖e‖/‖ê − e‖ for AuxK's when present: the larger. */
    static double amplification(Batch b, float[] xhat, Encoded enc, Params p) {
        double xx = 0, ee = 0;
        float[] e = new float[xhat.length];
        for (int i = 0; i < xhat.length; i++) {
            e[i] = b.x()[i] - xhat[i];
            xx += (double) b.x()[i] * b.x()[i];
            ee += (double) e[i] * e[i];
        }
        double kappa = Math.sqrt(xx / Math.max(ee, Double.MIN_NORMAL));
        if (enc.aux() == null) return kappa;
        float[] ehat = new ReferenceOps().decode(p, enc.aux(), false);
        double rr = 0;
        for (int i = 0; i < e.length; i++) rr += (double) (ehat[i] - e[i]) * (ehat[i] - e[i]);
        return Math.max(kappa, Math.sqrt(ee / Math.max(rr, Double.MIN_NORMAL)));
    }

    private static void tensor(Tally t, float[] got, float[] want, double eps, String name) {
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) t.near(got[i], want[i], eps * (Math.abs(want[i]) + scale) + Double.MIN_NORMAL, name + "[" + i + "]");
    }

    public CheckResult update(CheckCase c) {
        Params p = c.params();
        SplittableRandom rng = new SplittableRandom(c.seed() + 99);
        Params g = Params.zeros(c.d(), c.m()), m = Params.zeros(c.d(), c.m()), v = Params.zeros(c.d(), c.m());
        fillRandom(g, rng, 1e-3, false);
        fillRandom(m, rng, 1e-4, false);
        fillRandom(v, rng, 1e-8, true);
        float lr = 1e-3f;
        long step = 3;
        Params pw = p.copy(), gw = g.copy(), mw = m.copy(), vw = v.copy();
        reference.update(pw, gw, mw, vw, lr, step);
        double stepMax = maxAbsDifference(pw, p), gMax = maxAbs(g);
        gpu.update(p, g, m, v, lr, step);
        Tally t = new Tally();
        elementwise(t, p, pw, 8 * U, stepMax, "param");
        elementwise(t, m, mw, 8 * U, gMax, "adam_m");
        elementwise(t, v, vw, 8 * U, gMax * gMax, "adam_v");
        return t.result("update", c.label(), mode);
    }

    private static float[][] arrays(Params p) {
        return new float[][]{p.wEnc(), p.bEnc(), p.wDec(), p.bDec()};
    }

    private static double maxAbs(Params p) {
        double max = 0;
        for (float[] a : arrays(p)) for (float x : a) max = Math.max(max, Math.abs(x));
        return max;
    }

    private static double maxAbsDifference(Params a, Params b) {
        double max = 0;
        float[][] x = arrays(a), y = arrays(b);
        for (int t = 0; t < 4; t++) for (int i = 0; i < x[t].length; i++) max = Math.max(max, Math.abs((double) x[t][i] - y[t][i]));
        return max;
    }

    private static void fillRandom(Params p, SplittableRandom rng, double scale, boolean squared) {
        for (float[] a : arrays(p))
            for (int i = 0; i < a.length; i++) {
                double x = scale * Params.gaussian(rng);
                a[i] = (float) (squared ? x * x / scale : x);
            }
    }

    private static void elementwise(Tally t, Params got, Params want, double eps, double scale, String name) {
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec"};
        float[][] g = arrays(got), w = arrays(want);
        for (int a = 0; a < 4; a++)
            for (int i = 0; i < w[a].length; i++)
                t.near(g[a][i], w[a][i], eps * (Math.abs(w[a][i]) + scale) + Double.MIN_NORMAL, name + "." + names[a] + "[" + i + "]");
    }

    /**
     * {@code steps} training steps of {@code gpuBackend} against the reference's host step from the
     * same state, with dead_tokens small enough that latents die and AuxK engages.
     */
    public static CheckResult training(Backend gpuBackend, CheckCase c, int steps, String mode) {
        SaeConfig cfg = new SaeConfig(c.d(), c.m(), c.k(), c.beta(), c.auxK(), SaeConfig.DEFAULT_AUX_ALPHA, 3L * c.n());
        TrainState init = TrainState.fresh(c.params());
        float lr = cfg.defaultLearningRate();
        Tally t = new Tally();
        try (TrainingStep want = new HostTrainingStep(cfg, new ReferenceOps(), init); TrainingStep got = gpuBackend.open(cfg, init)) {
            for (int s = 0; s < steps; s++) {
                Batch b = new CheckCase(c.n(), c.d(), c.m(), c.k(), c.beta(), c.auxK(), c.seed() + 1000 + s).batch();
                StepMetrics mw = want.step(b, lr), mg = got.step(b, lr);
                t.near(mg.fvu(), mw.fvu(), 1e-3 * mw.fvu() + U, "step " + (s + 1) + " fvu");
                t.near(mg.auxk(), mw.auxk(), 1e-3 * mw.auxk() + U, "step " + (s + 1) + " auxk");
            }
            TrainState sw = want.snapshot(), sg = got.snapshot();
            if (sg.step() != sw.step()) t.fail("step counter " + sg.step() + ", want " + sw.step());
            float[][] a = arrays(sg.params()), b = arrays(sw.params()), o = arrays(init.params());
            String[] names = {"W_enc", "b_enc", "W_dec", "b_dec"};
            for (int q = 0; q < 4; q++) t.ratio(distance(a[q], b[q]) / (0.01 * distance(b[q], o[q]) + Double.MIN_NORMAL),
                    names[q] + " after " + steps + " steps: ‖gpu − ref‖ = " + distance(a[q], b[q]) + ", travel " + distance(b[q], o[q]));
        }
        return t.result("train-" + steps, c.label(), mode);
    }

    private static double distance(float[] x, float[] y) {
        double ss = 0;
        for (int i = 0; i < x.length; i++) ss += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
        return Math.sqrt(ss);
    }
}
