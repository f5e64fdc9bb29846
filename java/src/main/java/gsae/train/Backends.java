package gsae.train;

import gsae.config.BackendKind;
import gsae.cpu.CpuBackend;
import gsae.cuda.CudaBackend;
import gsae.ops.Backend;

import java.io.PrintStream;

/** Chooses the backend once, loudly: CUDA when asked for or available, otherwise the CPU, with the reason. */
public final class Backends {

    private Backends() {}

    /**
     * The backend for {@code kind}. AUTO picks CUDA when a device and the kernels are there, else the
     * fast CPU path and prints one line saying why on {@code log}. CUDA asked for explicitly and
     * unavailable is an {@link IllegalStateException} with that reason.
     */
    public static Backend choose(BackendKind kind, int threads, PrintStream log) {
        return switch (kind) {
            case CPU -> CpuBackend.fast(threads);
            case REFERENCE -> CpuBackend.reference();
            case DENSE -> CpuBackend.dense(threads);
            case CUDA -> {
                String why = CudaBackend.unavailableReason();
                if (why != null) throw new IllegalStateException("--backend cuda: " + why);
                yield CudaBackend.open(0);
            }
            case AUTO -> {
                String why = CudaBackend.unavailableReason();
                if (why == null) yield CudaBackend.open(0);
                log.println("backend: cpu (" + why + ")");
                yield CpuBackend.fast(threads);
            }
        };
    }
}
