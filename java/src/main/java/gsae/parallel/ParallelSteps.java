package gsae.parallel;

import gsae.comm.Collectives;
import gsae.config.ParallelMode;
import gsae.config.SaeConfig;
import gsae.config.UserError;
import gsae.ops.Backend;
import gsae.ops.StartState;
import gsae.ops.TrainingStep;

/** The training step of each {@link ParallelMode}: the one place the trainer and the library's {@code SaeTrainer} open steps. */
public final class ParallelSteps {

    private ParallelSteps() {}

    /**
     * The step of {@code mode} on this rank of {@code group}, which takes {@code init} over. Data
     * parallel: the backend's own step when it has one (the CUDA backend keeps the state on the
     * device, {@link Backend#startDataParallel}), else {@link DataParallelStep} on its host ops.
     * Latent sharded: the backend's own step when it has one ({@link Backend#startLatentSharded}:
     * the CUDA backend keeps the share on the device), else {@link LatentShardedStep}; either on this
     * rank's share of {@code init} alone, which the rank draws or reads without building the whole
     * state ({@link StartState#shard}).
     */
    public static TrainingStep open(ParallelMode mode, Backend backend, SaeConfig cfg, StartState init, Collectives group) {
        return switch (mode) {
            case NONE -> backend.start(cfg, init);
            case DATA -> {
                TrainingStep onDevice = backend.startDataParallel(cfg, init, group);
                yield onDevice != null ? onDevice : new DataParallelStep(cfg, backend.ops(), init.host(), group);
            }
            case LATENTS -> {
                if (cfg.latents() < group.size())
                    throw new UserError("--latents " + cfg.latents() + " is fewer than the " + group.size() + " ranks of --parallel latents: every rank needs a latent");
                TrainingStep onDevice = backend.startLatentSharded(cfg, init, group);
                yield onDevice != null ? onDevice : LatentShardedStep.start(cfg, backend.ops(), group, init);
            }
        };
    }
}
