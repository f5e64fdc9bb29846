package gsae.api;

import gsae.config.BackendKind;
import gsae.cuda.CudaBackend;
import gsae.ops.Backend;
import gsae.train.Backends;

import java.io.PrintStream;

/**
 * An opened backend, chosen once and loudly, for the whole-run entry points ({@link DataRun},
 * {@link Evaluation}, {@link StepBench}): {@link SaeBackend#AUTO} takes CUDA when a device and the
 * kernels are there, else the CPU, and says why in one line on the stream the caller gives. A CUDA
 * backend asked for and unavailable is a {@code gsae.config.UserError} naming {@code --backend}.
 * Close it to release device memory or worker threads.
 */
public final class Engine implements AutoCloseable {

    private final Backend backend;

    private Engine(Backend backend) {
        this.backend = backend;
    }

    /**
     * Opens {@code kind} on CUDA device 0 or with {@code threads} CPU workers.
     *
     * @param log     where AUTO's fallback line goes ("backend: cpu (no CUDA driver found)")
     * @param details also print the driver's own words on a second line when they differ
     */
    public static Engine open(SaeBackend kind, int threads, PrintStream log, boolean details) {
        return open(kind, 0, threads, log, details);
    }

    /** {@link #open(SaeBackend, int, PrintStream, boolean)} on CUDA device {@code device} (0, 1, … as the driver counts them). */
    public static Engine open(SaeBackend kind, int device, int threads, PrintStream log, boolean details) {
        if (device < 0) throw new IllegalArgumentException("CUDA device index must be ≥ 0, got " + device);
        return new Engine(Backends.choose(BackendKind.valueOf(kind.name()), device, threads, log, details));
    }

    /** Why no CUDA backend can open here (no driver, no device, kernels not built), or null when one can. */
    public static String cudaUnavailableReason() {
        return CudaBackend.unavailableReason();
    }

    static Engine of(Backend backend) {
        return new Engine(backend);
    }

    /** The backend's name as reports print it (e.g. "cpu-fast", "cuda:0 …"). */
    public String name() {
        return backend.name();
    }

    /** The name of the backend's operations, as {@code gsae eval} reports it (for CUDA it names the device). */
    public String opsName() {
        return backend.ops().name();
    }

    Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        backend.close();
    }
}
