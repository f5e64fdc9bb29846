package gsae.cuda;

import gsae.comm.ElementType;
import gsae.comm.ReduceOp;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Losses;
import gsae.ops.StartState;
import gsae.ops.StateFingerprint;
import gsae.ops.StepMetrics;

/**
 * A training step whose parameters, Adam moments, gradients and since-fired counters live on the
 * device ({@link gsae.ops.HostTrainingStep}'s order of work, on the GPU). Per step the host sends
 * x and g through pinned staging buffers on the stream and reads back six scalars: the four loss
 * sums, the count of a > 0 and the count of dead latents.
 *
 * <p>Data parallel ({@link DeviceRanks}; {@link gsae.parallel.DataParallelStep}'s algorithm with
 * the state on the device): every rank trains on its slice of each global batch. Rank 0's state is
 * broadcast when the step opens; per step the denominators are the global batch's (reduced inside
 * the backward), the gradients are summed over ranks (2·M·d + M + d floats), every rank takes the
 * same Adam step, and the since-fired counters, advanced by the global batch and reset where this
 * rank selected a latent, take the minimum over ranks (M longs): a latent that fired on any rank
 * restarts, since every rank held the same counters before. The ranks stay identical as long as
 * the all-reduce hands every rank the same bits, as NCCL's algorithms do (each reduced element is
 * computed once and copied to every rank); as the host step does, every {@value
 * StateFingerprint#CHECK_EVERY} steps the ranks compare a fingerprint of their states, computed on
 * the device ({@link #agree}), and take rank 0's again where they differ.
 */
public final class CudaTrainingStep extends DeviceStep {

    private static final System.Logger LOG = System.getLogger(CudaTrainingStep.class.getName());

    private final SaeConfig cfg;
    private int deadCount;

    /** One process's step from {@code start} (see {@link DeviceState} for how it reaches the device). */
    CudaTrainingStep(SaeConfig cfg, Stages stages, Kernels kernels, StartState start, boolean adopt) {
        this(cfg, stages, kernels, start, adopt, null);
    }

    /** The same as one rank of a data-parallel run over {@code ranks} (null: one process), whose rank 0's start every rank takes. */
    CudaTrainingStep(SaeConfig cfg, Stages stages, Kernels kernels, StartState start, boolean adopt, DeviceRanks ranks) {
        super(new DeviceState(cfg.d(), cfg.latents(), stages, kernels, start, adopt), ranks);
        this.cfg = cfg;
        if (ranks != null) state.fromRoot(ranks);
        deadCount = state.countDead(cfg.deadTokens());
    }

    @Override
    public StepMetrics step(Batch batch, float lr) {
        Stages stages = state.stages;
        stages.ctx.makeCurrent();
        DeviceBatch b = state.send(batch);
        long rows = ranks == null ? batch.n() : ranks.rows(batch.n());
        float beta = batch.hasGradients() ? cfg.beta() : 0f;
        int kAux = Math.min(cfg.auxK(), deadCount);
        Scratch s = stages.scratch;
        DeviceSelection top = DeviceSelection.in(s, "train.top", batch.n(), cfg.k());
        DeviceSelection aux = kAux > 0 ? DeviceSelection.in(s, "train.aux", batch.n(), kAux) : null;
        DeviceBuffer xhat = s.floats("train.xhat", (long) batch.n() * cfg.d());
        DeviceParams params = state.params, grads = state.grads;

        stages.forward.encodeSelect(params, b, beta, state.dead, top, aux);
        stages.forward.decode(params, top, true, xhat);
        Losses losses = ranks == null ? stages.backward.run(params, b, top, aux, xhat, cfg.auxAlpha(), grads)
                : stages.backward.run(params, b, top, aux, xhat, cfg.auxAlpha(), grads, ranks, rows);
        if (ranks != null) ranks.sum(grads);
        stages.update.run(params, grads, state.adamM, state.adamV, lr, ++state.step);

        state.fired(rows, top.idx(), top.val(), top.pairs());
        if (ranks != null) ranks.allReduce(state.since, 0, 8L * cfg.latents(), ElementType.I64, ReduceOp.MIN);
        state.markDead(cfg.deadTokens());
        long[] c = state.readCounters();
        deadCount = (int) c[1];
        double[] scalars = {losses.fvu(), losses.auxk(), losses.loss(), c[0]};
        if (ranks != null) ranks.sum(scalars);
        if (ranks != null && state.step % StateFingerprint.CHECK_EVERY == 0) agree();
        return new StepMetrics(scalars[0], scalars[1], scalars[2], scalars[3] / rows, (double) deadCount / cfg.latents(), rows);
    }

    /**
     * Compares the ranks' fingerprints of their states and, when any differs, makes every rank's
     * state rank 0's. Returns whether they differed. Every rank of a data-parallel run calls it at
     * the same step.
     */
    boolean agree() {
        long[] lo = {state.fingerprint()}, hi = {lo[0]};
        ranks.host.allReduce(lo, ReduceOp.MIN);
        ranks.host.allReduce(hi, ReduceOp.MAX);
        if (lo[0] == hi[0]) return false;
        if (ranks.host.rank() == 0)
            LOG.log(System.Logger.Level.WARNING, "step {0}: the ranks'' states differed in their last bits; every rank now continues from rank 0''s", state.step);
        state.fromRoot(ranks);
        return true;
    }

    /** {@link StateFingerprint#of} this state, computed on the device. */
    long fingerprint() {
        return state.fingerprint();
    }
}
