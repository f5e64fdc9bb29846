package gsae.api;

import gsae.config.SaeConfig;
import gsae.cpu.FastOps;
import gsae.io.Checkpoint;
import gsae.io.Export;
import gsae.io.Manifest;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.Scales;
import gsae.ops.Selection;

import java.nio.file.Path;

/**
 * A trained SAE, frozen for inference: encode rows of activations (and, for a g-SAE, their
 * gradients) into the latents it keeps, decode them back, or both at once. Every method may be
 * called from several threads at once: the parameters are never written, and each thread gets its
 * own scratch space (about the size of the encoder, kept while the thread lives).
 *
 * <p>Inputs are in the caller's units: the SAE applies its act_scale and grad_scale (SPEC §6) to
 * copies, never to the caller's arrays. Activations in {@link Codes} are those of the scaled input;
 * {@link #decode} and {@link #reconstruct} return rows in the caller's units again.
 */
public final class Sae {

    private final SaeConfig cfg;
    private final Scales scales;
    private final Manifest source;
    private final StartState stored; // the checkpoint's state, read into params on first inference; null when given params
    private volatile Params params;
    private final ThreadLocal<FastOps> ops = ThreadLocal.withInitial(() -> new FastOps(1));

    Sae(SaeConfig cfg, Params params, Scales scales, Manifest source) {
        this(cfg, params, null, scales, source);
    }

    private Sae(SaeConfig cfg, Params params, StartState stored, Scales scales, Manifest source) {
        this.cfg = cfg;
        this.params = params;
        this.stored = stored;
        this.scales = scales;
        this.source = source;
    }

    /**
     * The SAE in a checkpoint folder written by {@link SaeTrainer#save} or {@code gsae train}. Its
     * weights are read on the first inference call; {@link #export} before that streams them from
     * the files, so an SAE past one Java array (trained on CUDA) exports in the sparsify layout.
     */
    public static Sae load(Path checkpointDir) {
        Checkpoint c = Checkpoint.load(checkpointDir);
        return new Sae(c.sae(), null, c.start(), c.scales(), c.data().source());
    }

    /** The weights in host arrays, read from the checkpoint on the first call. */
    private Params params() {
        Params p = params;
        if (p == null) {
            synchronized (this) {
                if (params == null) params = stored.host().params();
                p = params;
            }
        }
        return p;
    }

    /** Input width d. */
    public int d() {
        return cfg.d();
    }

    /** Number of latents M. */
    public int latents() {
        return cfg.latents();
    }

    /** Latents kept per row. */
    public int k() {
        return cfg.k();
    }

    /** Gradient weight β of the selection score (0 for a TopK SAE). */
    public float beta() {
        return cfg.beta();
    }

    /** The factor applied to activations before encoding. */
    public float actScale() {
        return scales.actScale();
    }

    /** The factor applied to gradients before encoding. */
    public float gradScale() {
        return scales.gradScale();
    }

    /** The k latents of each row selected by z alone (β = 0, as at inference without gradients). x: [rows, d]. */
    public Codes encode(float[] x, int rows) {
        return encode(x, null, rows);
    }

    /**
     * The k latents of each row selected by z∘(1 + β·|g·W_decᵀ|) (SPEC §2); without {@code g}, by z.
     *
     * @param x    activations [rows, d], left unchanged
     * @param g    gradients of the loss with respect to x [rows, d], or null; left unchanged
     * @param rows number of rows
     */
    public Codes encode(float[] x, float[] g, int rows) {
        Inputs.check("x", x, rows, d());
        if (g != null) Inputs.check("g", g, rows, d());
        Batch b = new Batch(rows, d(), Inputs.scaled(x, scales.actScale()), g == null ? null : Inputs.scaled(g, scales.gradScale()));
        Selection s = ops.get().encodeSelect(params(), b, g == null ? 0f : cfg.beta(), cfg.k(), null, 0).top();
        return new Codes(rows, s.k(), s.indices(), s.values());
    }

    /** The rows these codes stand for, in the caller's units: (a·W_dec + b_dec) / act_scale.  returns [rows, d] */
    public float[] decode(Codes codes) {
        if (codes.k() < 1) throw new IllegalArgumentException("codes: k must be ≥ 1, got " + codes.k());
        for (int i : codes.indices())
            if (i < 0 || i >= latents()) throw new IllegalArgumentException("codes: latent index " + i + " is outside 0.." + (latents() - 1));
        float[] xhat = ops.get().decode(params(), new Selection(codes.rows(), codes.k(), codes.indices(), codes.values()), true);
        float inv = 1f / scales.actScale();
        if (inv != 1f) for (int i = 0; i < xhat.length; i++) xhat[i] *= inv;
        return xhat;
    }

    /** decode(encode(x)): the SAE's reconstruction of each row, in the caller's units.  returns [rows, d] */
    public float[] reconstruct(float[] x, int rows) {
        return decode(encode(x, rows));
    }

    /** Writes the SAE in {@code format} into {@code dir}, act_scale folded in so that it acts on raw activations. */
    public void export(ExportFormat format, Path dir) {
        export(format, dir, ExportOrigin.RECORDED);
    }

    /** {@link #export(ExportFormat, Path)} with the fields {@code origin} gives laid over the recorded origin. */
    public void export(ExportFormat format, Path dir, ExportOrigin origin) {
        Export.Format f = Export.Format.valueOf(format.name());
        Export.Origin o = new Export.Origin(source(origin), origin.hookLayer());
        Params p = params;
        if (p != null) Export.write(f, p, cfg, scales, o, dir);
        else stored.read(c -> Export.write(f, c.params(), cfg, scales, o, dir));
    }

    /** The recorded source with the given fields laid over it; null when neither names a model and a hook. */
    private Manifest source(ExportOrigin o) {
        Manifest recorded = source;
        String model = o.model() != null ? o.model() : recorded != null ? recorded.model() : null;
        String hook = o.hook() != null ? o.hook() : recorded != null ? recorded.hook() : null;
        if (model == null && hook == null && o.contextSize() == null && o.prependBos() == null && o.datasetPath() == null) return null;
        return new Manifest(model != null ? model : "", hook != null ? hook : "",
                o.contextSize() != null ? o.contextSize() : recorded != null ? recorded.contextSize() : null,
                o.prependBos() != null ? o.prependBos() : recorded != null ? recorded.prependBos() : null,
                o.datasetPath() != null ? o.datasetPath() : recorded != null ? recorded.datasetPath() : null);
    }
}
