package gsae.cpu;

import gsae.config.SaeConfig;
import gsae.ops.Backend;
import gsae.ops.HostTrainingStep;
import gsae.ops.Ops;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

/** A backend whose memory is the host's: one of the CPU operation sets behind the host training step. */
public final class CpuBackend implements Backend {

    private final String name;
    private final Ops ops;

    private CpuBackend(String name, Ops ops) {
        this.name = name;
        this.ops = ops;
    }

    /** The scalar oracle. */
    public static CpuBackend reference() {
        return new CpuBackend("reference", new ReferenceOps());
    }

    /** The fused Vector-API path on {@code threads} workers. */
    public static CpuBackend fast(int threads) {
        return new CpuBackend("cpu", new FastOps(threads));
    }

    /** The dense baseline on {@code threads} workers. */
    public static CpuBackend dense(int threads) {
        return new CpuBackend("dense", new DenseOps(threads));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Ops ops() {
        return ops;
    }

    @Override
    public TrainingStep open(SaeConfig cfg, TrainState init) {
        return new HostTrainingStep(cfg, ops, init);
    }
}
