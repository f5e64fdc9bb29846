package gsae.parallel;

import gsae.comm.Collectives;
import gsae.comm.ReduceOp;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.ops.StateFingerprint;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.util.Arrays;

/**
 * Data-parallel training (issue #15): every rank holds the whole state and trains on its slice of
 * each global batch; together the ranks take the step {@link gsae.ops.HostTrainingStep} takes on the
 * global batch, up to the order of floating-point sums. Per step, on every rank:
 * <ol>
 *   <li>encode-select and decode on the slice (the dead set is the same everywhere);</li>
 *   <li>the global denominators of SPEC §3 ({@link GlobalDenominators}: 2d + 1 and 2 doubles reduced);</li>
 *   <li>backward on the slice with those denominators, which makes its losses and gradients this
 *       slice's terms of the global ones; the gradients are summed over ranks (2·M·d + M + d floats);</li>
 *   <li>the same Adam update on every rank, from the same summed gradients;</li>
 *   <li>dead counters: a latent selected on any rank fired (M ints summed), and every counter advances
 *       by the global N; losses, L0's count and N summed (4 doubles).</li>
 * </ol>
 * Rank 0's state is broadcast when the step opens, so the ranks start identical whatever they loaded.
 *
 * <p>The ranks stay identical only if the gradient all-reduce hands every rank the same bits, which
 * the MPI standard recommends but does not promise. So every {@value StateFingerprint#CHECK_EVERY} steps the ranks
 * compare a fingerprint of their states (two longs reduced) and, where they differ, take rank 0's
 * again ({@link #agree}); rank 0's checkpoints are then the state every rank trains on.
 */
public final class DataParallelStep implements TrainingStep {

    private final SaeConfig cfg;
    private final Ops ops;
    private final Collectives group;
    private static final System.Logger LOG = System.getLogger(DataParallelStep.class.getName());

    private final TrainState state;
    private final Params grads;
    private final boolean[] dead;
    private final int[] fired; // [M] ranks that selected each latent this step
    private final GlobalDenominators denominators;
    private long step;

    /**
     * A step that trains in {@code init}'s own arrays (the caller must not use them afterwards),
     * overwritten on every rank by rank 0's state.
     */
    public DataParallelStep(SaeConfig cfg, Ops ops, TrainState init, Collectives group) {
        if (init.params().d() != cfg.d() || init.params().m() != cfg.latents())
            throw new IllegalArgumentException("state shape does not match the SAE config");
        this.cfg = cfg;
        this.ops = ops;
        this.group = group;
        this.state = init;
        this.grads = Params.zeros(cfg.d(), cfg.latents());
        this.dead = new boolean[cfg.latents()];
        this.fired = new int[cfg.latents()];
        this.denominators = new GlobalDenominators(group);
        this.step = broadcastFromRoot(init);
    }

    /** Makes every rank's state rank 0's; returns the step count. */
    private long broadcastFromRoot(TrainState s) {
        for (Params p : new Params[]{s.params(), s.adamM(), s.adamV()}) {
            group.broadcast(p.wEnc(), 0);
            group.broadcast(p.bEnc(), 0);
            group.broadcast(p.wDec(), 0);
            group.broadcast(p.bDec(), 0);
        }
        group.broadcast(s.sinceFired(), 0);
        long[] t = {s.step()};
        group.broadcast(t, 0);
        return t[0];
    }

    /** One step on this rank's slice of the global batch; every rank calls it with its own slice. */
    @Override
    public StepMetrics step(Batch slice, float lr) {
        Params p = state.params();
        int deadCount = markDead();
        float beta = slice.hasGradients() ? cfg.beta() : 0f;
        Encoded enc = ops.encodeSelect(p, slice, beta, cfg.k(), deadCount > 0 ? dead : null, cfg.auxK());
        float[] xhat = ops.decode(p, enc.top(), true);
        long[] rows = new long[1];
        Denominators global = denominators.compute(slice, xhat, enc.aux() != null, rows);
        Losses losses = ops.backward(p, slice, enc, xhat, cfg.auxAlpha(), grads, global);
        sumOverRanks(grads);
        ops.update(p, grads, state.adamM(), state.adamV(), lr, ++step);
        double[] scalars = {losses.fvu(), losses.auxk(), losses.loss(), positives(enc.top())};
        group.allReduce(scalars, ReduceOp.SUM);
        advanceCounters(enc.top(), rows[0]);
        if (step % StateFingerprint.CHECK_EVERY == 0) agree();
        return new StepMetrics(scalars[0], scalars[1], scalars[2], scalars[3] / rows[0], (double) markDead() / cfg.latents(), rows[0]);
    }

    /**
     * Compares the ranks' fingerprints of their states and, when any differs, makes every rank's
     * state rank 0's. Returns whether they differed. Every rank calls it at the same step.
     */
    boolean agree() {
        long[] lo = {StateFingerprint.of(state)}, hi = {lo[0]};
        group.allReduce(lo, ReduceOp.MIN);
        group.allReduce(hi, ReduceOp.MAX);
        if (lo[0] == hi[0]) return false;
        if (group.rank() == 0)
            LOG.log(System.Logger.Level.WARNING, "step {0}: the ranks'' states differed in their last bits; every rank now continues from rank 0''s", step);
        broadcastFromRoot(state());
        return true;
    }

    private void sumOverRanks(Params g) {
        group.allReduce(g.wEnc(), ReduceOp.SUM);
        group.allReduce(g.bEnc(), ReduceOp.SUM);
        group.allReduce(g.wDec(), ReduceOp.SUM);
        group.allReduce(g.bDec(), ReduceOp.SUM);
    }

    private int markDead() {
        return state.markDead(cfg.deadTokens(), dead);
    }

    /** Selected pairs with a > 0 on this slice: L0's numerator. */
    private static double positives(Selection top) {
        long positive = 0;
        for (float v : top.values()) if (v > 0f) positive++;
        return positive;
    }

    /** A latent selected on any rank fired: its counter restarts; every other one advances by the global N. */
    private void advanceCounters(Selection top, long globalRows) {
        Arrays.fill(fired, 0);
        for (int i : top.indices()) fired[i] = 1;
        group.allReduce(fired, ReduceOp.SUM);
        long[] since = state.sinceFired();
        for (int i = 0; i < since.length; i++) since[i] = fired[i] > 0 ? 0 : since[i] + globalRows;
    }

    /** The live arrays, no copy. */
    @Override
    public TrainState state() {
        return state.atStep(step);
    }

    /** The step trains in host arrays: {@link #state}'s, still valid after close. */
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
