package gsae.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The emulated CUDA device: kernels/*.cu compiled by the host C++ compiler into libgsae_emu.so
 * (emulator/, built by {@code make emulator}) and bound here through FFM. Every launch runs to
 * completion before it returns, each CUDA thread a fiber, and fails with one line naming kernel,
 * block and thread when the emulator catches an out-of-bounds access, a partial barrier, a bad
 * warp mask, a deadlock or, when verifying, a result that changes with the thread order. Device
 * memory is host memory between guard pages, so copies are plain memory copies; the dense
 * baseline's GEMMs run on the host ({@link HostGemm}).
 *
 * <p>Settings: {@code -Dgsae.emulator.schedule=forward|reverse|random} (thread and block order,
 * forward by default), {@code -Dgsae.emulator.verify=N} (rerun every launch N more times, 0–2,
 * under the other orders and another shared-memory poison and require the same bits; 1 by
 * default), {@code -Dgsae.emulator.seed=S} (poison words and random orders; a fresh one per run
 * by default, shown by {@link #describe}), {@code -Dgsae.emulator.timeout=SECONDS} (the watchdog, 120), {@code -Dgsae.cuda.emulator=path} (the library, see
 * {@link EmulatorLibrary}).
 */
final class EmulatedDevice implements Driver {

    /** The emulator's thread and block orders, as the library numbers them. */
    enum Schedule { FORWARD, REVERSE, RANDOM }

    /**
     * How launches run.
     *
     * @param schedule       the first run's thread and block order
     * @param verify         extra runs of every launch in the other orders that must leave the same bits (0–2)
     * @param seed           poison words and random orders
     * @param timeoutSeconds how long one run of a launch may take before the watchdog ends it
     */
    record Settings(Schedule schedule, int verify, long seed, int timeoutSeconds) {

        /** The default watchdog: far above any test launch, far below a CI job's limit. */
        static final int TIMEOUT_SECONDS = 120;

        Settings {
            if (verify < 0 || verify > 2) throw new IllegalArgumentException("-Dgsae.emulator.verify must be 0, 1 or 2, got " + verify);
            if (timeoutSeconds < 1) throw new IllegalArgumentException("-Dgsae.emulator.timeout must be ≥ 1 second, got " + timeoutSeconds);
        }

        Settings(Schedule schedule, int verify, long seed) {
            this(schedule, verify, seed, TIMEOUT_SECONDS);
        }

        static Settings fromProperties() {
            String order = System.getProperty("gsae.emulator.schedule", "forward");
            Schedule schedule;
            try {
                schedule = Schedule.valueOf(order.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-Dgsae.emulator.schedule must be forward, reverse or random, got " + order);
            }
            String seed = System.getProperty("gsae.emulator.seed");
            return new Settings(schedule, Integer.getInteger("gsae.emulator.verify", 1),
                    seed != null ? Long.decode(seed) : System.nanoTime() ^ 0x5DEECE66DL, Integer.getInteger("gsae.emulator.timeout", TIMEOUT_SECONDS));
        }
    }

    /**
     * Held by every entry that touches device memory or the library's settings, for all devices of the
     * process: a launch that verifies restores all of device memory between its runs, so a copy by
     * another thread (another rank's device) in the meantime would be lost, and a launch must run
     * under its own device's settings. The library serialises its own entries too. (The dense
     * baseline's host GEMMs are not covered: run one dense emulated device per process.)
     */
    private static final Object LIBRARY = new Object();

    private final EmulatorLibrary lib;
    private final Settings settings;

    private EmulatedDevice(EmulatorLibrary lib, Settings settings) {
        this.lib = lib;
        this.settings = settings;
    }

    /** Hands this device's settings to the library, which devices on the same file share. */
    private void configure() throws Throwable {
        lib.configure().invokeExact(settings.schedule().ordinal(), settings.verify(), settings.seed(), settings.timeoutSeconds() * 1000);
    }

    /** The device of the library that {@link EmulatorLibrary#find} finds, with the settings of the system properties. */
    static EmulatedDevice open() {
        Path path = EmulatorLibrary.find();
        if (path == null) throw new IllegalStateException(EmulatorLibrary.missing());
        return open(path, Settings.fromProperties());
    }

    static EmulatedDevice open(Path library, Settings settings) {
        return new EmulatedDevice(EmulatorLibrary.load(library), settings);
    }

    /** Null when the emulated device can be opened, else one line saying why not. Never throws. */
    static String unavailableReason() {
        try {
            Path path = EmulatorLibrary.find();
            if (path == null) return EmulatorLibrary.missing();
            EmulatorLibrary.load(path);
            return null;
        } catch (Throwable t) {
            return "the emulated CUDA device cannot be loaded: " + CudaProbe.oneLine(t);
        }
    }

    @Override
    public String describe() {
        return "emulated CUDA device (" + lib.path().getFileName() + ", " + settings.schedule().name().toLowerCase(Locale.ROOT) + " order, "
                + (settings.verify() == 0 ? "no rerun" : "each launch rerun " + settings.verify() + "× in another order")
                + ", seed 0x" + Long.toHexString(settings.seed()) + ")";
    }

    @Override
    public void makeCurrent() {
        // usable from any thread; devices in one process share the library, each entry serialised (LIBRARY)
    }

    @Override
    public void sync(String after) {
        // every launch has finished, and reported its faults, when it returns
    }

    @Override
    public long allocate(long bytes, String what) {
        synchronized (LIBRARY) {
            try (Arena a = Arena.ofConfined()) {
                configure();
                long address = (long) lib.malloc().invokeExact(bytes, a.allocateFrom(what));
                if (address == 0) throw new CudaException("emulated device: " + lastError());
                return address;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw rethrow(t, "gsae_emu_malloc");
            }
        }
    }

