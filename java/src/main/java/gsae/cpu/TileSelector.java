package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.SPECIES;
import static gsae.cpu.MicroKernel.WIDTH;

/**
 * Turns one tile of dot products into scores and feeds the rows' top-k structures:
 * z = acc_x + b_enc, score = z + (β·z)·|acc_g|, computed as one FMA so that β = 0 (acc_g left
 * zero) gives score = z exactly. A vector compare against each row's threshold rejects most
 * candidates before any scalar work. One instance per task: it owns its lane scratch.
 */
final class TileSelector {

    private final float beta;
    private final float[] bias;     // [panels·WIDTH] b_enc, zero-padded
    private final boolean[] latent; // [panels·WIDTH] true for i < M
    private final boolean[] dead;   // [panels·WIDTH] dead flags, all false without AuxK
    private final float[] zLanes = new float[LANES];
    private final float[] scoreLanes = new float[LANES];

    TileSelector(float beta, float[] bias, boolean[] latent, boolean[] dead) {
        this.beta = beta;
        this.bias = bias;
        this.latent = latent;
        this.dead = dead;
    }

    /**
     * Offers latents col0 … col0 + WIDTH − 1 of tile rows 0 … rows − 1 to rows firstRow + r of top
     * (and of aux, for dead latents, when aux is not null).
     *
     * @param zTile x-side dot products (x − b_dec)·W_encᵀ   [ROWS, WIDTH]
     * @param gTile g-side dot products g·W_decᵀ, zeros when β = 0   [ROWS, WIDTH]
     */
    void select(float[] zTile, float[] gTile, int col0, int rows, int firstRow, RowTopK top, RowTopK aux) {
        for (int half = 0; half < 2; half++) {
            int latent0 = col0 + half * LANES;
            FloatVector b = FloatVector.fromArray(SPECIES, bias, latent0);
            VectorMask<Float> valid = VectorMask.fromArray(SPECIES, latent, latent0);
            long validLanes = valid.toLong();
            VectorMask<Float> deadLanes = deadLanes(latent0);
            for (int r = 0; r < rows; r++) {
                int at = r * WIDTH + half * LANES;
                FloatVector z = FloatVector.fromArray(SPECIES, zTile, at).add(b);
                FloatVector s = FloatVector.fromArray(SPECIES, gTile, at).abs();
                offer(firstRow + r, z, s, validLanes, deadLanes, latent0, top, aux);
            }
        }
    }

    /**
     * Offers one vector of latents latent0 … latent0 + LANES − 1 of one row: score = fma(β·z, s, z);
     * the lanes in {@code allowed} whose score reaches the row's threshold go to top, and the dead ones
     * among them to aux (when not null). The one place a score is formed, so the pruned path
     * ({@link SparseScores}, {@link PairScores}) and the unpruned one select bit-identically.
     *
     * @param allowed lane bit mask of the latents that may be offered (lane i is bit i)
     */
    void offer(int row, FloatVector z, FloatVector s, long allowed, VectorMask<Float> deadLanes, int latent0,
               RowTopK top, RowTopK aux) {
        FloatVector score = z.mul(beta).fma(s, z);
        long keep = score.compare(VectorOperators.GE, top.threshold(row)).toLong() & allowed;
        long keepAux = aux == null ? 0L : score.compare(VectorOperators.GE, aux.threshold(row)).and(deadLanes).toLong() & allowed;
        if ((keep | keepAux) == 0L) return;
        z.intoArray(zLanes, 0);
        score.intoArray(scoreLanes, 0);
        offerLanes(top, row, keep, latent0);
        if (aux != null) offerLanes(aux, row, keepAux, latent0);
    }

    /** The dead flags of latents latent0 … latent0 + LANES − 1 (all false beyond M and without AuxK). */
    VectorMask<Float> deadLanes(int latent0) {
        return VectorMask.fromArray(SPECIES, dead, latent0);
    }

    private void offerLanes(RowTopK heap, int row, long lanes, int latent0) {
        for (long rest = lanes; rest != 0L; rest &= rest - 1) {
            int lane = Long.numberOfTrailingZeros(rest);
            heap.offer(row, scoreLanes[lane], zLanes[lane], latent0 + lane);
        }
    }
}
