package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Scales;
import gsae.ops.StartState;

/** The starting point of a fresh run, shaped like a checkpoint at step 0 so that fresh and resumed runs share one loop. */
public final class Initializer {

    private Initializer() {}

    /**
     * Estimates the scales on the first {@code train.scaleTokens()} tokens, sets up SPEC §5's
     * initialisation with b_dec = the mean of the first scaled batch, and rewinds the source: the
     * first training step sees that same batch. The parameters are drawn when the backend starts
     * (on the device for CUDA, see {@link StartState.Fresh}), so no host copy is made here.
     *
     * @param data what the run trains on, stored in checkpoints
     */
    public static Checkpoint fresh(SaeConfig sae, TrainConfig train, BatchSource source, DataRecord data) {
        if (source.d() != sae.d())
            throw new UserError(source.describe() + " has width " + source.d() + " but the SAE expects d=" + sae.d());
        source.seek(0);
        Scales scales = ScaleEstimator.estimate(source, train.scaleTokens(), train.batch(), train.scaleActs());
        source.seek(0);
        float[] mean = Batches.mean(new Batches(source, scales, train.batch()).next());
        source.seek(0);
        return new Checkpoint(sae, train, scales, new StartState.Fresh(sae.d(), sae.latents(), train.seed(), mean), 0, data);
    }
}