    @Override
    public void free(long address, String what) {
        synchronized (LIBRARY) {
            try {
                if ((int) lib.free().invokeExact(address) != 0) throw new CudaException("emulated device: freeing " + what + ": " + lastError());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw rethrow(t, "gsae_emu_free");
            }
        }
    }

    @Override
    public void copyIn(long dst, Object array, long bytes, String what) {
        synchronized (LIBRARY) {
            MemorySegment.copy(heap(array), 0, device(dst, bytes, what), 0, bytes);
        }
    }

    @Override
    public void copyOut(Object array, long src, long bytes, String what) {
        synchronized (LIBRARY) {
            MemorySegment.copy(device(src, bytes, what), 0, heap(array), 0, bytes);
        }
    }

    @Override
    public void fill32(long dst, int bits, long words, String what) {
        synchronized (LIBRARY) {
            MemorySegment s = device(dst, 4 * words, what);
            for (long i = 0; i < words; i++) s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, bits);
        }
    }

    @Override
    public void zero(long dst, long bytes, String what) {
        synchronized (LIBRARY) {
            device(dst, bytes, what).fill((byte) 0);
        }
    }

    @Override
    public long hostAllocate(long bytes, String what) {
        return allocate(bytes, what);
    }

    @Override
    public void hostFree(long address) {
        free(address, "host staging memory");
    }

    @Override
    public void copyInAsync(long dst, long hostSrc, long bytes) {
        synchronized (LIBRARY) {
            MemorySegment.copy(device(hostSrc, bytes, "host staging memory"), 0, device(dst, bytes, "device buffer"), 0, bytes);
        }
    }

    @Override
    public void copyOutToHost(long hostDst, long src, long offset, long bytes, String what) {
        synchronized (LIBRARY) {
            MemorySegment.copy(device(src + offset, bytes, what), 0, device(hostDst, bytes, "host staging memory"), 0, bytes);
        }
    }

    @Override
    public void loadModule(String family) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) lib.hasFamily().invokeExact(a.allocateFrom(family)) == 0)
                throw new CudaException(lib.path() + " has no kernels of family " + family + " (kernels/" + family + ".cu): rebuild with make emulator");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t, "gsae_emu_has_family");
        }
    }

    @Override
    public void unloadModules() {
        // the kernels live as long as the library
    }

    @Override
    public Kernel.Launcher launcher(String family, String name) {
        int index;
        try (Arena a = Arena.ofConfined()) {
            index = (int) lib.kernel().invokeExact(a.allocateFrom(family), a.allocateFrom(name));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t, "gsae_emu_kernel");
        }
        if (index < 0) throw new CudaException("emulated device: no kernel " + family + "/" + name);
        return (gridX, gridY, threads, args) -> launch(index, name, gridX, gridY, threads, args);
    }

    private void launch(int index, String name, int gridX, int gridY, int threads, Object[] args) {
        synchronized (LIBRARY) {
            int n = args.length;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment values = a.allocate(8L * Math.max(1, n), 8), pointers = a.allocate(ADDRESS, Math.max(1, n)),
                        sizes = a.allocate(JAVA_INT, Math.max(1, n));
                for (int i = 0; i < n; i++) {
                    long at = 8L * i;
                    int size = switch (args[i]) {
                        case null -> { values.set(JAVA_LONG, at, 0L); yield 8; }
                        case DeviceBuffer b -> { values.set(JAVA_LONG, at, b.address()); yield 8; }
                        case Integer v -> { values.set(JAVA_INT, at, v); yield 4; }
                        case Long v -> { values.set(JAVA_LONG, at, v); yield 8; }
                        case Float v -> { values.set(ValueLayout.JAVA_FLOAT, at, v); yield 4; }
                        case Double v -> { values.set(ValueLayout.JAVA_DOUBLE, at, v); yield 8; }
                        default -> throw new IllegalArgumentException(name + ": cannot pass a " + args[i].getClass().getSimpleName() + " to a kernel");
                    };
                    pointers.setAtIndex(ADDRESS, i, values.asSlice(at, 8));
                    sizes.setAtIndex(JAVA_INT, i, size);
                }
                configure();
                int rc = (int) lib.launch().invokeExact(index, gridX, gridY, 1, threads, 1, 1, 0, n, pointers, sizes);
                if (rc != 0) throw new CudaException("emulated launch of " + name + " (grid " + gridX + "×" + gridY + ", " + threads + " threads) failed: " + lastError());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw rethrow(t, "gsae_emu_launch");
            }
        }
    }

    @Override
    public Gemm gemm() {
        return new HostGemm(this);
    }

    /** {@code bytes} of device memory at {@code address}, checked to lie inside one live buffer. */
    MemorySegment device(long address, long bytes, String what) {
        try {
            if ((int) lib.checkRange().invokeExact(address, bytes) != 0) throw new CudaException("emulated device: " + what + ": " + lastError());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t, "gsae_emu_check_range");
        }
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    private static MemorySegment heap(Object array) {
        return switch (array) {
            case float[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            case byte[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            default -> throw new IllegalArgumentException("cannot copy a " + array.getClass().getSimpleName());
        };
    }

    private String lastError() {
        try {
            return ((MemorySegment) lib.error().invokeExact()).reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "(no message: " + t + ")";
        }
    }

    private static IllegalStateException rethrow(Throwable t, String call) {
        return new IllegalStateException(call + " failed: " + t, t);
    }

    @Override
    public void close() {
        // buffers are freed by their owners; the library stays loaded for the process
    }
}
