package gsae.cuda;

import gsae.comm.ElementType;
import gsae.comm.ReduceOp;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.LatentShard;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import gsae.parallel.CandidateScores;
import gsae.parallel.GlobalTopK;
import gsae.parallel.ShardedStep;

/**
 * Latent-sharded training with this rank's share on its device: {@link
 * gsae.parallel.LatentShardedStep}'s algorithm, with the encoder, the decodes, the backward and the
 * update on the device and the merge of the ranks' candidates on the host. Per step, on every rank
 * (each sees the whole batch):
 * <ol>
 *   <li>the global dead count (one long over MPI) gives k_aux; encode-select on the owned latents
 *       gives each token's local top k and top min(k_aux, owned dead);</li>
 *   <li>their scores ({@code candidate_scores}, twin of {@link CandidateScores}), indices and
 *       activations come to the host, 12·N·k bytes (and AuxK's), and {@link GlobalTopK} merges
 *       them over MPI into the global selections; this rank's view of them goes back to the device
 *       as a selection of its own latents, other ranks' slots padded with unused latents at a = 0;</li>
 *   <li>the partial x̂ (b_dec added on rank 0) and AuxK's partial ê are summed over ranks on the
 *       device (N·d floats each), the backward forms the owned latents' gradients and b_dec's
 *       whole gradient ({@link SparseBackward#runSharded}), and Adam updates the share; rank 0's
 *       b_dec is broadcast so that the replicas stay bit-identical;</li>
 *   <li>the owned counters advance by N and restart where an owned latent was selected.</li>
 * </ol>
 * Device reductions go through {@link DeviceRanks} (NCCL, or MPI staged through host memory).
 * Every rank's share must hold at least max(k, aux_k) latents, so that a token's slots can be
 * padded with distinct latents; smaller shares train through the host step.
 */
public final class CudaShardedStep extends DeviceStep implements ShardedStep {

    private static final int SCORE_WARPS = 8;

    private final SaeConfig cfg;
    private final LatentShard shard;
    private final Kernel scores;
    private int ownDead;

    /** Whether every rank's share of {@code cfg}'s latents over {@code ranks} ranks is large enough for this step. */
    static boolean fits(SaeConfig cfg, int ranks) {
        return cfg.latents() / ranks >= Math.max(cfg.k(), cfg.auxK());
    }

    /** This rank's latents; refuses shares under max(k, aux_k) latents. */
    private static LatentShard share(SaeConfig cfg, DeviceRanks ranks) {
        if (!fits(cfg, ranks.host.size()))
            throw new IllegalArgumentException(cfg.latents() + " latents over " + ranks.host.size() + " ranks leave shares under max(k, aux_k)");
        return LatentShard.of(ranks.host.rank(), ranks.host.size(), cfg.latents());
    }

    /** This rank's share of {@code start} on the device; takes {@code ranks} over (closes it). */
    CudaShardedStep(SaeConfig cfg, Stages stages, Kernels kernels, StartState start, DeviceRanks ranks) {
        super(new DeviceState(cfg.d(), share(cfg, ranks).count(), stages, kernels, new StartState.Held(start.shard(share(cfg, ranks))), true), ranks);
        this.cfg = cfg;
        this.shard = share(cfg, ranks);
        this.scores = kernels.get("sparse_decode", "candidate_scores");
        ownDead = state.countDead(cfg.deadTokens());
    }

    @Override
    public StepMetrics step(Batch batch, float lr) {
        Stages stages = state.stages;
        stages.ctx.makeCurrent();
        DeviceBatch b = state.send(batch);
        int n = batch.n(), d = cfg.d();
        long[] dead = {ownDead};
        ranks.host.allReduce(dead, ReduceOp.SUM);
        int kAux = (int) Math.min(cfg.auxK(), dead[0]), ownAux = Math.min(kAux, ownDead);
        float beta = batch.hasGradients() ? cfg.beta() : 0f;
        Scratch s = stages.scratch;
        DeviceSelection local = DeviceSelection.in(s, "shard.local", n, cfg.k());
        DeviceSelection localAux = ownAux > 0 ? DeviceSelection.in(s, "shard.local_aux", n, ownAux) : null;
        stages.forward.encodeSelect(state.params, b, beta, state.dead, local, localAux);

        GlobalTopK.Merged top = merge(b, beta, cfg.k(), local);
        DeviceSelection mine = onDevice(top, "shard.top");
        DeviceBuffer xhat = s.floats("train.xhat", (long) n * d);
        stages.forward.decode(state.params, mine, ranks.host.rank() == 0, xhat);
        ranks.allReduce(xhat, 0, 4L * n * d, ElementType.F32, ReduceOp.SUM);
        DeviceSelection mineAux = kAux > 0 ? onDevice(merge(b, beta, kAux, localAux), "shard.aux") : null;

        Losses losses = stages.backward.runSharded(state.params, b, mine, mineAux, xhat, cfg.auxAlpha(), state.grads, ranks);
        stages.update.run(state.params, state.grads, state.adamM, state.adamV, lr, ++state.step);
        ranks.fromRoot(state.params.bDec(), 4L * d);

        Selection fired = top.own().owned();
        DeviceSelection firedOnDevice = DeviceSelection.in(s, "shard.fired", fired.n(), 1);
        if (fired.n() > 0) firedOnDevice.upload(fired);
        state.fired(n, firedOnDevice.idx(), firedOnDevice.val(), fired.n());
        state.markDead(cfg.deadTokens());
        ownDead = (int) state.readCounters()[1];
        double[] counts = {top.positive(), ownDead};
        ranks.sum(counts);
        return new StepMetrics(losses.fvu(), losses.auxk(), losses.loss(), counts[0] / n, counts[1] / cfg.latents(), n);
    }

    /** The global selection of {@code width} per token from every rank's {@code offered} candidates (null offers none). */
    private GlobalTopK.Merged merge(DeviceBatch b, float beta, int width, DeviceSelection offered) {
        if (offered == null) return GlobalTopK.merge(ranks.host, shard, b.n(), width, null, null);
        float[] score = scores(scores, state.stages.scratch, state.params, b, beta, offered);
        return GlobalTopK.merge(ranks.host, shard, b.n(), width, offered.download(), score);
    }

    /** The scores of the {@code offered} pairs ({@code candidate_scores}), on the host [N, k]. */
    static float[] scores(Kernel kernel, Scratch s, DeviceParams p, DeviceBatch b, float beta, DeviceSelection offered) {
        DeviceBuffer out = s.floats("shard.scores", offered.pairs());
        kernel.launch(Kernel.blocks(offered.pairs(), SCORE_WARPS), 1, SCORE_WARPS * 32, offered.idx(), b.x(), b.g(), p.wEnc(), p.bEnc(),
                p.wDec(), p.bDec(), beta, (int) offered.pairs(), offered.k(), p.d(), out);
        float[] host = new float[(int) offered.pairs()];
        out.download(host);
        return host;
    }

    /** This rank's view of a merged selection, as the device kernels take it. */
    private DeviceSelection onDevice(GlobalTopK.Merged merged, String what) {
        Selection padded = merged.own().padded(shard.count());
        DeviceSelection out = DeviceSelection.in(state.stages.scratch, what, padded.n(), padded.k());
        out.upload(padded);
        return out;
    }

    @Override
    public Params gatherParams() {
        return ShardedStep.gather(ranks.host, shard, state.params());
    }
}
