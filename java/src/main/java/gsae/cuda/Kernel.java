package gsae.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * One {@code extern "C"} kernel of a loaded fatbin. {@link #launch} packs the arguments the way
 * cuLaunchKernel wants them and checks the launch; with {@code -Dgsae.cuda.syncLaunches=true}
 * it also waits after each launch, so that a fault is reported against the kernel that caused it.
 */
final class Kernel {

    private static final boolean SYNC_EACH = Boolean.getBoolean("gsae.cuda.syncLaunches");

    private final CudaContext ctx;
    private final CUfunction function;
    private final String name;

    Kernel(CudaContext ctx, CUfunction function, String name) {
        this.ctx = ctx;
        this.function = function;
        this.name = name;
    }

    /**
     * Launches on the context's stream with grid (gridX, gridY) and {@code threads} threads per
     * block. Arguments: {@link DeviceBuffer} or {@link CUdeviceptr} (pointers), null (a null
     * pointer), Integer, Long, Float, Double, in the kernel's parameter order.
     */
    void launch(long gridX, int gridY, int threads, Object... args) {
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535)
            throw new IllegalArgumentException(name + ": grid " + gridX + " × " + gridY + " is outside what CUDA launches");
        NativePointerObject[] packed = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) packed[i] = pack(args[i]);
        CudaException.check(JCudaDriver.cuLaunchKernel(function, (int) gridX, gridY, 1, threads, 1, 1, 0, ctx.stream,
                Pointer.to(packed), null), "cuLaunchKernel(" + name + ", grid " + gridX + "×" + gridY + ", " + threads + " threads)");
        if (SYNC_EACH) ctx.sync(name);
    }

    private Pointer pack(Object arg) {
        return switch (arg) {
            case null -> Pointer.to(new CUdeviceptr());
            case DeviceBuffer b -> Pointer.to(b.ptr());
            case CUdeviceptr p -> Pointer.to(p);
            case Integer v -> Pointer.to(new int[]{v});
            case Long v -> Pointer.to(new long[]{v});
            case Float v -> Pointer.to(new float[]{v});
            case Double v -> Pointer.to(new double[]{v});
            default -> throw new IllegalArgumentException(name + ": cannot pass a " + arg.getClass().getSimpleName() + " to a kernel");
        };
    }

    static long blocks(long work, int perBlock) {
        return (work + perBlock - 1) / perBlock;
    }
}
