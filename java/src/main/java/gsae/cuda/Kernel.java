package gsae.cuda;

/**
 * One {@code extern "C"} kernel of a loaded family. {@link #launch} checks the grid and hands the
 * arguments to the driver's launcher; with {@code -Dgsae.cuda.syncLaunches=true} it also waits
 * after each launch, so that a fault is reported against the kernel that caused it.
 */
final class Kernel {

    private static final boolean SYNC_EACH = Boolean.getBoolean("gsae.cuda.syncLaunches");

    /** How a driver launches one kernel: grid (gridX, gridY), {@code threads} per block, arguments as {@link #launch} takes them. */
    @FunctionalInterface
    interface Launcher {
        void launch(int gridX, int gridY, int threads, Object[] args);
    }

    private final Driver driver;
    private final Launcher launcher;
    private final String name;

    Kernel(Driver driver, Launcher launcher, String name) {
        this.driver = driver;
        this.launcher = launcher;
        this.name = name;
    }

    /**
     * Launches with grid (gridX, gridY) and {@code threads} threads per block. Arguments:
     * {@link DeviceBuffer} (a pointer), null (a null pointer), Integer, Long, Float, Double, in
     * the kernel's parameter order.
     */
    void launch(long gridX, int gridY, int threads, Object... args) {
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535)
            throw new IllegalArgumentException(name + ": grid " + gridX + " × " + gridY + " is outside what CUDA launches");
        for (Object arg : args)
            if (!(arg == null || arg instanceof DeviceBuffer || arg instanceof Integer || arg instanceof Long || arg instanceof Float
                    || arg instanceof Double))
                throw new IllegalArgumentException(name + ": cannot pass a " + arg.getClass().getSimpleName() + " to a kernel");
        launcher.launch((int) gridX, gridY, threads, args);
        if (SYNC_EACH) driver.sync(name);
    }

    static long blocks(long work, int perBlock) {
        return (work + perBlock - 1) / perBlock;
    }
}
