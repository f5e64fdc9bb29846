package gsae.ops;

import gsae.comm.Collectives;
import gsae.config.SaeConfig;

/** One implementation of the operations, able to open device-resident training steps. Close it to release its device or threads. */
public interface Backend extends AutoCloseable {

    /** A short name for logs and tables, e.g. "cpu", "reference", "cuda". */
    String name();

    /** Stateless stage primitives on host arrays (for tests, {@code gsae step} and evaluation). */
    Ops ops();

    /** A training step that starts from {@code init} (copied; the caller keeps its arrays). */
    TrainingStep open(SaeConfig cfg, TrainState init);

    /**
     * A training step that takes {@code init} over: the caller must not use it afterwards. Host
     * backends train in its arrays, so a run holds one copy of the state, not two; device backends
     * upload it and download into its arrays when {@link TrainingStep#state} is read.
     */
    default TrainingStep adopt(SaeConfig cfg, TrainState init) {
        return open(cfg, init);
    }

    /**
     * A training step that starts from {@code start} and takes it over, as {@link #adopt} does. Host
     * backends train in {@link StartState#host()}; a device backend draws a fresh state on the device
     * and uploads a stored one in chunks, so no host copy of the state is made.
     */
    default TrainingStep start(SaeConfig cfg, StartState start) {
        return adopt(cfg, start.host());
    }

    /**
     * A data-parallel step of this backend's own over {@code group}, which takes {@code start} over,
     * or null (the default) when the backend trains data parallel through its host {@link #ops}
     * ({@code gsae.parallel.DataParallelStep}). A collective call: every rank of {@code group} makes it.
     */
    default TrainingStep startDataParallel(SaeConfig cfg, StartState start, Collectives group) {
        return null;
    }

    /**
     * A latent-sharded step of this backend's own on this rank's share of {@code start}'s latents
     * over {@code group}, or null (the default) when the backend trains latent sharded through its
     * host {@link #ops} ({@code gsae.parallel.LatentShardedStep}). A collective call.
     */
    default TrainingStep startLatentSharded(SaeConfig cfg, StartState start, Collectives group) {
        return null;
    }

    /**
     * True when training keeps the state in host arrays (so M·d must fit one Java array, see
     * {@link gsae.config.Sizes#hostState}); false for a device backend.
     */
    default boolean keepsStateOnHost() {
        return true;
    }

    @Override
    default void close() {}
}
