package gsae.io;

import gsae.tensor.ChunkedTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes the transpose [c, r] of a row-major tensor [r, c] of 4-byte elements into a file, reading
 * the tensor once, a tile of rows × columns at a time: for rows [i0, i1) and columns [j0, j1), column
 * j's run of i1 − i0 elements lands at element j·r + i0 of the output, one positional write each.
 * Memory stays at one tile ({@link #tileBytes}) and {@link #GROUP} runs ({@link #runBytes} each)
 * whatever the tensor's size (an SAE's W_enc past 2³¹ − 1 elements, exported for SAELens). Tiles
 * span whole rows unless a row is wider than a tile, so a tile is one read for SAE shapes (c = d).
 */
final class Transpose {

    /** Bytes of the tensor held at a time; tests lower it to cross many tile boundaries. */
    static int tileBytes = 64 << 20;

    /** Bytes of one positional write at most: a narrow tensor's tile holds more rows, not longer runs. */
    static int runBytes = 1 << 20;

    /**
     * Columns gathered in one pass over the tile: a 64-byte cache line of each row, so the tile is read
     * from memory once, not once per column.
     */
    private static final int GROUP = 16;

    private Transpose() {}

    /** Writes the transpose of {@code t} [r, c] (as {@link SafeTensors.Source.Transposed} checks) at byte {@code at} of {@code ch}, filling [at, at + t.byteSize()). */
    static void write(FileChannel ch, long at, ChunkedTensor t) throws IOException {
        long rows = t.shape()[0], cols = t.shape()[1];
        int tileCols = (int) Math.max(1, Math.min(cols, tileBytes / 4));
        int tileRows = (int) Math.max(1, Math.min(rows, Math.min(tileBytes / 4 / tileCols, runBytes / 4)));
        int[] tile = new int[tileRows * tileCols]; // [tileRows, tileCols], each element's bytes as the file has them
        MemorySegment tileView = MemorySegment.ofArray(tile);
        int[][] runs = new int[Math.min(GROUP, tileCols)][tileRows]; // [GROUP][tileRows]: columns of the tile
        ByteBuffer out = ByteBuffer.allocate(4 * tileRows);
        MemorySegment outView = MemorySegment.ofBuffer(out);
        for (long j0 = 0; j0 < cols; j0 += tileCols) {
            int nc = (int) Math.min(tileCols, cols - j0);
            for (long i0 = 0; i0 < rows; i0 += tileRows) {
                int nr = (int) Math.min(tileRows, rows - i0);
                if (nc == cols) t.chunks().read(4 * i0 * cols, tileView.asSlice(0, 4L * nr * nc));
                else for (int r = 0; r < nr; r++)
                    t.chunks().read(4 * ((i0 + r) * cols + j0), tileView.asSlice(4L * r * nc, 4L * nc));
                for (int c0 = 0; c0 < nc; c0 += GROUP) {
                    int g = Math.min(GROUP, nc - c0);
                    for (int r = 0; r < nr; r++)
                        for (int q = 0, first = r * nc + c0; q < g; q++) runs[q][r] = tile[first + q];
                    for (int q = 0; q < g; q++) {
                        MemorySegment.copy(MemorySegment.ofArray(runs[q]), 0, outView, 0, 4L * nr);
                        out.clear().limit(4 * nr);
                        long pos = at + 4 * ((j0 + c0 + q) * rows + i0);
                        while (out.hasRemaining()) pos += ch.write(out, pos);
                    }
                }
            }
        }
    }
}
