package gsae.parallel;

import gsae.comm.Collectives;
import gsae.comm.ReduceOp;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.LatentShard;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;


/**
 * The training step with the latents sharded across the ranks of a group (issue #15, {@code
 * --parallel latents}): rank r owns the latents of {@link LatentShard#of}(r, P, M), their rows of
 * W_enc, b_enc, W_dec, Adam moments and dead-latent counters; b_dec and its moments are replicated.
 * Every rank sees the whole batch. Per step:
 *
 * <ol>
 * <li>dead count: the owned dead latents, all-reduced to the global |D|; k_aux = min(aux_k, |D|);
 * <li>encode-select on the owned latents ({@link Ops#encodeSelect}, min(k, M_r) per token, AuxK
 *     candidates among the owned dead ones), then the global top-k and AuxK top-k_aux by
 *     all-gathering (score, index) pairs ({@link GlobalTopK});
 * <li>the ranks' partial decodes a·W_dec (and ê = a_aux·W_dec) all-reduced, b_dec added;
 * <li>losses and the owned latents' gradients from the global residual ({@link ShardBackward}); the
 *     encoder's part of db_dec all-reduced, so b_dec's gradient is the same on every rank;
 * <li>{@link Ops#update} on the owned rows and the replicated b_dec, then rank 0's b_dec broadcast,
 *     so that the replicas cannot drift apart should an all-reduce round differently on some rank.
 * </ol>
 *
 * The result equals {@link gsae.ops.HostTrainingStep} on the whole SAE up to float summation order,
 * with the same selections away from near-ties. Traffic per rank and step, for N tokens, P ranks:
 * gathers of N·k·P and N·k_aux·P (score, index) pairs (8 bytes each), all-reduces of N·d floats for
 * x̂ (and N·d for ê when a latent is dead) and d + 2 doubles, one long, and a broadcast of d floats: O(N·((k + k_aux)·P + d)),
 * independent of M. One instance serves one thread, the rank's.
 */
public final class LatentShardedStep implements ShardedStep {

    private final SaeConfig cfg;
    private final Ops ops;
    private final Collectives comm;
    private final LatentShard shard;
    private final TrainState state;
    private final Params grads;
    private final boolean[] dead;
    private long step;

    /**
     * A step that trains in {@code owned}'s arrays: the share of this rank's latents (see {@link
     * TrainState#slice}), which the caller must not use afterwards.
     */
    public LatentShardedStep(SaeConfig cfg, Ops ops, Collectives comm, TrainState owned) {
        this.shard = LatentShard.of(comm.rank(), comm.size(), cfg.latents());
        if (owned.params().d() != cfg.d() || owned.params().m() != shard.count())
            throw new IllegalArgumentException("rank " + shard.rank() + " owns " + shard.count() + " latents of d=" + cfg.d()
                    + ", but its state has " + owned.params().m() + " of d=" + owned.params().d());
        this.cfg = cfg;
        this.ops = ops;
        this.comm = comm;
        this.state = owned;
        this.grads = Params.zeros(cfg.d(), shard.count());
        this.dead = new boolean[shard.count()];
        this.step = owned.step();
    }

    /**
     * A step on this rank's share of {@code init}, taken alone ({@link StartState#shard}): a fresh
     * state draws only this rank's rows, a stored one reads only them, so no rank builds the whole
     * M·d state; a held one is copied, and the caller keeps it.
     */
    public static LatentShardedStep start(SaeConfig cfg, Ops ops, Collectives comm, StartState init) {
        return new LatentShardedStep(cfg, ops, comm, init.shard(LatentShard.of(comm.rank(), comm.size(), cfg.latents())));
    }

    /** The latents this rank owns. */
    public LatentShard shard() {
        return shard;
    }

    @Override
    public StepMetrics step(Batch batch, float lr) {
        Params p = state.params();
        int n = batch.n(), d = p.d();
        int ownDead = markDead();
        long[] deadCount = {ownDead};
        comm.allReduce(deadCount, ReduceOp.SUM);
        int kAux = (int) Math.min(cfg.auxK(), deadCount[0]);
        float beta = batch.hasGradients() ? cfg.beta() : 0f;

        Encoded local = ops.encodeSelect(p, batch, beta, Math.min(cfg.k(), shard.count()), ownDead > 0 ? dead : null, kAux);
        GlobalTopK.Merged top = merge(p, batch, beta, cfg.k(), local.top());
        float[] xhat = top.own().decode(p.wDec(), d);
        comm.allReduce(xhat, ReduceOp.SUM);
        for (int i = 0; i < xhat.length; i++) xhat[i] += p.bDec()[i % d];

        GlobalTopK.Merged aux = null;
        float[] ehat = null;
        if (kAux > 0) {
            aux = merge(p, batch, beta, kAux, local.aux());
            ehat = aux.own().decode(p.wDec(), d);
            comm.allReduce(ehat, ReduceOp.SUM);
        }
        int deadAfter = countFiring(top.global(), n);

        ShardBackward.Result r = ShardBackward.run(p, batch, xhat, top.own(), ehat, aux == null ? null : aux.own(), cfg.auxAlpha(), grads);
        double[] reduced = new double[d + 2];
        System.arraycopy(r.encoderShare(), 0, reduced, 0, d);
        reduced[d] = top.positive();
        reduced[d + 1] = deadAfter;
        comm.allReduce(reduced, ReduceOp.SUM);
        for (int j = 0; j < d; j++) grads.bDec()[j] = (float) (r.dxhatSum()[j] - reduced[j]);
        ops.update(p, grads, state.adamM(), state.adamV(), lr, ++step);
        // MPI recommends but does not require that an all-reduce give every rank the same bits: rank 0's b_dec is the one kept
        if (shard.ranks() > 1) comm.broadcast(p.bDec(), 0);
        return new StepMetrics(r.losses().fvu(), r.losses().auxk(), r.losses().loss(), reduced[d] / n, reduced[d + 1] / cfg.latents(), n);
    }

    private GlobalTopK.Merged merge(Params p, Batch batch, float beta, int width, Selection offered) {
        float[] scores = offered == null ? null : CandidateScores.of(p, batch, beta, offered);
        return GlobalTopK.merge(comm, shard, batch.n(), width, offered, scores);
    }

    /** Flags the owned dead latents and returns how many there are. */
    private int markDead() {
        return state.markDead(cfg.deadTokens(), dead);
    }

    /** Advances every owned counter by N, zeroes the selected ones, and returns the owned dead count after. */
    private int countFiring(int[] global, int n) {
        long[] since = state.sinceFired();
        for (int i = 0; i < since.length; i++) since[i] += n;
        for (int latent : global) if (shard.owns(latent)) since[latent - shard.first()] = 0;
        return markDead();
    }

    /** The whole SAE's parameters, gathered from every rank ({@link ShardedStep#gatherParams}). */
    @Override
    public Params gatherParams() {
        return ShardedStep.gather(comm, shard, state.params());
    }

    /** This rank's share, live: M_r latents, b_dec whole. */
    @Override
    public TrainState state() {
        return state.atStep(step);
    }

    @Override
    public TrainState snapshot() {
        return state.copy().atStep(step);
    }

    @Override
    public void close() {}
}
