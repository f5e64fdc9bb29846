package gsae.data;

/** PLACEHOLDER (issue #2, being written): the synthetic teacher; replaced before landing. */
public final class Teacher {
    /** The embedded default teacher used by `gsae train` without --data and by `make demo`. */
    public static Teacher standard(long seed) { throw new UnsupportedOperationException(); }
    /** Width of x and g. */
    public int d() { throw new UnsupportedOperationException(); }
    /** An endless training stream of (x, g) drawn from this teacher; streams with different seeds differ. */
    public BatchSource source(long streamSeed) { throw new UnsupportedOperationException(); }
    /** One line, e.g. "teacher(d=64, features=512, seed=1)". */
    public String describe() { throw new UnsupportedOperationException(); }
}
