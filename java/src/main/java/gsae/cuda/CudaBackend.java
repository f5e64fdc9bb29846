package gsae.cuda;

import gsae.config.SaeConfig;
import gsae.ops.Backend;
import gsae.ops.Ops;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.util.Locale;

/**
 * The CUDA backend on one device: the fused kernels (or the cuBLAS dense baseline) behind
 * {@link Ops} and a device-resident {@link TrainingStep}. The fused encoder multiplies in bf16 on
 * tensor cores unless {@code -Dgsae.cuda.precision=f32}. Close it to release the device.
 */
public final class CudaBackend implements Backend, AutoCloseable {

    private final CudaContext ctx;
    private final Kernels kernels;
    private final Stages.Mode mode;
    private CudaOps ops;

    private CudaBackend(CudaContext ctx, Kernels kernels, Stages.Mode mode) {
        this.ctx = ctx;
        this.kernels = kernels;
        this.mode = mode;
    }

    /** Null when a CUDA device and the kernels are usable, else one line saying why not. Never throws; probes once. */
    public static String unavailableReason() {
        return CudaProbe.reason();
    }

    /** Opens the fused backend on device {@code ordinal} in the precision of {@code -Dgsae.cuda.precision} (bf16 by default). */
    public static CudaBackend open(int ordinal) {
        return open(ordinal, precisionProperty());
    }

    /** Opens the fused backend on device {@code ordinal}; IllegalStateException with one clear line on failure. */
    public static CudaBackend open(int ordinal, Precision precision) {
        return open(ordinal, precision == Precision.F32 ? Stages.Mode.FUSED_F32 : Stages.Mode.FUSED_BF16);
    }

    /** The dense baseline (cuBLAS through FFM) on device {@code ordinal}. */
    public static CudaBackend openDense(int ordinal) {
        return open(ordinal, Stages.Mode.DENSE);
    }

    private static CudaBackend open(int ordinal, Stages.Mode mode) {
        String why = unavailableReason();
        if (why != null) throw new IllegalStateException(why);
        CudaContext ctx = CudaContext.open(ordinal);
        try {
            return new CudaBackend(ctx, new Kernels(ctx), mode);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    static Precision precisionProperty() {
        String v = System.getProperty("gsae.cuda.precision", "bf16").toUpperCase(Locale.ROOT);
        try {
            return Precision.valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Dgsae.cuda.precision must be f32 or bf16, got " + v.toLowerCase(Locale.ROOT));
        }
    }

    @Override
    public String name() {
        return mode == Stages.Mode.DENSE ? "cuda-dense" : "cuda";
    }

    /** "NVIDIA H200 (sm_90, 132 SMs)". */
    public String device() {
        return ctx.describe();
    }

    @Override
    public synchronized Ops ops() {
        ctx.makeCurrent();
        if (ops == null) ops = new CudaOps(new Stages(ctx, kernels, mode));
        return ops;
    }

    @Override
    public TrainingStep open(SaeConfig cfg, TrainState init) {
        ctx.makeCurrent();
        Stages stages = new Stages(ctx, kernels, mode);
        try {
            return new CudaTrainingStep(cfg, stages, kernels, init);
        } catch (RuntimeException e) {
            stages.close();
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        ctx.makeCurrent();
        try {
            if (ops != null) ops.close();
            kernels.close();
        } finally {
            ctx.close();
        }
    }
}
