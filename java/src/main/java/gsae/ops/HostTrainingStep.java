package gsae.ops;

import gsae.config.SaeConfig;

/** The training step for backends whose memory is the host's: the stage primitives in SPEC order. */
public final class HostTrainingStep implements TrainingStep {

    private final SaeConfig cfg;
    private final Ops ops;
    private final TrainState state;
    private final Params grads;
    private final boolean[] dead;
    private long step;

    /** A step on a copy of {@code init}: the caller keeps its arrays. */
    public HostTrainingStep(SaeConfig cfg, Ops ops, TrainState init) {
        this(cfg, ops, init, true);
    }

    /** With {@code copy} false the step trains in {@code init}'s own arrays (see {@link Backend#adopt}). */
    public HostTrainingStep(SaeConfig cfg, Ops ops, TrainState init, boolean copy) {
        if (init.params().d() != cfg.d() || init.params().m() != cfg.latents())
            throw new IllegalArgumentException("state shape does not match the SAE config");
        this.cfg = cfg;
        this.ops = ops;
        this.state = copy ? init.copy() : init;
        this.grads = Params.zeros(cfg.d(), cfg.latents());
        this.dead = new boolean[cfg.latents()];
        this.step = init.step();
    }

    @Override
    public StepMetrics step(Batch batch, float lr) {
        Params p = state.params();
        int deadCount = markDead();
        float beta = batch.hasGradients() ? cfg.beta() : 0f;
        Encoded enc = ops.encodeSelect(p, batch, beta, cfg.k(), deadCount > 0 ? dead : null, cfg.auxK());
        float[] xhat = ops.decode(p, enc.top(), true);
        Losses losses = ops.backward(p, batch, enc, xhat, cfg.auxAlpha(), grads);
        ops.update(p, grads, state.adamM(), state.adamV(), lr, ++step);
        double l0 = countFiring(enc.top(), batch.n());
        return new StepMetrics(losses.fvu(), losses.auxk(), losses.loss(), l0, (double) markDead() / cfg.latents(), batch.n());
    }

    private int markDead() {
        return state.markDead(cfg.deadTokens(), dead);
    }

    /** Advances every counter by N, zeroes the selected ones, and returns L0 (mean a > 0 per token). */
    private double countFiring(Selection top, int n) {
        long[] since = state.sinceFired();
        for (int i = 0; i < since.length; i++) since[i] += n;
        long positive = 0;
        for (int j = 0; j < top.indices().length; j++) {
            since[top.indices()[j]] = 0;
            if (top.values()[j] > 0f) positive++;
        }
        return (double) positive / n;
    }

    /** The live arrays, no copy: host memory is already the host's. */
    @Override
    public TrainState state() {
        return state.atStep(step);
    }

    /** The live arrays, as {@link #state}. */
    @Override
    public TrainState hostState() {
        return state();
    }

    @Override
    public TrainState snapshot() {
        return state.copy().atStep(step);
    }

    @Override
    public void close() {}
}
