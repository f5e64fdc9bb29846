package gsae.cpu;

import static gsae.cpu.MicroKernel.WIDTH;

/**
 * The bound that lets the β &gt; 0 encode-select skip most of the gradient projection, exactly
 * (issue #14). By Cauchy–Schwarz s_i = |g·W_dec[i]| ≤ ‖g‖·n_i with n_i = ‖W_dec[i]‖, so for β &gt; 0
 * <ul>
 *   <li>z_i &gt; 0: score_i = z_i(1 + β·s_i) lies in [z_i, z_i(1 + β‖g‖n_i)];</li>
 *   <li>z_i ≤ 0: score_i ≤ z_i ≤ 0.</li>
 * </ul>
 * If a row's k-th largest z, τ, is &gt; 0, the k latents of largest z all score ≥ τ, so the row's k-th
 * largest score is ≥ τ, and a latent whose upper bound is &lt; τ (strictly: one that could tie is kept)
 * cannot be selected. The same holds inside the dead set with its own k_aux-th largest z.
 *
 * <p>Floating point: the engine's score is fl(fma(fl(β·z), s̃, z)) with s̃ the FMA chain of d terms,
 * and |s̃| ≤ (1 + γ_d)·‖g‖·n_i (γ_d = d·u/(1 − d·u), u = 2⁻²⁴) plus a subnormal term below 2⁻¹²⁰·β.
 * So the float score is ≤ z(1 + β(1 + u)(1 + γ_d)‖g‖n_i)(1 + u). {@link #growth} rounds
 * β‖g‖(1 + (d + 16)·2⁻²²) up (which covers (1 + u)(1 + γ_d)), {@link #norm} rounds n_i up, and the caller
 * computes ub = fl(fl(z · fma(A, n̄_i, 1)) · {@link #SLACK}), whose own three roundings lose at most
 * (1 − u)³ against SLACK's 1 + 2⁻²⁰. Every ratio is computed from the stored float weights, never from
 * the unit norm SPEC asks for.
 */
final class ScoreBound {

    /** Relative slack on ub for the roundings of computing it in float (and the score's last rounding). */
    static final float SLACK = 1 + 0x1p-20f;
    /** Rows whose A·max n̄ exceeds this are scored in full: their bound (z ≥ τ / (1 + A·n)) would prune little. */
    static final float MAX_GROWTH = 8f;
    /** Largest β and d the error analysis above is written for. */
    private static final float MAX_BETA = 1e6f;
    private static final int MAX_DEPTH = 1 << 20;

    /** n̄_i ≥ ‖W_dec[i]‖, 0 for padding lanes.   [panels·WIDTH] */
    final float[] norm;
    /** A_r ≥ β‖g_r‖(1 + (d + 16)·2⁻²²), or NaN where the row is to be scored in full.   [N] */
    final float[] growth;
    /**
     * E_r ≥ ‖g_r‖·(d + 16)·2⁻²², which exceeds 2γ_d‖g_r‖: two sums of the d products g_j·w_j, each
     * term through at most d roundings, differ by at most E_r·‖w‖ (plus an underflow term) ({@link PairScores}).   [N]
     */
    final float[] error;

    private ScoreBound(float[] norm, float[] growth, float[] error) {
        this.norm = norm;
        this.growth = growth;
        this.error = error;
    }

    /** True when β is one the bound is written for: 0 &lt; β ≤ 10⁶ and d &lt; 2²⁰. */
    static boolean applies(float beta, int d) {
        return beta > 0f && beta <= MAX_BETA && d < MAX_DEPTH;
    }

    /** The bound's per-latent and per-row factors for decoder wDec [M, d] and gradients g [N, d]. */
    static ScoreBound of(Workers workers, float[] wDec, int m, float[] g, int n, int d, float beta, int panels) {
        float[] norm = new float[panels * WIDTH];
        int chunk = 256;
        workers.forEach((m + chunk - 1) / chunk, c -> {
            for (int i = c * chunk; i < Math.min(m, (c + 1) * chunk); i++) norm[i] = roundUp(length(wDec, i * d, d));
        });
        float maxNorm = 0f;
        for (int i = 0; i < m; i++) maxNorm = Math.max(maxNorm, norm[i]);
        double inflate = 1 + (d + 16) * 0x1p-22;
        float[] growth = new float[n], error = new float[n];
        for (int r = 0; r < n; r++) {
            double length = length(g, r * d, d);
            float a = roundUp(beta * length * inflate);
            growth[r] = a * maxNorm <= MAX_GROWTH ? a : Float.NaN; // NaN also for a non-finite g
            error[r] = roundUp(length * (d + 16) * 0x1p-22);
        }
        return new ScoreBound(norm, growth, error);
    }

    private static double length(float[] a, int off, int d) {
        double sum = 0;
        for (int j = 0; j < d; j++) sum += (double) a[off + j] * a[off + j];
        return Math.sqrt(sum);
    }

    /** The smallest float ≥ v (v ≥ 0 or NaN). */
    private static float roundUp(double v) {
        float f = (float) v;
        return f >= v ? f : Math.nextUp(f);
    }
}
