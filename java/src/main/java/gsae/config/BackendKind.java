package gsae.config;

/** Which implementation of the operations runs the work. */
public enum BackendKind {
    /** CUDA when a device and the kernels are present, else the fast CPU backend (said once, loudly). */
    AUTO,
    /** Fast CPU path: Vector API, fused, all cores. */
    CPU,
    /** Scalar CPU oracle, written for clarity. */
    REFERENCE,
    /** CPU dense baseline: materialised [N, M] products, for benchmarks. */
    DENSE,
    /** Hand-written CUDA kernels through JCuda. */
    CUDA,
    /** CUDA dense baseline: cuBLAS products through FFM, dense top-k, for benchmarks. */
    CUDA_DENSE
}
