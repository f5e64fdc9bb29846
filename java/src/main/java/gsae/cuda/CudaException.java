package gsae.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** A CUDA driver call that failed: the message names the call, the error code and the driver's text. */
public final class CudaException extends IllegalStateException {

    CudaException(String message) {
        super(message);
    }

    /** Throws when {@code result} is not CUDA_SUCCESS; {@code call} names what was attempted, e.g. "cuMemAlloc(4096 bytes)". */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) throw new CudaException(call + " failed: " + describe(result));
    }

    /** "CUDA_ERROR_NAME: the driver's sentence" for a driver result code. */
    static String describe(int result) {
        String[] text = new String[1];
        String sentence = JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS && text[0] != null ? text[0] : "no description";
        return CUresult.stringFor(result) + ": " + sentence;
    }
}
