package gsae.cpu;

import static gsae.cpu.MicroKernel.WIDTH;

/**
 * The right-hand operand of a product, repacked once into contiguous panels of {@link MicroKernel#WIDTH}
 * columns so that the micro-kernel reads it sequentially: P[p, j, c] = B'[j, p·WIDTH + c], where B' is
 * the operand as the product sees it ([depth, columns]). The tail panel is zero-padded.
 */
final class PackedPanels {

    /** The panels.   [count, depth, WIDTH] */
    final float[] data;
    final int count;
    final int depth;
    final int columns;

    private PackedPanels(int count, int depth, int columns) {
        long size = (long) count * depth * WIDTH;
        if (size > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("operand too large to pack: " + columns + " × " + depth);
        this.data = new float[(int) size];
        this.count = count;
        this.depth = depth;
        this.columns = columns;
    }

    /** Offset of panel p in {@link #data}. */
    int offset(int p) {
        return p * depth * WIDTH;
    }

    /** Packs B given as rows, so the product reads Bᵀ: P[p, j, c] = b[(p·WIDTH + c)·depth + j]. */
    static PackedPanels ofRows(Workers workers, float[] b, int rows, int depth) { // b: [rows, depth]
        return ofRows(workers, b, rows, depth, null);
    }

    /**
     * As {@link #ofRows(Workers, float[], int, int)}, writing into {@code reuse} when it has this shape
     * (its zero padding stays zero: only the real columns are written), else into new panels.
     */
    static PackedPanels ofRows(Workers workers, float[] b, int rows, int depth, PackedPanels reuse) { // b: [rows, depth]
        boolean fits = reuse != null && reuse.columns == rows && reuse.depth == depth;
        PackedPanels out = fits ? reuse : new PackedPanels(panelsFor(rows), depth, rows);
        workers.forEach(out.count, p -> {
            int first = p * WIDTH, cols = Math.min(WIDTH, rows - first), base = out.offset(p);
            for (int j = 0; j < depth; j++)
                for (int c = 0; c < cols; c++) out.data[base + j * WIDTH + c] = b[(first + c) * depth + j];
        });
        return out;
    }

    /** Packs B as it stands: P[p, j, c] = b[j·columns + p·WIDTH + c]. */
    static PackedPanels ofColumns(Workers workers, float[] b, int depth, int columns) { // b: [depth, columns]
        PackedPanels out = new PackedPanels(panelsFor(columns), depth, columns);
        workers.forEach(out.count, p -> {
            int first = p * WIDTH, cols = Math.min(WIDTH, columns - first), base = out.offset(p);
            for (int j = 0; j < depth; j++) System.arraycopy(b, j * columns + first, out.data, base + j * WIDTH, cols);
        });
        return out;
    }

    static int panelsFor(int columns) {
        return (columns + WIDTH - 1) / WIDTH;
    }
}
