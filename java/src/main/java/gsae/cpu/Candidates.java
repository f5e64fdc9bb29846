package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.SPECIES;
import static gsae.cpu.MicroKernel.WIDTH;

/**
 * The first pass of the pruned encode-select over one block of rows. From the x-side tiles alone it
 * stores the dot products (z before the bias), keeps each row's k largest z (and k_aux largest dead z) and marks, per vector of
 * {@link MicroKernel#LANES} latents, the lanes whose upper bound ({@link ScoreBound}) reaches the
 * running threshold; that threshold only rises, so no lane the final one keeps is left unmarked.
 * {@link #finish} applies the final thresholds, or marks every real latent of a row the bound cannot
 * serve ({@link #full}).
 */
final class Candidates {

    /** b_enc, zero-padded.   [panels·WIDTH] */
    final float[] bias;
    private final boolean[] latentMask; // [panels·WIDTH] true for i < M
    private final boolean[] dead;       // [panels·WIDTH] dead flags, all false without AuxK
    private final float[] norm;         // [panels·WIDTH] n̄_i
    private final float[] growth;       // [N] A_r, NaN = score in full
    private final int firstRow;         // batch row of block row 0
    private final RowTopK byZ, deadByZ;
    private final float[] zLanes = new float[LANES];

    /** Latents per row (padded M) and vectors of LANES latents per row. */
    final int padded, vectors;
    /**
     * (x − b_dec)·W_encᵀ per block row and latent, z = acc + b_enc: every lane with {@link #storeAll},
     * else only the marked vectors and the rows full from the start.   [rows, padded]
     */
    final float[] acc;
    /** Whether {@link #acc} is written whole (for a block that may be scored densely) or only where marked. */
    final boolean storeAll;
    /** Set when a row became full only in {@link #finish} while acc was not written whole: its acc is incomplete. */
    boolean incomplete;
    /** Bit l of mask[r·vectors + v]: latent v·LANES + l of row r is to be scored.   [rows, vectors] */
    final long[] mask;
    /** True where the row is scored in full: fewer than k (or k_aux) positive z, or a large β‖g‖.   [rows] */
    final boolean[] full;

    /** acc and mask are scratch space of at least rows·padded and rows·vectors elements. */
    Candidates(int rows, int firstRow, int k, int kAux, float[] bias, boolean[] latentMask, boolean[] dead,
               ScoreBound bound, float[] acc, long[] mask, boolean storeAll) {
        this.storeAll = storeAll;
        this.bias = bias;
        this.latentMask = latentMask;
        this.dead = dead;
        this.norm = bound.norm;
        this.growth = bound.growth;
        this.firstRow = firstRow;
        this.byZ = new RowTopK(rows, k);
        this.deadByZ = kAux > 0 ? new RowTopK(rows, kAux) : null;
        this.padded = bias.length;
        this.vectors = padded / LANES;
        this.acc = acc;
        this.mask = mask;
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
                FloatVector av = FloatVector.fromArray(SPECIES, accTile, r * WIDTH + half * LANES);
                if (full[row] || storeAll) av.intoArray(acc, row * padded + latent0);
                if (full[row]) continue;
                FloatVector zv = av.add(b);
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
                FloatVector ub = zv.mul(n.fma(growth[firstRow + row], 1f)).mul(ScoreBound.SLACK);
                long keep = ub.compare(VectorOperators.GE, byZ.threshold(row)).and(valid).toLong();
                if (deadByZ != null) keep |= ub.compare(VectorOperators.GE, deadByZ.threshold(row)).and(deadLanes).toLong();
                mask[row * vectors + latent0 / LANES] = keep;
                if (keep != 0L && !storeAll) av.intoArray(acc, row * padded + latent0);
            }
        }
    }

    /** The row's k-th largest z, τ (valid after {@link #finish}; −∞ below k offers). */
    float tau(int row) {
        return byZ.threshold(row);
    }

    /** The row's k_aux-th largest dead z, τ_aux; +∞ without AuxK. */
    float tauDead(int row) {
        return deadByZ == null ? Float.POSITIVE_INFINITY : deadByZ.threshold(row);
    }

    /**
     * Applies the row's final thresholds τ (k-th largest z) and τ_aux to its marks. A row with τ ≤ 0
     * (fewer than k positive z) or τ_aux ≤ 0 becomes {@link #full}; a full row has every real latent marked.
     */
    void finish(int row) {
        float tau = byZ.threshold(row), tauAux = deadByZ == null ? Float.POSITIVE_INFINITY : deadByZ.threshold(row);
        if (!full[row] && (!(tau > 0f) || !(tauAux > 0f))) {
            full[row] = true;
            incomplete |= !storeAll;
        }
        for (int v = 0; v < vectors; v++) {
            int at = row * vectors + v, latent0 = v * LANES;
            VectorMask<Float> valid = VectorMask.fromArray(SPECIES, latentMask, latent0);
            if (full[row]) {
                mask[at] = valid.toLong();
            } else if (mask[at] != 0L) {
                FloatVector zv = FloatVector.fromArray(SPECIES, acc, row * padded + latent0).add(FloatVector.fromArray(SPECIES, bias, latent0));
                FloatVector n = FloatVector.fromArray(SPECIES, norm, latent0);
                FloatVector ub = zv.mul(n.fma(growth[firstRow + row], 1f)).mul(ScoreBound.SLACK);
                long keep = ub.compare(VectorOperators.GE, tau).and(valid).toLong();
                if (deadByZ != null) keep |= ub.compare(VectorOperators.GE, tauAux).and(VectorMask.fromArray(SPECIES, dead, latent0)).toLong();
                mask[at] &= keep; // the same ub as in collect, against the final thresholds
            }
        }
    }
}
