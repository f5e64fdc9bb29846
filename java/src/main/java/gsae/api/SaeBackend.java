package gsae.api;

/** Where an SAE trains. */
public enum SaeBackend {
    /** CUDA when a device and the kernels are there, else {@link #CPU}; the reason is logged. */
    AUTO,
    /** The fused Vector-API path on the host's cores. */
    CPU,
    /** The scalar reference: slow, the oracle the others are tested against. */
    REFERENCE,
    /** A CUDA device; failing to open it is an {@link IllegalStateException} saying why. */
    CUDA
}
