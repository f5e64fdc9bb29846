package gsae.data;

import gsae.ops.Params;

import java.util.SplittableRandom;

/**
 * A synthetic network with known ground truth, after the setting of the g-SAE paper: activations
 * x ∈ R^d are sparse sums of more true features than dimensions, and a fixed linear classifier
 * ({@link Downstream}) turns x into a loss whose exact gradient g = ∂L/∂x comes with every token.
 *
 * <pre>
 *   x = Σ_f c_f·dir_f + ε,   c_f = μ_f·u (u ~ U[0.5, 1.5]) with probability rate_f, else 0;  ε ~ N(0, noise²·I)
 *   y ~ softmax(U·x),        g = Uᵀ(softmax(U·x) − e_y)
 * </pre>
 *
 * Two planted families make the point of the paper: loud-but-inert features fire strongly along
 * directions U barely reads, quiet-but-decisive ones fire weakly along directions U reads fully
 * (see {@link TeacherConfig}). Token t of stream s is drawn from a generator seeded by
 * (seed, s, t) alone, so every stream is deterministic and seeks in O(1). Immutable.
 */
public final class Teacher {

    /** The stream evaluation draws from; training streams must use other seeds. */
    public static final long EVAL_STREAM = 0x6576616c5f736565L;

    private final TeacherConfig config;
    private final long seed;
    private final float[] directions; // [F, d], unit rows
    private final FeatureFamily[] families; // [F]
    private final double[] rates; // [F]
    private final double[] magnitudes; // [F]
    private final Downstream downstream;

    public Teacher(TeacherConfig config, long seed) {
        this.config = config;
        this.seed = seed;
        int d = config.d(), f = config.features();
        SplittableRandom rng = new SplittableRandom(mix(seed ^ 0x7465616368657221L));
        double[][] basis = orthonormalBasis(d, rng);
        float[] u = new float[config.classes() * d];
        for (int c = 0; c < config.classes(); c++)
            for (int j = 0; j < d; j++) u[c * d + j] = (float) (config.gain() * basis[c][j]);
        downstream = new Downstream(d, config.classes(), u);

        directions = new float[f * d];
        families = new FeatureFamily[f];
        rates = new double[f];
        magnitudes = new double[f];
        int next = 0;
        next = plant(FeatureFamily.LOUD_INERT, config.loudInert(), config.loudMagnitude(), config.loudRead(), next, basis, rng);
        next = plant(FeatureFamily.QUIET_DECISIVE, config.quietDecisive(), config.quietMagnitude(), config.quietRead(), next, basis, rng);
        plant(FeatureFamily.ORDINARY, config.ordinary(), config.ordinaryMagnitude(), config.ordinaryRead(), next, basis, rng);
        normalizeRows(directions, d);
    }

    /** The embedded default teacher used by `gsae train` without --data and by `make demo`. */
    public static Teacher standard(long seed) {
        return new Teacher(TeacherConfig.standard(), seed);
    }

    /**
     * Writes {@code count} features of one family from index {@code first}: rates log-uniform in the
     * configured range, mean magnitudes within ±20% of the family's, directions as in TeacherConfig.
     * Returns the next free index.
     */
    private int plant(FeatureFamily family, int count, double magnitude, double read, int first, double[][] basis, SplittableRandom rng) {
        int d = config.d(), classes = config.classes();
        double logMin = Math.log(config.minRate()), logMax = Math.log(config.maxRate());
        for (int f = first; f < first + count; f++) {
            families[f] = family;
            rates[f] = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
            magnitudes[f] = magnitude * (0.8 + 0.4 * rng.nextDouble());
            double[] dir = combine(randomUnit(basis, classes, d, rng), Math.sqrt(1 - read * read), randomUnit(basis, 0, classes, rng), read);
            for (int j = 0; j < d; j++) directions[f * d + j] = (float) dir[j];
        }
        return first + count;
    }

