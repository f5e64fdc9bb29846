package gsae.train;

import gsae.ops.Params;
import gsae.ops.Scales;

import java.util.Map;

/** A hook the trainer calls every so many steps, e.g. the downstream loss on held-out teacher tokens. */
@FunctionalInterface
public interface PeriodicEval {

    /** Named scalars for {@code params} after {@code step}; they are logged with that step's metrics. */
    Map<String, Double> evaluate(long step, Params params, Scales scales);
}
