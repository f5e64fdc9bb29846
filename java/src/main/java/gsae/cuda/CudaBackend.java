package gsae.cuda;

import gsae.comm.Collectives;
import gsae.config.SaeConfig;
import gsae.ops.Backend;
import gsae.ops.Ops;
import gsae.ops.StartState;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.util.Locale;

/**
 * The CUDA backend on one device: the fused kernels (or the cuBLAS dense baseline) behind
 * {@link Ops} and a device-resident {@link TrainingStep}. The fused encoder multiplies in bf16 on
 * tensor cores unless {@code -Dgsae.cuda.precision=f32}. Close it to release the device.
 *
 * <p>The device is a GPU ordinal ("0", "1", …) or {@value #EMULATED}: the same kernels compiled
 * for the host and run by the emulated device ({@link EmulatedDevice}), which is only ever used
 * when named ({@link #open(String, Precision)}, {@code gsae selftest --device emulated}); the
 * ordinal entries and {@link #unavailableReason()} mean a GPU, so AUTO never picks the emulator.
 */
public final class CudaBackend implements Backend, AutoCloseable {

    /** The device name that selects the emulated device. */
    public static final String EMULATED = "emulated";

    private final Driver ctx;
    private final Kernels kernels;
    private final Stages.Mode mode;
    private CudaOps ops;

    private CudaBackend(Driver ctx, Kernels kernels, Stages.Mode mode) {
        this.ctx = ctx;
        this.kernels = kernels;
        this.mode = mode;
    }

    /** Null when a CUDA GPU and the kernels are usable, else one line saying why not. Never throws; probes once. */
    public static String unavailableReason() {
        return CudaProbe.reason();
    }

    /** Null when {@code device} (an ordinal or {@value #EMULATED}) is usable, else one line saying why not. Never throws. */
    public static String unavailableReason(String device) {
        return EMULATED.equals(device) ? EmulatedDevice.unavailableReason() : CudaProbe.reason();
    }

    /** The device selftest and the CUDA tests use when none is named: {@code -Dgsae.cuda.device} (an ordinal or {@value #EMULATED}), else "0". */
    public static String defaultDevice() {
        return System.getProperty("gsae.cuda.device", "0");
    }

    /** Opens the fused backend on GPU {@code ordinal} in the precision of {@code -Dgsae.cuda.precision} (bf16 by default). */
    public static CudaBackend open(int ordinal) {
        return open(ordinal, precisionProperty());
    }

    /** Opens the fused backend on GPU {@code ordinal}; IllegalStateException with one clear line on failure. */
    public static CudaBackend open(int ordinal, Precision precision) {
        return open(Integer.toString(ordinal), precision);
    }

    /** Opens the fused backend on {@code device}: a GPU ordinal or {@value #EMULATED}. */
    public static CudaBackend open(String device, Precision precision) {
        return open(device, precision == Precision.F32 ? Stages.Mode.FUSED_F32 : Stages.Mode.FUSED_BF16);
    }

    /** The dense baseline (cuBLAS through FFM) on GPU {@code ordinal}. */
    public static CudaBackend openDense(int ordinal) {
        return openDense(Integer.toString(ordinal));
    }

    /** The dense baseline on {@code device}; on the emulated device host GEMMs stand in for cuBLAS. */
    public static CudaBackend openDense(String device) {
        return open(device, Stages.Mode.DENSE);
    }

    private static CudaBackend open(String device, Stages.Mode mode) {
        String why = unavailableReason(device);
        if (why != null) throw new IllegalStateException(why);
        Driver ctx = EMULATED.equals(device) ? EmulatedDevice.open() : CudaContext.open(ordinal(device));
        try {
            return new CudaBackend(ctx, new Kernels(ctx), mode);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** The backend on an already opened driver (tests: an emulated device of a library of their choice); closing it closes the driver. */
    static CudaBackend open(Driver driver, Precision precision) {
        try {
            return new CudaBackend(driver, new Kernels(driver), precision == Precision.F32 ? Stages.Mode.FUSED_F32 : Stages.Mode.FUSED_BF16);
        } catch (RuntimeException e) {
            driver.close();
            throw e;
        }
    }

    private static int ordinal(String device) {
        try {
            return Integer.parseInt(device);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("CUDA device must be an ordinal (0, 1, …) or " + EMULATED + ", got " + device);
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

    /** "NVIDIA H200 (sm_90, 132 SMs)", or the emulated device and its settings. */
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
        return open(cfg, init, false);
    }

    /** Uploads {@code init} and keeps its arrays as the host side of {@link TrainingStep#state}, so a run holds one host copy. */
    @Override
    public TrainingStep adopt(SaeConfig cfg, TrainState init) {
        return open(cfg, init, true);
    }

    /**
     * Starts from {@code start} without a host copy of the state: a fresh state is drawn on the device
     * ({@code init_decoder}, the twin of the host's {@link gsae.ops.InitRandom}), a stored one is
     * uploaded a chunk at a time; host arrays already drawn or read are adopted instead.
     */
    @Override
    public TrainingStep start(SaeConfig cfg, StartState start) {
        return open(cfg, start, true);
    }

    /**
     * Data parallel with the state on this device: {@link CudaTrainingStep} over {@link DeviceRanks}
     * (NCCL where every rank has it, else {@code group} staged through host memory). A collective
     * call: every rank of {@code group} makes it, each on its own device.
     */
    @Override
    public TrainingStep startDataParallel(SaeConfig cfg, StartState start, Collectives group) {
        ctx.makeCurrent();
        DeviceRanks ranks = DeviceRanks.open(ctx, group);
        Stages stages = null;
        try {
            stages = new Stages(ctx, kernels, mode);
            return new CudaTrainingStep(cfg, stages, kernels, start, true, ranks);
        } catch (RuntimeException e) {
            if (stages != null) stages.close();
            ranks.close();
            throw e;
        }
    }

    /**
     * Latent sharded with this rank's share on this device ({@link CudaShardedStep}), or null when a
     * share would hold fewer than max(k, aux_k) latents (the host step trains those). A collective
     * call: every rank of {@code group} makes it, each on its own device.
     */
    @Override
    public TrainingStep startLatentSharded(SaeConfig cfg, StartState start, Collectives group) {
        if (!CudaShardedStep.fits(cfg, group.size())) return null;
        ctx.makeCurrent();
        DeviceRanks ranks = DeviceRanks.open(ctx, group);
        Stages stages = null;
        try {
            stages = new Stages(ctx, kernels, mode);
            return new CudaShardedStep(cfg, stages, kernels, start, ranks);
        } catch (RuntimeException e) {
            if (stages != null) stages.close();
            ranks.close();
            throw e;
        }
    }

    @Override
    public boolean keepsStateOnHost() {
        return false;
    }

    private TrainingStep open(SaeConfig cfg, TrainState init, boolean adopt) {
        return open(cfg, new StartState.Held(init), adopt);
    }

    private TrainingStep open(SaeConfig cfg, StartState start, boolean adopt) {
        ctx.makeCurrent();
        Stages stages = new Stages(ctx, kernels, mode);
        try {
            return new CudaTrainingStep(cfg, stages, kernels, start, adopt);
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
