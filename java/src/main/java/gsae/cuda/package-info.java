/** The CUDA backend: JCuda driver API for the hand-written kernels, cuBLAS through FFM for the dense baseline. */
package gsae.cuda;
