package gsae.cpu;

import java.util.Arrays;

import static gsae.cpu.MicroKernel.ROWS;

/**
 * The left-hand operand of a product as row-major rows, zero-padded to a multiple of
 * {@link MicroKernel#ROWS} so that every micro-kernel tile reads whole rows.
 */
final class PaddedRows {

    /** Side of the square blocks a transpose moves: 32 × 32 floats, 4 KiB each side. */
    private static final int TRANSPOSE_BLOCK = 32;

    /** The rows, then zero rows up to a multiple of ROWS.   [paddedRows, depth] */
    final float[] data;
    final int rows;
    final int depth;

    private PaddedRows(float[] data, int rows, int depth) {
        this.data = data;
        this.rows = rows;
        this.depth = depth;
    }

    /** Number of tiles of ROWS rows. */
    int tiles() {
        return (rows + ROWS - 1) / ROWS;
    }

    static PaddedRows copyOf(float[] a, int rows, int depth) { // a: [rows, depth]
        return new PaddedRows(Arrays.copyOf(a, paddedLength(rows, depth)), rows, depth);
    }

    /** Rows x_n − b_dec, computed once per batch. */
    static PaddedRows centred(float[] x, float[] bDec, int rows, int depth) { // x: [rows, depth], bDec: [depth]
        float[] out = new float[paddedLength(rows, depth)];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < depth; j++) out[r * depth + j] = x[r * depth + j] - bDec[j];
        return new PaddedRows(out, rows, depth);
    }

    /** The columns of a as rows: out[c, j] = a[j, c], in square blocks so both sides stay in cache. */
    static PaddedRows transposeOf(float[] a, int depth, int columns) { // a: [depth, columns]
        float[] out = new float[paddedLength(columns, depth)];
        for (int j0 = 0; j0 < depth; j0 += TRANSPOSE_BLOCK)
            for (int c0 = 0; c0 < columns; c0 += TRANSPOSE_BLOCK)
                for (int j = j0; j < Math.min(depth, j0 + TRANSPOSE_BLOCK); j++)
                    for (int c = c0; c < Math.min(columns, c0 + TRANSPOSE_BLOCK); c++) out[c * depth + j] = a[j * columns + c];
        return new PaddedRows(out, columns, depth);
    }

    private static int paddedLength(int rows, int depth) {
        long size = (long) (rows + ROWS - 1) / ROWS * ROWS * depth;
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("operand too large: " + rows + " × " + depth);
        return (int) size;
    }
}
