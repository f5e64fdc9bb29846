package gsae.cuda;

/** The two row-major f32 products of the dense baseline on device memory: cuBLAS ({@link Cublas}) or host code ({@link HostGemm}). */
interface Gemm extends AutoCloseable {

    /** C[rows, cols] = A[rows, inner] · B[cols, inner]ᵀ. */
    void gemmRowMajorNT(long a, long b, long c, int rows, int cols, int inner);

    /** C[rows, cols] = A[rows, inner] · B[inner, cols]. */
    void gemmRowMajorNN(long a, long b, long c, int rows, int cols, int inner);

    @Override
    void close();
}
