package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile every CPU matrix product is built from: C[r, c] = Σ_j A[r, j] · P[j, c] for
 * {@link #ROWS} rows of A and one packed panel P of {@link #WIDTH} columns.
 *
 * <p>Why 6 × 2 vectors: each step over j loads two panel vectors, broadcasts one A value per row
 * and issues 12 FMAs into 12 accumulators, which with the two loads and one broadcast fills 15 of
 * the 16 AVX2 registers (of 32 with AVX-512). Measured on 256-bit vectors on a 2-core Zen, this
 * shape over contiguous panels reached 110–128 GFLOP/s where a 4 × 3-vector tile, or the same tile
 * reading unpacked rows, stayed near 60. The tile is written for any species length; on the
 * AVX-512 Zen 5 development machine SPECIES_PREFERRED (512 bits, a 6 × 32 tile) beat SPECIES_256
 * on one core, 140 against 160 ms for 2048×512·512×8192 (JMH GemmBench, machine shared and busy).
 * Splitting the depth into L1-sized chunks of 128–256 showed no gain above that noise.
 * <p>Every C element is one FMA chain over j in ascending order, so it is bit-identical wherever
 * the element sits in a tile and however rows are split between threads.
 */
final class MicroKernel {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    static final int LANES = SPECIES.length();
    /** Columns per panel: two vectors. */
    static final int WIDTH = 2 * LANES;
    /** Rows of A per tile. */
    static final int ROWS = 6;

    private MicroKernel() {}

    /**
     * c[r·WIDTH + col] = Σ_{j<depth} a[aOff + r·lda + j] · panel[pOff + j·WIDTH + col], r < ROWS.
     *
     * @param a     rows of A, row r at aOff + r·lda        [ROWS, ≥ depth]
     * @param panel one packed panel                         [depth, WIDTH]
     * @param c     the tile, overwritten                    [ROWS, WIDTH]
     */
    static void tile(float[] a, int aOff, int lda, float[] panel, int pOff, int depth, float[] c) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        int a0 = aOff, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int j = 0, p = pOff; j < depth; j++, p += WIDTH) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, panel, p);
            FloatVector w1 = FloatVector.fromArray(SPECIES, panel, p + LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, a[a0 + j]);
            c00 = v.fma(w0, c00);
            c01 = v.fma(w1, c01);
            v = FloatVector.broadcast(SPECIES, a[a1 + j]);
            c10 = v.fma(w0, c10);
            c11 = v.fma(w1, c11);
            v = FloatVector.broadcast(SPECIES, a[a2 + j]);
            c20 = v.fma(w0, c20);
            c21 = v.fma(w1, c21);
            v = FloatVector.broadcast(SPECIES, a[a3 + j]);
            c30 = v.fma(w0, c30);
            c31 = v.fma(w1, c31);
            v = FloatVector.broadcast(SPECIES, a[a4 + j]);
            c40 = v.fma(w0, c40);
            c41 = v.fma(w1, c41);
            v = FloatVector.broadcast(SPECIES, a[a5 + j]);
            c50 = v.fma(w0, c50);
            c51 = v.fma(w1, c51);
        }
        c00.intoArray(c, 0);
        c01.intoArray(c, LANES);
        c10.intoArray(c, WIDTH);
        c11.intoArray(c, WIDTH + LANES);
        c20.intoArray(c, 2 * WIDTH);
        c21.intoArray(c, 2 * WIDTH + LANES);
        c30.intoArray(c, 3 * WIDTH);
        c31.intoArray(c, 3 * WIDTH + LANES);
        c40.intoArray(c, 4 * WIDTH);
        c41.intoArray(c, 4 * WIDTH + LANES);
        c50.intoArray(c, 5 * WIDTH);
        c51.intoArray(c, 5 * WIDTH + LANES);
    }

    /**
     * c[r·LANES + l] = Σ_{j<depth} a[rowOff[r] + j] · panel[pOff + j·WIDTH + l], r < ROWS, l < LANES: one
     * vector of a packed panel against ROWS rows of A anywhere in a (the sampled product of
     * {@link SparseScores}). Each element is the same ascending FMA chain as in {@link #tile}, so it is
     * bit-identical to the element {@link #tile} gives for that row and column.
     *
     * @param rowOff start of each of the ROWS rows in a (repeat one to fill unused slots)
     * @param panel  packed panels, the vector's column 0 at pOff   [depth, WIDTH]
     * @param c      the result, overwritten                         [ROWS, LANES]
     */
    static void rows(float[] a, int[] rowOff, float[] panel, int pOff, int depth, float[] c) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES);
        FloatVector c3 = FloatVector.zero(SPECIES), c4 = FloatVector.zero(SPECIES), c5 = FloatVector.zero(SPECIES);
        int a0 = rowOff[0], a1 = rowOff[1], a2 = rowOff[2], a3 = rowOff[3], a4 = rowOff[4], a5 = rowOff[5];
        for (int j = 0, p = pOff; j < depth; j++, p += WIDTH) {
            FloatVector w = FloatVector.fromArray(SPECIES, panel, p);
            c0 = FloatVector.broadcast(SPECIES, a[a0 + j]).fma(w, c0);
            c1 = FloatVector.broadcast(SPECIES, a[a1 + j]).fma(w, c1);
            c2 = FloatVector.broadcast(SPECIES, a[a2 + j]).fma(w, c2);
            c3 = FloatVector.broadcast(SPECIES, a[a3 + j]).fma(w, c3);
            c4 = FloatVector.broadcast(SPECIES, a[a4 + j]).fma(w, c4);
            c5 = FloatVector.broadcast(SPECIES, a[a5 + j]).fma(w, c5);
        }
        c0.intoArray(c, 0);
        c1.intoArray(c, LANES);
        c2.intoArray(c, 2 * LANES);
        c3.intoArray(c, 3 * LANES);
        c4.intoArray(c, 4 * LANES);
        c5.intoArray(c, 5 * LANES);
    }
}
