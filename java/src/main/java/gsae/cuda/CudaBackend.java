package gsae.cuda;

import gsae.config.SaeConfig;
import gsae.ops.Backend;
import gsae.ops.Ops;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

/** PLACEHOLDER (issue #4, being written): replaced by the real implementation before landing. */
public final class CudaBackend implements Backend {
    /** Null when a CUDA device and the kernels are usable, else one line saying why not. Never throws. */
    public static String unavailableReason() { return "the CUDA backend is not built yet"; }
    /** Opens the backend on device {@code ordinal}; throws IllegalStateException with one clear line on failure. */
    public static CudaBackend open(int ordinal) { throw new IllegalStateException(unavailableReason()); }
    @Override public String name() { return "cuda"; }
    @Override public Ops ops() { throw new UnsupportedOperationException(); }
    @Override public TrainingStep open(SaeConfig cfg, TrainState init) { throw new UnsupportedOperationException(); }
}
