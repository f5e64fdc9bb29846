package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.data.Downstream;
import gsae.data.Teacher;
import gsae.data.TeacherSource;
import gsae.ops.Batch;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.Selection;

import java.io.PrintStream;

/**
 * Evaluation of one SAE on held-out tokens (SPEC §7). Tokens go in as training saw them
 * (x·act_scale, g·grad_scale), selection uses the SAE's β, and every metric is accumulated over all
 * evaluation tokens (see {@link ReconstructionStats}). On the teacher, x̂/act_scale is spliced into
 * the downstream classifier in place of x.
 */
public final class Evaluator {

    private Evaluator() {}

    /** FVU, L0, dead fraction on {@code tokens} tokens of {@code data} (no downstream loss), selecting with g. */
    public static EvalReport onData(Ops ops, SaeConfig cfg, Params p, Scales scales, BatchSource data, long tokens, int batch) {
        return onData(ops, cfg, p, scales, data, tokens, batch, true, System.err);
    }

    /**
     * As {@link #onData(Ops, SaeConfig, Params, Scales, BatchSource, long, int)}; with
     * {@code withGradients = false} the SAE is evaluated as at inference, where no gradient exists:
     * β falls back to 0 (SPEC §2) and one line on {@code log} says so.
     */
    public static EvalReport onData(Ops ops, SaeConfig cfg, Params p, Scales scales, BatchSource data, long tokens, int batch,
                                    boolean withGradients, PrintStream log) {
        checkShapes(cfg, p, data.d(), tokens, batch);
        float beta = effectiveBeta(cfg, withGradients, log);
        int d = cfg.d();
        ReconstructionStats stats = new ReconstructionStats(d, cfg.latents());
        for (long done = 0; done < tokens; ) {
            int n = (int) Math.min(batch, tokens - done);
            float[] x = new float[n * d], g = new float[n * d];
            data.next(x, g, n);
            Batch b = scales.apply(x, withGradients ? g : null, n, d);
            Selection top = ops.encodeSelect(p, b, beta, cfg.k(), null, 0).top();
            stats.add(b.x(), ops.decode(p, top, true), top, n);
            done += n;
        }
        return new EvalReport(stats.tokens(), stats.fvu(), stats.l0(), stats.deadFraction(), null, null);
    }

    /** Everything, downstream and ground-truth recovery included, on held-out teacher tokens drawn with evalSeed. */
    public static EvalReport onTeacher(Ops ops, SaeConfig cfg, Params p, Scales scales, Teacher teacher, long evalSeed, long tokens, int batch) {
        return onTeacher(ops, cfg, p, scales, teacher, evalSeed, tokens, batch, true, System.err);
    }

    /**
     * As {@link #onTeacher(Ops, SaeConfig, Params, Scales, Teacher, long, long, int)}, optionally
     * selecting without gradients as {@link #onData(Ops, SaeConfig, Params, Scales, BatchSource, long, int, boolean, PrintStream)}
     * does. Downstream losses are means per token of the classifier's cross entropy against the
     * labels the teacher drew: on clean x, on x̂/act_scale, and on x = 0.
     */
    public static EvalReport onTeacher(Ops ops, SaeConfig cfg, Params p, Scales scales, Teacher teacher, long evalSeed, long tokens, int batch,
                                       boolean withGradients, PrintStream log) {
        checkShapes(cfg, p, teacher.d(), tokens, batch);
        float beta = effectiveBeta(cfg, withGradients, log);
        int d = cfg.d();
        Downstream net = teacher.downstream();
        ReconstructionStats stats = new ReconstructionStats(d, cfg.latents());
        double clean = 0, spliced = 0, zero = 0, kl = 0;
        try (TeacherSource source = teacher.source(evalSeed)) {
            for (long done = 0; done < tokens; ) {
                int n = (int) Math.min(batch, tokens - done);
                float[] x = new float[n * d], g = new float[n * d];
                int[] labels = new int[n];
                source.next(x, g, labels, n);
                Batch b = scales.apply(x.clone(), withGradients ? g : null, n, d);
                Selection top = ops.encodeSelect(p, b, beta, cfg.k(), null, 0).top();
                float[] xhat = ops.decode(p, top, true);
                stats.add(b.x(), xhat, top, n);
                for (int i = 0; i < xhat.length; i++) xhat[i] /= scales.actScale();
                clean += net.lossSum(x, labels, n);
                spliced += net.lossSum(xhat, labels, n);
                zero += net.lossSum(new float[n * d], labels, n);
                kl += net.klSum(x, xhat, n);
                done += n;
            }
        }
        long t = stats.tokens();
        double cleanMean = clean / t, splicedMean = spliced / t, zeroMean = zero / t;
        EvalReport.Downstream down = new EvalReport.Downstream(cleanMean, splicedMean, zeroMean, splicedMean - cleanMean,
                (zeroMean - splicedMean) / (zeroMean - cleanMean), kl / t);
        return new EvalReport(t, stats.fvu(), stats.l0(), stats.deadFraction(), down, FeatureRecovery.of(teacher, p));
    }

    private static void checkShapes(SaeConfig cfg, Params p, int dataD, long tokens, int batch) {
        if (p.d() != cfg.d() || p.m() != cfg.latents())
            throw new IllegalArgumentException("parameters are " + p.m() + "×" + p.d() + " but the SAE config says " + cfg.latents() + "×" + cfg.d());
        if (dataD != cfg.d()) throw new UserError("the SAE has d=" + cfg.d() + " but the data has d=" + dataD);
        if (tokens < 1) throw new UserError("--tokens must be ≥ 1, got " + tokens);
        if (batch < 1) throw new UserError("--batch must be ≥ 1, got " + batch);
        Sizes.hostArray("--batch", "tokens per batch", Math.min(batch, tokens), cfg.d());
    }

    /** β, or 0 with one line on {@code log} when the SAE is gradient-aware but no gradient is used. */
    private static float effectiveBeta(SaeConfig cfg, boolean withGradients, PrintStream log) {
        if (withGradients || cfg.beta() == 0f) return cfg.beta();
        log.println("eval: no gradients, so β = " + cfg.beta() + " falls back to 0 (plain TopK selection, SPEC §2)");
        return 0f;
    }
}
