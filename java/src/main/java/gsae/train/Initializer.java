package gsae.train;

import gsae.comm.Collectives;
import gsae.comm.SingleProcess;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.TrainState;

import java.util.Arrays;

/** The starting point of a fresh run, shaped like a checkpoint at step 0 so that fresh and resumed runs share one loop. */
public final class Initializer {

    private Initializer() {}

    /**
     * Estimates the scales on the first {@code train.scaleTokens()} tokens, initialises the
     * parameters (SPEC §5) with b_dec = the mean of the first scaled batch, and rewinds the source:
     * the first training step sees that same batch.
     *
     * @param data what the run trains on, stored in checkpoints
     */
    public static Checkpoint fresh(SaeConfig sae, TrainConfig train, BatchSource source, DataRecord data) {
        return fresh(sae, train, source, data, new SingleProcess());
    }

    /**
     * {@link #fresh(SaeConfig, TrainConfig, BatchSource, DataRecord)} for every rank of {@code group}:
     * rank 0 estimates the scales and the first global batch's mean exactly as one process does and
     * broadcasts them (d + 2 floats); every rank then draws the same seeded parameters. Every rank
     * rewinds its source.
     */
    public static Checkpoint fresh(SaeConfig sae, TrainConfig train, BatchSource source, DataRecord data, Collectives group) {
        if (source.d() != sae.d())
            throw new UserError(source.describe() + " has width " + source.d() + " but the SAE expects d=" + sae.d());
        float[] shared = new float[sae.d() + 2]; // b_dec's start [d], grad_scale, act_scale
        if (group.rank() == 0) {
            source.seek(0);
            Scales scales = ScaleEstimator.estimate(source, train.scaleTokens(), train.batch(), train.scaleActs());
            source.seek(0);
            float[] mean = Batches.mean(new Batches(source, scales, train.batch()).next());
            System.arraycopy(mean, 0, shared, 0, sae.d());
            shared[sae.d()] = scales.gradScale();
            shared[sae.d() + 1] = scales.actScale();
        }
        group.broadcast(shared, 0);
        source.seek(0);
        Scales scales = new Scales(shared[sae.d()], shared[sae.d() + 1]);
        Params p = Params.init(sae.d(), sae.latents(), train.seed(), Arrays.copyOf(shared, sae.d()));
        return new Checkpoint(sae, train, scales, TrainState.fresh(p), 0, data);
    }
}
