package gsae.train;

import gsae.config.BackendKind;
import gsae.config.UserError;
import gsae.cpu.CpuBackend;
import gsae.cuda.CudaBackend;
import gsae.ops.Backend;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/** Chooses the backend once, loudly: CUDA when asked for or available, otherwise the CPU, with the reason. */
public final class Backends {

    private Backends() {}

    /** {@link #choose(BackendKind, int, PrintStream, boolean)} with the short fallback line only. */
    public static Backend choose(BackendKind kind, int threads, PrintStream log) {
        return choose(kind, threads, log, false);
    }

    /** {@link #choose(BackendKind, int, int, PrintStream, boolean)} on CUDA device 0. */
    public static Backend choose(BackendKind kind, int threads, PrintStream log, boolean details) {
        return choose(kind, 0, threads, log, details);
    }

    /**
     * The backend for {@code kind}. AUTO picks CUDA when a device and the kernels are there, else the
     * fast CPU path and prints one plain line saying why on {@code log} (and, with {@code details},
     * the driver's own words on a second line). CUDA asked for explicitly and unavailable is a
     * {@link UserError} with the reason (CudaBackend.open says why in one line: no driver, kernels
     * not built, unsupported GPU, out of memory).
     */
    public static Backend choose(BackendKind kind, int device, int threads, PrintStream log, boolean details) {
        return switch (kind) {
            case CPU -> CpuBackend.fast(threads);
            case REFERENCE -> CpuBackend.reference();
            case DENSE -> CpuBackend.dense(threads);
            case CUDA -> cuda(kind, () -> CudaBackend.open(device));
            case CUDA_DENSE -> cuda(kind, () -> CudaBackend.openDense(device));
            case AUTO -> {
                String why = CudaBackend.unavailableReason();
                if (why == null) {
                    try {
                        yield CudaBackend.open(device);
                    } catch (RuntimeException e) {
                        why = e.getMessage();
                    }
                }
                log.println("backend: cpu (" + summary(why) + ")");
                if (details && !summary(why).equals(why)) log.println("backend: " + why);
                yield CpuBackend.fast(threads);
            }
        };
    }

    /** The reason without the driver's exception text, which means nothing to most users. */
    static String summary(String why) {
        return why.startsWith("no CUDA driver") ? "no CUDA driver found" : why;
    }

    private static Backend cuda(BackendKind kind, Supplier<Backend> open) {
        try {
            return open.get();
        } catch (IllegalStateException e) {
            throw new UserError("--backend " + kind.name().toLowerCase(Locale.ROOT).replace('_', '-') + ": " + e.getMessage(), e);
        }
    }

    /** The dense baseline of the same device family as {@code kind}: cuBLAS for CUDA, Vector API products otherwise. */
    public static BackendKind denseOf(BackendKind kind) {
        return kind == BackendKind.CUDA || kind == BackendKind.CUDA_DENSE ? BackendKind.CUDA_DENSE : BackendKind.DENSE;
    }
}
