package gsae.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Decides once whether the CUDA backend can run here, and if not, why, in one line. The driver
 * library is looked for through FFM before any JCuda class is touched: JCuda's static
 * initialiser throws UnsatisfiedLinkError (and every later use NoClassDefFoundError) on a
 * machine without libcuda.so.1. Nothing here throws.
 */
final class CudaProbe {

    private CudaProbe() {}

    private static final class Once {
        static final String REASON = probe();
    }

    /** Null when device 0 and the kernels are usable, else the reason. */
    static String reason() {
        return Once.REASON;
    }

    private static String probe() {
        try {
            String driver = driverLibrary();
            if (driver != null) return driver;
            if (!Kernels.packaged()) return "the CUDA kernels are not in this build (run make kernels with nvcc on the PATH, then rebuild)";
            return device0();
        } catch (Throwable t) {
            return "CUDA probe failed: " + oneLine(t);
        }
    }

    /** Null when libcuda.so.1 loads, else why not. */
    @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
    static String driverLibrary() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return null;
        } catch (Throwable t) {
            return "no CUDA driver on this machine (libcuda.so.1 cannot be loaded: " + oneLine(t) + ")";
        }
    }

    private static String device0() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int init = JCudaDriver.cuInit(0);
            if (init != CUresult.CUDA_SUCCESS) return "the CUDA driver does not start: cuInit: " + CudaException.describe(init);
            int[] count = new int[1];
            int rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != CUresult.CUDA_SUCCESS) return "cuDeviceGetCount: " + CudaException.describe(rc);
            if (count[0] == 0) return "no CUDA device is visible";
            CUdevice dev = new CUdevice();
            rc = JCudaDriver.cuDeviceGet(dev, 0);
            if (rc != CUresult.CUDA_SUCCESS) return "cuDeviceGet(0): " + CudaException.describe(rc);
            int[] major = new int[1], minor = new int[1];
            JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
            JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
            if (major[0] < CudaContext.MIN_MAJOR)
                return "GPU 0 has compute capability " + major[0] + "." + minor[0] + "; gsae's CUDA kernels need " + CudaContext.MIN_MAJOR + ".0 or newer";
            return null;
        } catch (Throwable t) {
            return "JCuda cannot use the CUDA driver: " + oneLine(t);
        }
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
        return m.replace('\n', ' ').replace('\r', ' ');
    }
}
