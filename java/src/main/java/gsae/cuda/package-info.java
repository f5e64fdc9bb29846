/**
 * The CUDA backend: the hand-written kernels of kernels/ through JCuda's driver API, cuBLAS through
 * FFM for the dense baseline, and the self-check that holds both to the CPU reference.
 */
package gsae.cuda;
