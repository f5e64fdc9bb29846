package gsae.ops;

/**
 * SPEC §5's random decoder directions from a counter-based generator: element (i, j) of W_dec is a
 * function of (seed, i·d + j) alone, so rows can be drawn in any order and anywhere — on the host
 * ({@link Params#init}) or on the device (update.cu's {@code init_decoder}, this class's twin) — and
 * agree to the last bit. Only integer arithmetic and the operations IEEE 754 rounds exactly
 * (+ − × ÷ √, conversions) are used, in one fixed order, so no libm (whose log or cos differ by an
 * ulp between the JDK, glibc and CUDA) decides a bit.
 *
 * <p>Per element: the stream {@code mix(mix(seed) + index)} (splitmix64's finaliser), attempts
 * a = 1, 2, … each drawing 64 bits {@code mix(stream + a·φ)}; the two 32-bit halves give u, v
 * uniform in (−1, 1), and Marsaglia's polar method returns u·√(−2 ln s / s) for the first attempt
 * with 0 &lt; s = u² + v² &lt; 1 (about 1.27 attempts on average). ln is {@link #log}: an atanh
 * series on the mantissa, accurate to about 1e-16.
 */
public final class InitRandom {

    private static final long PHI = 0x9E3779B97F4A7C15L;
    private static final double LN2 = 0.6931471805599453;
    private static final double SQRT2 = 1.4142135623730951;
    /** Terms of the atanh series: t² ≤ 0.0295 on [√½, √2), so 15 terms leave under 1e-22. */
    private static final int LOG_TERMS = 14;
    /** 1/(2n + 1), each the correctly rounded quotient the device computes with __ddiv_rn. */
    private static final double[] ODD_RECIPROCALS = new double[LOG_TERMS + 1];

    static {
        for (int n = 0; n <= LOG_TERMS; n++) ODD_RECIPROCALS[n] = 1.0 / (2 * n + 1);
    }

    private InitRandom() {}

    /** splitmix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A standard normal draw, the {@code index}-th of {@code seed}'s (see the class comment). */
    public static double gaussian(long seed, long index) {
        long stream = mix(mix(seed) + index);
        for (long a = 1; ; a++) {
            long bits = mix(stream + a * PHI);
            double u = uniform((int) (bits >>> 32)), v = uniform((int) bits);
            double s = u * u + v * v;
            if (s < 1.0 && s > 0.0) return u * Math.sqrt(-2.0 * log(s) / s);
        }
    }

    /** (h + ½)·2⁻³¹ − 1 for h the 32 bits read unsigned: uniform in (−1, 1), never 0, computed exactly. */
    static double uniform(int bits) {
        return ((bits & 0xFFFFFFFFL) + 0.5) * 0x1p-31 - 1.0;
    }

    /**
     * ln x for a normal x &gt; 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh(t), t = (m − 1)/(m + 1),
     * summed by Horner over the odd powers.
     */
    static double log(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int e = (int) ((bits >>> 52) & 0x7FF) - 1023;
        double m = Double.longBitsToDouble((bits & 0xFFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > SQRT2) {
            m *= 0.5;
            e++;
        }
        double t = (m - 1.0) / (m + 1.0), t2 = t * t;
        double p = ODD_RECIPROCALS[LOG_TERMS];
        for (int n = LOG_TERMS - 1; n >= 0; n--) p = p * t2 + ODD_RECIPROCALS[n];
        return e * LN2 + 2.0 * t * p;
    }

    /**
     * Row {@code row} of the initial W_dec into {@code out[off .. off + d)}: the draws of elements
     * row·d + j rounded to float32, then scaled to unit norm (squares summed in f64 in column order,
     * the inverse norm rounded to float32, as {@link Params#normalizeDecoderRows} does).
     */
    public static void decoderRow(long seed, int d, long row, float[] out, int off) {
        long first = row * d;
        double ss = 0;
        for (int j = 0; j < d; j++) {
            float w = (float) gaussian(seed, first + j);
            out[off + j] = w;
            ss += (double) w * w;
        }
        if (ss == 0) return;
        float inv = (float) (1.0 / Math.sqrt(ss));
        for (int j = 0; j < d; j++) out[off + j] *= inv;
    }
}
