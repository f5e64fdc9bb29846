package gsae.ops;

/**
 * A device-resident training step: the backend owns parameters, Adam moments and dead-latent
 * counters; the trainer hands it batches and reads scalar metrics. Close it to release memory.
 */
public interface TrainingStep extends AutoCloseable {

    /** Forward, backward and update on one batch at learning rate lr. */
    StepMetrics step(Batch batch, float lr);

    /** Copies the whole state to the host (for checkpoints and evaluation). */
    TrainState snapshot();

    @Override
    void close();
}
