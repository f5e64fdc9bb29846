package gsae.data;

/**
 * One endless stream of teacher tokens. Token t is a function of (teacher seed, stream seed, t)
 * alone, so {@link #seek} is O(1) and a resumed stream continues bit for bit.
 */
public final class TeacherSource implements BatchSource {

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
        for (int row = 0; row < n; row++) labels[row] = teacher.sample(stream, position + row, x, row, null);
        teacher.downstream().gradient(x, labels, n, g);
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
