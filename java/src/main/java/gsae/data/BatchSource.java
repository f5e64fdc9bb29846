package gsae.data;

/**
 * An endless, seeded stream of tokens: each token is an activation x and the gradient g of the
 * downstream loss at x, both raw (no scale applied). Deterministic for a fixed seed, and able to
 * resume at any position without replaying the data.
 */
public interface BatchSource extends AutoCloseable {

    /** Width of x and g. */
    int d();

    /** Fills the next n tokens: x and g, each [n, d] row-major, starting at index 0. */
    void next(float[] x, float[] g, int n);

    /**
     * Stream rows consumed so far, handed out or skipped as non-finite (the data position saved in
     * checkpoints). Equal to the tokens handed out unless rows were skipped.
     */
    long position();

    /** Continues as if exactly {@code position} stream rows had been consumed since the start. */
    void seek(long position);

    /** One line for logs and checkpoints, e.g. "teacher(d=64, seed=1)" or "3 shards, 1.2M tokens in data/". */
    String describe();

    /** Rows dropped because they held NaN or Inf (only with --skip-nonfinite). */
    default long skippedRows() {
        return 0;
    }

    @Override
    void close();
}
