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
     * unavailable is an {@link IllegalStateException} with the reason
     * (CudaBackend.open says why in one line: no driver, kernels not built, unsupported GPU, out of memory).
     */
    public static Backend choose(BackendKind kind, int threads, PrintStream log) {
        return switch (kind) {
            case CPU -> CpuBackend.fast(threads);
            case REFERENCE -> CpuBackend.reference();
            case DENSE -> CpuBackend.dense(threads);
            case CUDA -> CudaBackend.open(0);
            case CUDA_DENSE -> CudaBackend.openDense(0);
            case AUTO -> {
                String why = CudaBackend.unavailableReason();
                if (why == null) {
                    try {
                        yield CudaBackend.open(0);
                    } catch (RuntimeException e) {
                        why = e.getMessage();
                    }
                }
                log.println("backend: cpu (" + why + ")");
                yield CpuBackend.fast(threads);
            }
        };
    }

    /** The dense baseline of the same device family as {@code kind}: cuBLAS for CUDA, Vector API products otherwise. */
    public static BackendKind denseOf(BackendKind kind) {
        return kind == BackendKind.CUDA || kind == BackendKind.CUDA_DENSE ? BackendKind.CUDA_DENSE : BackendKind.DENSE;
    }
}
