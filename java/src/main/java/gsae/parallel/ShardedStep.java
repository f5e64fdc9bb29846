package gsae.parallel;

import gsae.comm.Collectives;
import gsae.ops.LatentShard;
import gsae.ops.Params;
import gsae.ops.TrainingStep;

import java.util.Arrays;

/**
 * A training step on one rank's share of the latents ({@link LatentShardedStep} on host arrays, the
 * CUDA backend's on the device): its state is the share, and the whole SAE is gathered on demand.
 */
public interface ShardedStep extends TrainingStep {

    /**
     * The whole SAE's parameters, gathered from every rank: a collective call (every rank calls it
     * at the same point), for inference and evaluation. Moves M·(2d + 1) floats to every rank.
     */
    Params gatherParams();

    /** The whole parameters from every rank's {@code own} share of {@code shard}'s latents (b_dec replicated). */
    static Params gather(Collectives comm, LatentShard shard, Params own) {
        int d = own.d(), rows = LatentShard.of(0, shard.ranks(), shard.latents()).count();
        for (int r = 1; r < shard.ranks(); r++) rows = Math.max(rows, LatentShard.of(r, shard.ranks(), shard.latents()).count());
        float[][] gathered = {padded(comm, own.wEnc(), rows * d), padded(comm, own.bEnc(), rows), padded(comm, own.wDec(), rows * d)};
        Params whole = Params.zeros(d, shard.latents());
        float[][] into = {whole.wEnc(), whole.bEnc(), whole.wDec()};
        for (int r = 0; r < shard.ranks(); r++) {
            LatentShard s = LatentShard.of(r, shard.ranks(), shard.latents());
            for (int t = 0; t < 3; t++) {
                int width = t == 1 ? 1 : d, block = rows * width;
                System.arraycopy(gathered[t], r * block, into[t], s.first() * width, s.count() * width);
            }
        }
        System.arraycopy(own.bDec(), 0, whole.bDec(), 0, d);
        return whole;
    }

    /** The ranks' arrays, each padded to {@code padded} values, concatenated in rank order. */
    private static float[] padded(Collectives comm, float[] mine, int padded) {
        return comm.allGather(Arrays.copyOf(mine, padded));
    }
}
