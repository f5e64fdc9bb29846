package gsae.api;

import gsae.cpu.CpuBackend;
import gsae.cuda.CudaBackend;
import gsae.ops.Backend;

/** Opens the backend a builder asked for; AUTO's choice and its reason go to the log, not to a stream. */
final class Backends {

    private static final System.Logger LOG = System.getLogger(SaeTrainer.class.getName());

    private Backends() {}

    static Backend open(SaeBackend kind, int device, int threads) {
        return switch (kind) {
            case CPU -> CpuBackend.fast(threads);
            case REFERENCE -> CpuBackend.reference();
            case DENSE -> CpuBackend.dense(threads);
            case CUDA -> cuda(device, false);
            case CUDA_DENSE -> cuda(device, true);
            case AUTO -> {
                String why = CudaBackend.unavailableReason();
                if (why == null) {
                    try {
                        yield CudaBackend.open(device);
                    } catch (RuntimeException | LinkageError e) { // LinkageError: JCuda is optional and may be absent
                        why = e instanceof LinkageError ? "JCuda is not on the class path" : e.getMessage();
                    }
                }
                LOG.log(System.Logger.Level.INFO, "backend: cpu ({0})", why);
                yield CpuBackend.fast(threads);
            }
        };
    }

    private static Backend cuda(int device, boolean dense) {
        try {
            return dense ? CudaBackend.openDense(device) : CudaBackend.open(device);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("backend CUDA (device " + device + "): " + e.getMessage(), e);
        } catch (LinkageError e) {
            throw new IllegalStateException("backend CUDA: JCuda (org.jcuda:jcuda) is not on the class path", e);
        }
    }
}
