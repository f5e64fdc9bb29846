package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.SPECIES;
import static gsae.cpu.MicroKernel.WIDTH;

/**
 * The first pass of the pruned encode-select over one block of rows: from the x-side tiles alone it
 * keeps each row's k largest z (and k_aux largest dead z) and the latents whose upper bound
 * ({@link ScoreBound}) reaches the running threshold, which only rises, so no latent that the final
 * threshold keeps is dropped. {@link #finish} then applies the final thresholds, or marks the row to
 * be scored in full. Candidates of a row are kept in ascending latent order.
 */
final class Candidates {

    private final int cap;
    private final float[] bias;     // [panels·WIDTH] b_enc, zero-padded
    private final boolean[] latentMask; // [panels·WIDTH] true for i < M
    private final boolean[] dead;   // [panels·WIDTH] dead flags, all false without AuxK
    private final float[] norm;     // [panels·WIDTH] n̄_i
    private final float[] growth;   // [N] A_r, NaN = score in full
    private final int firstRow;     // batch row of block row 0
    private final RowTopK byZ, deadByZ;
    private final float[] zLanes = new float[LANES], ubLanes = new float[LANES];

    /** Latent, z and upper bound of each candidate.   [rows, cap] */
    final int[] latent;
    final float[] z, ub;
    /** Candidates held per row.   [rows] */
    final int[] count;
    /** True where the row falls back to the full computation.   [rows] */
    final boolean[] full;

    Candidates(int rows, int firstRow, int k, int kAux, int cap, float[] bias, boolean[] latentMask,
               boolean[] dead, ScoreBound bound) {
        this.cap = cap;
        this.bias = bias;
        this.latentMask = latentMask;
        this.dead = dead;
        this.norm = bound.norm;
        this.growth = bound.growth;
        this.firstRow = firstRow;
        this.byZ = new RowTopK(rows, k);
        this.deadByZ = kAux > 0 ? new RowTopK(rows, kAux) : null;
        latent = new int[rows * cap];
        z = new float[rows * cap];
        ub = new float[rows * cap];
        count = new int[rows];
        full = new boolean[rows];
        for (int r = 0; r < rows; r++) full[r] = Float.isNaN(growth[firstRow + r]);
    }

    /**
     * Takes latents col0 … col0 + WIDTH − 1 of tile rows 0 … rows − 1 (block rows blockRow + r).
     *
     * @param accTile x-side dot products (x − b_dec)·W_encᵀ, before the bias   [ROWS, WIDTH]
     */
    void collect(float[] accTile, int col0, int rows, int blockRow) {
        for (int half = 0; half < 2; half++) {
            int latent0 = col0 + half * LANES;
            FloatVector b = FloatVector.fromArray(SPECIES, bias, latent0);
            FloatVector n = FloatVector.fromArray(SPECIES, norm, latent0);
            VectorMask<Float> valid = VectorMask.fromArray(SPECIES, latentMask, latent0);
            VectorMask<Float> deadLanes = VectorMask.fromArray(SPECIES, dead, latent0);
            for (int r = 0; r < rows; r++) {
                int row = blockRow + r;
                if (full[row]) continue;
                FloatVector zv = FloatVector.fromArray(SPECIES, accTile, r * WIDTH + half * LANES).add(b);
                long top = zv.compare(VectorOperators.GE, byZ.threshold(row)).and(valid).toLong();
                long aux = deadByZ == null ? 0L : zv.compare(VectorOperators.GE, deadByZ.threshold(row)).and(deadLanes).toLong();
                if ((top | aux) != 0L) zv.intoArray(zLanes, 0);
                for (long rest = top; rest != 0L; rest &= rest - 1) {
                    int lane = Long.numberOfTrailingZeros(rest);
                    byZ.offer(row, zLanes[lane], zLanes[lane], latent0 + lane);
                }
                for (long rest = aux; rest != 0L; rest &= rest - 1) {
                    int lane = Long.numberOfTrailingZeros(rest);
                    deadByZ.offer(row, zLanes[lane], zLanes[lane], latent0 + lane);
                }
                FloatVector ubv = zv.mul(n.fma(growth[firstRow + row], 1f)).mul(ScoreBound.SLACK);
                long keep = ubv.compare(VectorOperators.GE, byZ.threshold(row)).and(valid).toLong();
                if (deadByZ != null) keep |= ubv.compare(VectorOperators.GE, deadByZ.threshold(row)).and(deadLanes).toLong();
                if (keep != 0L) append(row, keep, zv, ubv, latent0);
            }
        }
    }

    private void append(int row, long lanes, FloatVector zv, FloatVector ubv, int latent0) {
        if (count[row] + Long.bitCount(lanes) > cap) {
            full[row] = true;
            return;
        }
        zv.intoArray(zLanes, 0);
        ubv.intoArray(ubLanes, 0);
        int at = row * cap + count[row];
        for (long rest = lanes; rest != 0L; rest &= rest - 1, at++) {
            int lane = Long.numberOfTrailingZeros(rest);
            latent[at] = latent0 + lane;
            z[at] = zLanes[lane];
            ub[at] = ubLanes[lane];
        }
        count[row] = at - row * cap;
    }

    /**
     * Applies the row's final thresholds τ (k-th largest z) and τ_aux: keeps the candidates with
     * ub ≥ τ, or dead with ub ≥ τ_aux. A row with τ ≤ 0 (fewer than k positive z), or τ_aux ≤ 0, is
     * marked {@link #full}, as is one whose candidates overflowed.
     */
    void finish(int row) {
        if (full[row]) return;
        float tau = byZ.threshold(row), tauAux = deadByZ == null ? Float.POSITIVE_INFINITY : deadByZ.threshold(row);
        if (!(tau > 0f) || !(tauAux > 0f)) {
            full[row] = true;
            return;
        }
        int base = row * cap, kept = base;
        for (int c = base; c < base + count[row]; c++) {
            if (ub[c] >= tau || (dead[latent[c]] && ub[c] >= tauAux)) {
                latent[kept] = latent[c];
                z[kept] = z[c];
                ub[kept] = ub[c];
                kept++;
            }
        }
        count[row] = kept - base;
    }

    /** Start of row's candidates in {@link #latent}, {@link #z}. */
    int start(int row) {
        return row * cap;
    }
}
