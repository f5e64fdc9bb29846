package gsae.data;

/**
 * The teacher's fixed downstream network: a linear classifier with C outputs and cross entropy.
 *
 * <pre>
 *   logits = U·x                               U [C, d]
 *   p      = softmax(logits)
 *   L(x,y) = −log p_y
 *   ∂L/∂x  = Uᵀ(p − e_y)
 * </pre>
 *
 * Every method works on rows of a row-major batch and sums over them in double, so evaluation can
 * splice any x̂ in place of x. Immutable and safe to share between threads.
 */
public final class Downstream {

    private final int d;
    private final int classes;
    private final float[] u; // [C, d]

    /** @param u the classifier's weights, copied  [C, d] */
    public Downstream(int d, int classes, float[] u) {
        if (u.length != (long) classes * d) throw new IllegalArgumentException("U must have " + classes + "×" + d + " values");
        this.d = d;
        this.classes = classes;
        this.u = u.clone();
    }

    public int d() {
        return d;
    }

    public int classes() {
        return classes;
    }

    /** The classifier's weights, a copy.  returns [C, d] */
    public float[] weights() {
        return u.clone();
    }

    /**
     * log softmax(U·x_row) into {@code out}.
     *
     * @param x   inputs [N, d]
     * @param out one row of log-probabilities [C]
     */
    public void logProbabilities(float[] x, int row, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            double acc = 0;
            for (int j = 0; j < d; j++) acc += (double) u[c * d + j] * x[row * d + j];
            out[c] = acc;
            max = Math.max(max, acc);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) sum += Math.exp(out[c] - max);
        double logZ = max + Math.log(sum);
        for (int c = 0; c < classes; c++) out[c] -= logZ;
    }

    /**
     * Σ_n −log softmax(U·x_n)[y_n].
     *
     * @param x      inputs [N, d]
     * @param labels one class per row [N]
     */
    public double lossSum(float[] x, int[] labels, int n) {
        double[] logp = new double[classes];
        double total = 0;
        for (int row = 0; row < n; row++) {
            logProbabilities(x, row, logp);
            total -= logp[labels[row]];
        }
        return total;
    }

    /**
     * g_n = Uᵀ(softmax(U·x_n) − e_{y_n}), the exact gradient of the row's loss at x_n.
     *
     * @param x      inputs [N, d]
     * @param labels one class per row [N]
     * @param g      output gradients [N, d]
     */
    public void gradient(float[] x, int[] labels, int n, float[] g) {
        double[] logp = new double[classes];
        for (int row = 0; row < n; row++) {
            logProbabilities(x, row, logp);
            gradientRow(logp, labels[row], g, row);
        }
    }

    /**
     * Row {@code row} of g = Uᵀ(p − e_y) from the row's log-probabilities, for callers that have them.
     *
     * @param logp log softmax(U·x) of the row [C]
     * @param g    output gradients [N, d]
     */
    public void gradientRow(double[] logp, int label, float[] g, int row) {
        double[] acc = new double[d];
        for (int c = 0; c < classes; c++) {
            double coef = Math.exp(logp[c]) - (c == label ? 1 : 0);
            for (int j = 0; j < d; j++) acc[j] += coef * u[c * d + j];
        }
        for (int j = 0; j < d; j++) g[row * d + j] = (float) acc[j];
    }

    /**
     * Σ_n KL(softmax(U·p_n) ‖ softmax(U·q_n)) = Σ_n Σ_c P_c (log P_c − log Q_c).
     *
     * @param p reference inputs (the clean x) [N, d]
     * @param q compared inputs (e.g. x̂)       [N, d]
     */
    public double klSum(float[] p, float[] q, int n) {
        double[] logP = new double[classes], logQ = new double[classes];
        double total = 0;
        for (int row = 0; row < n; row++) {
            logProbabilities(p, row, logP);
            logProbabilities(q, row, logQ);
            for (int c = 0; c < classes; c++) total += Math.exp(logP[c]) * (logP[c] - logQ[c]);
        }
        return total;
    }
}
