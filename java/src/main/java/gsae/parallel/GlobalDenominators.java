package gsae.parallel;

import gsae.comm.Collectives;
import gsae.comm.ReduceOp;
import gsae.ops.Batch;
import gsae.ops.Denominators;

/**
 * SPEC §3's denominators over the global batch from the ranks' slices, in two all-reduces:
 * first the column sums Σ_n x_n and Σ_n e_n (e = x − x̂) and the row count, giving the global
 * means x̄ and ē; then each rank's Σ_n ‖x_n − x̄‖² and Σ_n ‖e_n − ē‖² around those means, summed.
 * Centring on the global mean (rather than Σ‖x‖² − N‖x̄‖²) keeps the one-process formula and its
 * accuracy. All sums are in double.
 */
final class GlobalDenominators {

    private final Collectives group;

    GlobalDenominators(Collectives group) {
        this.group = group;
    }

    /**
     * The global batch's denominators; every rank gets the same values.
     *
     * @param xhat this slice's reconstruction [n, d]
     * @param aux  whether AuxK runs this step (the same on every rank): without it, ē is not needed
     * @param rows receives the global batch's row count in element 0
     */
    Denominators compute(Batch slice, float[] xhat, boolean aux, long[] rows) {
        int n = slice.n(), d = slice.d();
        float[] x = slice.x();
        double[] sums = new double[2 * d + 1]; // Σx [d], Σe [d], n
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                int at = r * d + j;
                sums[j] += x[at];
                if (aux) sums[d + j] += x[at] - xhat[at];
            }
        }
        sums[2 * d] = n;
        group.allReduce(sums, ReduceOp.SUM);
        double total = sums[2 * d];
        double[] squares = new double[2];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                int at = r * d + j;
                double cx = x[at] - sums[j] / total;
                squares[0] += cx * cx;
                if (aux) {
                    double ce = (x[at] - xhat[at]) - sums[d + j] / total;
                    squares[1] += ce * ce;
                }
            }
        }
        group.allReduce(squares, ReduceOp.SUM);
        rows[0] = (long) total;
        return new Denominators(squares[0], squares[1]);
    }
}
