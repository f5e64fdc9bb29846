package gsae.cpu;

import static gsae.cpu.MicroKernel.ROWS;
import static gsae.cpu.MicroKernel.WIDTH;

/**
 * Dense float32 matrix products on the {@link MicroKernel} tile, for the dense baseline and the
 * benchmarks. Each packs its right operand into panels and its left operand into padded rows,
 * then sweeps blocks of {@link #BLOCK_TILES} row tiles (kept in L2) across all panels, one block
 * per task. Every output element is one FMA chain in ascending depth order, so results do not
 * depend on the number of workers.
 */
public final class Gemm {

    /** Row tiles per task: 96 rows of d = 512 floats is 192 KiB, well inside a 1 MiB L2. */
    static final int BLOCK_TILES = 16;

    private Gemm() {}

    /** C = A·Bᵀ.  a: [n, d], b: [m, d], returns [n, m] */
    public static float[] abt(Workers workers, float[] a, float[] b, int n, int m, int d) {
        return run(workers, PaddedRows.copyOf(a, n, d), PackedPanels.ofRows(workers, b, m, d));
    }

    /** C = A·B.  a: [n, k], b: [k, m], returns [n, m] */
    public static float[] ab(Workers workers, float[] a, float[] b, int n, int k, int m) {
        return run(workers, PaddedRows.copyOf(a, n, k), PackedPanels.ofColumns(workers, b, k, m));
    }

    /** C = Aᵀ·B.  a: [k, n], b: [k, m], returns [n, m] */
    public static float[] atb(Workers workers, float[] a, float[] b, int k, int n, int m) {
        return run(workers, PaddedRows.transposeOf(a, k, n), PackedPanels.ofColumns(workers, b, k, m));
    }

    /** C[r, c] = Σ_j rows[r, j] · P[c / WIDTH, j, c mod WIDTH].  returns [rows, columns] */
    static float[] run(Workers workers, PaddedRows a, PackedPanels b) {
        int n = a.rows, m = b.columns;
        float[] c = new float[Math.multiplyExact(n, m)];
        int tiles = a.tiles(), blocks = (tiles + BLOCK_TILES - 1) / BLOCK_TILES;
        workers.forEach(blocks, block -> {
            float[] tile = new float[ROWS * WIDTH];
            int firstTile = block * BLOCK_TILES, endTile = Math.min(tiles, firstTile + BLOCK_TILES);
            for (int p = 0; p < b.count; p++) {
                int col0 = p * WIDTH, cols = Math.min(WIDTH, m - col0);
                for (int t = firstTile; t < endTile; t++) {
                    int row0 = t * ROWS;
                    MicroKernel.tile(a.data, row0 * a.depth, a.depth, b.data, b.offset(p), a.depth, tile);
                    for (int r = 0; r < ROWS && row0 + r < n; r++)
                        System.arraycopy(tile, r * WIDTH, c, (row0 + r) * m + col0, cols);
                }
            }
        });
        return c;
    }
}
