package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.ROWS;
import static gsae.cpu.MicroKernel.SPECIES;

/**
 * The pruned encode-select's second pass for the rows the bound cannot serve ({@link Candidates#full}),
 * inside a block whose other rows go through {@link PairScores}: s = |g·W_decᵀ| for every latent of
 * those rows, by latent vector. For each vector of {@link MicroKernel#LANES}
 * latents (half a packed decoder panel, in ascending order) the block's full rows go
 * through {@link MicroKernel#rows} six at a time, so each decoder vector streams through the cache
 * once per block. Each s is the FMA chain the unpruned tile computes and score = fma(β·z, s, z) the
 * expression of {@link TileSelector#offer}, which forms and offers it, so every score is bit-identical to the unpruned path's and the
 * heaps, which keep the k best of whatever they are offered, end with the same k.
 */
final class SparseScores {

    private final int[] rowOff = new int[ROWS], groupRow = new int[ROWS];
    private final float[] acc = new float[ROWS * LANES];

    /**
     * Scores every latent of the block's full rows and offers them to best (and, dead ones, to bestDead
     * when not null).
     *
     * @param rows     block rows
     * @param firstRow batch row of block row 0
     * @param selector forms the scores and offers them, as on the unpruned path
     */
    static void scoreFullRows(Candidates c, int rows, int firstRow, PaddedRows g, PackedPanels dec,
                              TileSelector selector, RowTopK best, RowTopK bestDead) {
        int count = 0;
        for (int r = 0; r < rows; r++) if (c.full[r]) count++;
        if (count > 0) new SparseScores().score(c, rows, firstRow, g, dec, selector, best, bestDead);
    }

    private void score(Candidates c, int rows, int firstRow, PaddedRows g, PackedPanels dec,
                       TileSelector selector, RowTopK best, RowTopK bestDead) {
        int d = g.depth;
        for (int v = 0; v < c.vectors; v++) {
            int pOff = dec.offset(v >> 1) + (v & 1) * LANES, group = 0;
            for (int r = 0; r < rows; r++) {
                if (!c.full[r] || c.mask[r * c.vectors + v] == 0L) continue;
                groupRow[group++] = r;
                if (group == ROWS) {
                    offerGroup(c, group, v, firstRow, g, dec, pOff, d, selector, best, bestDead);
                    group = 0;
                }
            }
            if (group > 0) offerGroup(c, group, v, firstRow, g, dec, pOff, d, selector, best, bestDead);
        }
    }

    private void offerGroup(Candidates c, int group, int v, int firstRow, PaddedRows g, PackedPanels dec, int pOff, int d,
                            TileSelector selector, RowTopK best, RowTopK bestDead) {
        for (int i = 0; i < ROWS; i++) rowOff[i] = (firstRow + groupRow[Math.min(i, group - 1)]) * d;
        MicroKernel.rows(g.data, rowOff, dec.data, pOff, d, acc);
        int latent0 = v * LANES;
        VectorMask<Float> deadLanes = bestDead == null ? null : selector.deadLanes(latent0);
        FloatVector bias = FloatVector.fromArray(SPECIES, c.bias, latent0);
        for (int i = 0; i < group; i++) {
            int row = groupRow[i];
            FloatVector z = FloatVector.fromArray(SPECIES, c.acc, row * c.padded + latent0).add(bias);
            FloatVector s = FloatVector.fromArray(SPECIES, acc, i * LANES).abs();
            selector.offer(row, z, s, c.mask[row * c.vectors + v], deadLanes, latent0, best, bestDead);
        }
    }
}
