package gsae.ops;

import gsae.config.SaeConfig;

/** One implementation of the operations, able to open device-resident training steps. Close it to release its device or threads. */
public interface Backend extends AutoCloseable {

    /** A short name for logs and tables, e.g. "cpu", "reference", "cuda". */
    String name();

    /** Stateless stage primitives on host arrays (for tests, {@code gsae step} and evaluation). */
    Ops ops();

    /** A training step that starts from {@code init} (copied; the caller keeps its arrays). */
    TrainingStep open(SaeConfig cfg, TrainState init);

    @Override
    default void close() {}
}