    /** A Gaussian d×d matrix orthonormalised by Gram–Schmidt (twice, for accuracy); rows are the basis. */
    private static double[][] orthonormalBasis(int d, SplittableRandom rng) {
        double[][] q = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) q[i][j] = Params.gaussian(rng);
            for (int pass = 0; pass < 2; pass++) {
                for (int k = 0; k < i; k++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) dot += q[i][j] * q[k][j];
                    for (int j = 0; j < d; j++) q[i][j] -= dot * q[k][j];
                }
                scale(q[i], 1 / norm(q[i]));
            }
        }
        return q;
    }

    /** A uniformly random unit vector in the span of basis rows [from, to).  returns [d] */
    private static double[] randomUnit(double[][] basis, int from, int to, SplittableRandom rng) {
        double[] v = new double[basis.length];
        for (int k = from; k < to; k++) {
            double w = Params.gaussian(rng);
            for (int j = 0; j < v.length; j++) v[j] += w * basis[k][j];
        }
        scale(v, 1 / norm(v));
        return v;
    }

    /** a·wa + b·wb. */
    private static double[] combine(double[] a, double wa, double[] b, double wb) {
        double[] out = new double[a.length];
        for (int j = 0; j < a.length; j++) out[j] = wa * a[j] + wb * b[j];
        return out;
    }

    private static double norm(double[] v) {
        double ss = 0;
        for (double e : v) ss += e * e;
        return Math.sqrt(ss);
    }

    private static void scale(double[] v, double s) {
        for (int j = 0; j < v.length; j++) v[j] *= s;
    }

    /** Rescales each float row of {@code rows} [R, d] to unit norm in double, so rounding leaves ‖row‖ within d ulps of 1. */
    private static void normalizeRows(float[] rows, int d) {
        for (int r = 0; r < rows.length / d; r++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) rows[r * d + j] * rows[r * d + j];
            double inv = 1 / Math.sqrt(ss);
            for (int j = 0; j < d; j++) rows[r * d + j] = (float) (rows[r * d + j] * inv);
        }
    }

    /**
     * Draws token {@code index} of stream {@code stream} into row {@code row}: x, and when given, the
     * gradient g = Uᵀ(softmax(U·x) − e_y) at the stored (float) x and every feature's coefficient
     * c_f (0 when silent). Returns the label y drawn from the clean prediction softmax(U·x).
     *
     * @param x     activations [N, d]
     * @param g     gradients [N, d], or null
     * @param codes true coefficients [F], or null
     */
    public int sample(long stream, long index, float[] x, float[] g, int row, double[] codes) {
        int d = config.d();
        SplittableRandom rng = new SplittableRandom(mix(mix(mix(seed) + stream) + index));
        double[] acc = new double[d];
        gaussians(rng, acc, config.noise());
        for (int f = 0; f < rates.length; f++) {
            double c = rng.nextDouble() < rates[f] ? magnitudes[f] * (0.5 + rng.nextDouble()) : 0;
            if (codes != null) codes[f] = c;
            if (c == 0) continue;
            for (int j = 0; j < d; j++) acc[j] += c * directions[f * d + j];
        }
        for (int j = 0; j < d; j++) x[row * d + j] = (float) acc[j];
        double[] logp = new double[config.classes()];
        downstream.logProbabilities(x, row, logp);
        int label = categorical(logp, rng.nextDouble());
        if (g != null) downstream.gradientRow(logp, label, g, row);
        return label;
    }

    /** The class whose cumulative probability first exceeds u ∈ [0, 1). */
    private static int categorical(double[] logp, double u) {
        for (int c = 0; c < logp.length - 1; c++) {
            u -= Math.exp(logp[c]);
            if (u < 0) return c;
        }
        return logp.length - 1;
    }

    /** Fills v with N(0, σ²) draws, two per Box–Muller pair (cos and sin) to halve the transcendental calls. */
    private static void gaussians(SplittableRandom rng, double[] v, double sigma) {
        for (int j = 0; j < v.length; j += 2) {
            double r = sigma * Math.sqrt(-2.0 * Math.log(1.0 - rng.nextDouble())), angle = 2.0 * Math.PI * rng.nextDouble();
            v[j] = r * Math.cos(angle);
            if (j + 1 < v.length) v[j + 1] = r * Math.sin(angle);
        }
    }

    /** The splitmix64 finaliser: a bijection that spreads nearby seeds far apart. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Width of x and g. */
    public int d() {
        return config.d();
    }

    public TeacherConfig config() {
        return config;
    }

    public long seed() {
        return seed;
    }

    /** F, the number of true features. */
    public int features() {
        return families.length;
    }

    /** The true feature directions, unit rows, a copy.  returns [F, d] */
    public float[] directions() {
        return directions.clone();
    }

    /** The family of feature f. */
    public FeatureFamily family(int f) {
        return families[f];
    }

    /** The probability that feature f fires on a token. */
    public double rate(int f) {
        return rates[f];
    }

    /** The downstream classifier that defines the loss and g. */
    public Downstream downstream() {
        return downstream;
    }

    /** An endless training stream of (x, g) drawn from this teacher; streams with different seeds differ. */
    public TeacherSource source(long streamSeed) {
        return new TeacherSource(this, streamSeed);
    }

    /** One line, e.g. "teacher(d=64, features=512, seed=1)". */
    public String describe() {
        return "teacher(d=" + config.d() + ", features=" + features() + ", seed=" + seed + ")";
    }
}
