package gsae.io;

import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.Scales;
import gsae.ops.TrainState;

import java.nio.file.Path;

/**
 * PLACEHOLDER (issue #2, being written): a checkpoint directory; replaced before landing.
 *
 * @param sae          the SAE's configuration
 * @param train        the run's configuration
 * @param scales       grad_scale and act_scale
 * @param state        parameters, Adam moments, step, dead counters
 * @param dataPosition tokens consumed from the data source
 * @param data         where the data came from: "teacher" or the shard paths, one line
 */
public record Checkpoint(SaeConfig sae, TrainConfig train, Scales scales, TrainState state, long dataPosition, String data) {
    /** Loads a checkpoint directory; a missing or damaged one is a DataException naming the file. */
    public static Checkpoint load(Path dir) { throw new UnsupportedOperationException(); }
    /** Writes this checkpoint to {@code dir} atomically: a crash mid-write leaves the previous one loadable. */
    public void save(Path dir) { throw new UnsupportedOperationException(); }
}
