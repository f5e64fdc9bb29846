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
    private final Runnable release;

    private CpuBackend(String name, Ops ops, Runnable release) {
        this.name = name;
        this.ops = ops;
        this.release = release;
    }

    /** The scalar oracle. */
    public static CpuBackend reference() {
        return new CpuBackend("reference", new ReferenceOps(), () -> {});
    }

    /** The fused Vector-API path on {@code threads} workers. */
    public static CpuBackend fast(int threads) {
        return fast(threads, true);
    }

    /** The fused path, with the exact pruning of the gradient projection on or off (issue #14). */
    public static CpuBackend fast(int threads, boolean prune) {
        FastOps ops = new FastOps(threads, prune);
        return new CpuBackend("cpu", ops, ops::close);
    }

    /** The dense baseline on {@code threads} workers. */
    public static CpuBackend dense(int threads) {
        DenseOps ops = new DenseOps(threads);
        return new CpuBackend("dense", ops, ops::close);
    }

    /** Stops the worker threads of the fast and dense paths. */
    @Override
    public void close() {
        release.run();
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

    @Override
    public TrainingStep adopt(SaeConfig cfg, TrainState init) {
        return new HostTrainingStep(cfg, ops, init, false);
    }
}
