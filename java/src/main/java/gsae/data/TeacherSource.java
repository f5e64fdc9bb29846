package gsae.data;

import java.util.stream.IntStream;

/**
 * One endless stream of teacher tokens. Token t is a function of (teacher seed, stream seed, t)
 * alone, so {@link #seek} is O(1), a resumed stream continues bit for bit, and large batches are
 * drawn in parallel (on the common fork-join pool) with the same result as one thread.
 */
public final class TeacherSource implements BatchSource {

    /** Below this many rows a batch is drawn on the calling thread: forking would cost more than it saves. */
    private static final int PARALLEL_ROWS = 256;

    private final Teacher teacher;
    private final long stream;
    private long position;

    TeacherSource(Teacher teacher, long stream) {
        this.teacher = teacher;
        this.stream = stream;
    }

    @Override
    public int d() {
        return teacher.d();
    }

    @Override
    public void next(float[] x, float[] g, int n) {
        next(x, g, new int[n], n);
    }

    /**
     * The next n tokens with their labels, for evaluation that needs the downstream loss.
     *
     * @param x      activations [n, d]
     * @param g      gradients ∂L/∂x at (x, label) [n, d]
     * @param labels classes drawn from the clean prediction [n]
     */
    public void next(float[] x, float[] g, int[] labels, int n) {
        long start = position;
        IntStream rows = IntStream.range(0, n);
        (n >= PARALLEL_ROWS ? rows.parallel() : rows).forEach(row -> labels[row] = teacher.sample(stream, start + row, x, g, row, null));
        position += n;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public void seek(long tokens) {
        if (tokens < 0) throw new IllegalArgumentException("seek position must be ≥ 0, got " + tokens);
        position = tokens;
    }

    @Override
    public String describe() {
        return teacher.describe() + " stream " + stream;
    }

    @Override
    public void close() {}
}
