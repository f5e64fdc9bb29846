package gsae.cpu;

import gsae.ops.Params;
import jdk.incubator.vector.FloatVector;

import static gsae.cpu.RowKernels.F;
import static gsae.ops.Ops.ADAM_BETA1;
import static gsae.ops.Ops.ADAM_BETA2;
import static gsae.ops.Ops.ADAM_EPS;

/**
 * SPEC §5 row by row, in parallel over blocks of latents: for each latent i,
 *
 *     dW_dec[i] −= (dW_dec[i]·W_dec[i] / ‖W_dec[i]‖²) W_dec[i]
 *     Adam on W_enc[i], b_enc[i], W_dec[i]:  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *                                           θ ← θ − (lr/c1)·m / (√(v/c2) + ε),  c = 1 − β^t
 *     W_dec[i] ← W_dec[i] / ‖W_dec[i]‖
 *
 * then Adam on b_dec. Each row is touched once, while it is in cache.
 */
final class AdamUpdate {

    /** Latents per task. */
    private static final int ROWS_PER_TASK = 32;

    private final Workers workers;

    AdamUpdate(Workers workers) {
        this.workers = workers;
    }

    /** Same contract as {@link gsae.ops.Ops#update}. */
    void update(Params p, Params g, Params m, Params v, float lr, long t) {
        if (t < 1) throw new IllegalArgumentException("Adam step must be ≥ 1, got " + t);
        int d = p.d(), rows = p.m();
        float stepSize = (float) (lr / (1.0 - Math.pow(ADAM_BETA1, t)));
        float invC2 = (float) (1.0 / (1.0 - Math.pow(ADAM_BETA2, t)));
        workers.forEach((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, task -> {
            int first = task * ROWS_PER_TASK, end = Math.min(rows, first + ROWS_PER_TASK);
            for (int i = first; i < end; i++) {
                int off = i * d;
                adam(p.wEnc(), g.wEnc(), m.wEnc(), v.wEnc(), off, d, stepSize, invC2);
                projectOut(g.wDec(), p.wDec(), off, d);
                adam(p.wDec(), g.wDec(), m.wDec(), v.wDec(), off, d, stepSize, invC2);
                normalise(p.wDec(), off, d);
            }
            adam(p.bEnc(), g.bEnc(), m.bEnc(), v.bEnc(), first, end - first, stepSize, invC2);
        });
        adam(p.bDec(), g.bDec(), m.bDec(), v.bDec(), 0, d, stepSize, invC2);
    }

    /** g ← g − (g·w / w·w) w on one row; rows with w = 0 are left alone. */
    private static void projectOut(float[] g, float[] w, int off, int d) {
        float ww = RowKernels.dot(w, off, w, off, d);
        if (ww == 0f) return;
        RowKernels.axpy(-RowKernels.dot(g, off, w, off, d) / ww, w, off, g, off, d);
    }

    /** w ← w / ‖w‖ on one row; a zero row is left alone. */
    private static void normalise(float[] w, int off, int d) {
        float ss = RowKernels.dot(w, off, w, off, d);
        if (ss != 0f) RowKernels.scale((float) (1.0 / Math.sqrt(ss)), w, off, d);
    }

    /** Adam on len values from off; (1−β2)·g·g keeps the reference's order, so m and v round alike. */
    private static void adam(float[] p, float[] g, float[] m, float[] v, int off, int len, float stepSize, float invC2) {
        int j = off, end = off + len;
        for (int bound = off + F.loopBound(len); j < bound; j += F.length()) {
            FloatVector gj = FloatVector.fromArray(F, g, j);
            FloatVector mj = FloatVector.fromArray(F, m, j).mul(ADAM_BETA1).add(gj.mul(1 - ADAM_BETA1));
            FloatVector vj = FloatVector.fromArray(F, v, j).mul(ADAM_BETA2).add(gj.mul(1 - ADAM_BETA2).mul(gj));
            mj.intoArray(m, j);
            vj.intoArray(v, j);
            FloatVector step = mj.mul(stepSize).div(vj.mul(invC2).sqrt().add(ADAM_EPS));
            FloatVector.fromArray(F, p, j).sub(step).intoArray(p, j);
        }
        for (; j < end; j++) {
            m[j] = ADAM_BETA1 * m[j] + (1 - ADAM_BETA1) * g[j];
            v[j] = ADAM_BETA2 * v[j] + (1 - ADAM_BETA2) * g[j] * g[j];
            p[j] -= m[j] * stepSize / ((float) Math.sqrt(v[j] * invC2) + ADAM_EPS);
        }
    }
}
