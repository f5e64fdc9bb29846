package gsae.cpu;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.ROWS;

/**
 * The second pass of the pruned encode-select: s = |g·W_decᵀ| only where a block row holds a
 * {@link Candidates candidate}, a sampled product organised by latent vector. For each vector of
 * {@link MicroKernel#LANES} latents (half a packed decoder panel, in ascending order) the block rows
 * with a candidate in it go through {@link MicroKernel#rows} six at a time, so each decoder vector
 * streams through the cache once per block. Each s is the FMA chain the unpruned tile computes, and
 * score = fma(β·z, s, z) the expression of {@link TileSelector}, so every score is bit-identical to the
 * unpruned path's and the heaps keep the same k.
 */
final class SparseScores {

    private SparseScores() {}

    /**
     * Scores the candidates of the block's rows that are not {@link Candidates#full} and offers them to
     * best (and, dead ones, to bestDead when not null).
     *
     * @param rows     block rows
     * @param firstRow batch row of block row 0
     * @return (row, vector) products computed
     */
    static long score(Candidates c, int rows, int firstRow, PaddedRows g, PackedPanels dec, float beta,
                      boolean[] dead, RowTopK best, RowTopK bestDead) {
        int vectors = dec.count * 2, d = g.depth;
        int[] start = new int[vectors + 1];
        for (int r = 0; r < rows; r++) {
            if (c.full[r]) continue;
            for (int at = c.start(r), end = at + c.count[r], last = -1; at < end; at++) {
                int v = c.latent[at] / LANES;
                if (v != last) start[v + 1]++;
                last = v;
            }
        }
        for (int v = 0; v < vectors; v++) start[v + 1] += start[v];
        int items = start[vectors];
        int[] itemRow = new int[items], itemFrom = new int[items], itemTo = new int[items], fill = start.clone();
        for (int r = 0; r < rows; r++) {
            if (c.full[r]) continue;
            for (int at = c.start(r), end = at + c.count[r]; at < end; ) {
                int v = c.latent[at] / LANES, from = at;
                while (at < end && c.latent[at] / LANES == v) at++;
                int slot = fill[v]++;
                itemRow[slot] = r;
                itemFrom[slot] = from;
                itemTo[slot] = at;
            }
        }
        int[] rowOff = new int[ROWS];
        float[] acc = new float[ROWS * LANES];
        for (int v = 0; v < vectors; v++) {
            int pOff = dec.offset(v >> 1) + (v & 1) * LANES;
            for (int first = start[v]; first < start[v + 1]; first += ROWS) {
                int group = Math.min(ROWS, start[v + 1] - first);
                for (int i = 0; i < ROWS; i++) rowOff[i] = (firstRow + itemRow[first + Math.min(i, group - 1)]) * d;
                MicroKernel.rows(g.data, rowOff, dec.data, pOff, d, acc);
                for (int i = 0; i < group; i++) {
                    int item = first + i, row = itemRow[item];
                    for (int at = itemFrom[item]; at < itemTo[item]; at++) {
                        int latent = c.latent[at];
                        float zi = c.z[at], s = Math.abs(acc[i * LANES + latent - v * LANES]);
                        float score = Math.fma(zi * beta, s, zi);
                        if (score >= best.threshold(row)) best.offer(row, score, zi, latent);
                        if (bestDead != null && dead[latent] && score >= bestDead.threshold(row)) bestDead.offer(row, score, zi, latent);
                    }
                }
            }
        }
        return items;
    }
}
