package gsae.train;

import gsae.data.FeatureFamily;
import gsae.data.Teacher;
import gsae.ops.Params;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How well an SAE's decoder recovers the teacher's true features: for each feature f,
 * best_f = max_i cos(dir_f, W_dec[i]) (signed: a latent fires with a > 0 only, so a row pointing
 * the opposite way does not recover f), summarised per family.
 */
final class FeatureRecovery {

    /** A feature counts as recovered above this cosine. */
    static final double THRESHOLD = 0.9;

    private FeatureRecovery() {}

    /** Per family in declaration order, keyed by {@link FeatureFamily#key()}; empty families are left out. */
    static Map<String, EvalReport.Recovery> of(Teacher teacher, Params p) {
        if (teacher.d() != p.d()) throw new IllegalArgumentException("the SAE has d=" + p.d() + " but the teacher has d=" + teacher.d());
        double[] best = bestCosines(teacher.directions(), p.wDec(), teacher.features(), p.m(), p.d());
        Map<String, EvalReport.Recovery> out = new LinkedHashMap<>();
        for (FeatureFamily family : FeatureFamily.values()) {
            int count = 0, above = 0;
            double sum = 0;
            for (int f = 0; f < best.length; f++) {
                if (teacher.family(f) != family) continue;
                count++;
                sum += best[f];
                if (best[f] > THRESHOLD) above++;
            }
            if (count > 0) out.put(family.key(), new EvalReport.Recovery(count, sum / count, (double) above / count));
        }
        return out;
    }

    /**
     * best[f] = max_i (dir_f · w_i) / ‖w_i‖ over rows of non-zero norm (−1 when there are none).
     *
     * @param dirs unit feature directions [F, d]
     * @param wDec decoder rows             [M, d]
     */
    static double[] bestCosines(float[] dirs, float[] wDec, int features, int m, int d) {
        double[] inverseNorm = new double[m];
        for (int i = 0; i < m; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) wDec[i * d + j] * wDec[i * d + j];
            inverseNorm[i] = ss > 0 ? 1 / Math.sqrt(ss) : 0;
        }
        double[] best = new double[features];
        for (int f = 0; f < features; f++) {
            best[f] = -1;
            for (int i = 0; i < m; i++) {
                if (inverseNorm[i] == 0) continue;
                double dot = 0;
                for (int j = 0; j < d; j++) dot += (double) dirs[f * d + j] * wDec[i * d + j];
                best[f] = Math.max(best[f], dot * inverseNorm[i]);
            }
        }
        return best;
    }
}
