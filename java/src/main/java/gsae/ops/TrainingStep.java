package gsae.ops;

/**
 * A device-resident training step: the backend owns parameters, Adam moments and dead-latent
 * counters; the trainer hands it batches and reads scalar metrics. Close it to release memory.
 */
public interface TrainingStep extends AutoCloseable {

    /** Forward, backward and update on one batch at learning rate lr. */
    StepMetrics step(Batch batch, float lr);

    /** Copies the whole state to the host: a copy the caller owns, unaffected by later steps. */
    TrainState snapshot();

    /**
     * The state for reading now (checkpoints, evaluation), valid until the next {@link #step} and
     * never to be modified. Host backends return their live arrays, so reading it costs no memory;
     * device backends download into one set of host arrays reused by every call (those of an
     * adopted initial state when there is one).
     */
    default TrainState state() {
        return snapshot();
    }

    /**
     * The parameters alone, for reading now as {@link #state} (evaluation during training): device
     * backends download only them, a third of the state's bytes.
     */
    default Params params() {
        return state().params();
    }

    /**
     * The state as tensors read chunk by chunk, valid until the next {@link #step}: what checkpoints
     * are written from. Host backends read their live arrays; device backends read device memory a
     * chunk at a time, so no whole host copy is made.
     */
    default StateChunks chunks() {
        return StateChunks.of(state());
    }

    /**
     * The host arrays the step trains in, still valid after {@link #close}, or null for a device
     * backend: what lets a caller keep the state of a host run without a copy, and without forcing
     * one on a device run.
     */
    default TrainState hostState() {
        return null;
    }

    @Override
    void close();
}
