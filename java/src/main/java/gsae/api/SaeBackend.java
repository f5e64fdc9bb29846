package gsae.api;

/** Where an SAE trains or is evaluated. */
public enum SaeBackend {
    /** CUDA when a device and the kernels are there, else {@link #CPU}; the reason is logged. */
    AUTO,
    /** The fused Vector-API path on the host's cores. */
    CPU,
    /** The scalar reference: slow, the oracle the others are tested against. */
    REFERENCE,
    /** The CPU dense baseline (materialised [N, M] products), for benchmarks. */
    DENSE,
    /** A CUDA device; failing to open it is an {@link IllegalStateException} saying why. */
    CUDA,
    /** The CUDA dense baseline (cuBLAS products, dense top-k), for benchmarks. */
    CUDA_DENSE;

    /** The dense baseline of the same device family: {@link #CUDA_DENSE} for CUDA, {@link #DENSE} otherwise. */
    public SaeBackend dense() {
        return this == CUDA || this == CUDA_DENSE ? CUDA_DENSE : DENSE;
    }
}
