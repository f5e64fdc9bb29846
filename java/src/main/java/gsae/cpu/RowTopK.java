package gsae.cpu;

import gsae.ops.Selection;

import java.util.Arrays;

/**
 * The k best (score, latent) candidates of each row in a block of rows, as one min-heap per row
 * whose root is the worst kept candidate. "Better" is SPEC §2's order: larger score, then lower
 * latent index. {@link #threshold} exposes the root's score so that a caller can reject most
 * candidates with one vector compare before calling {@link #offer}.
 */
final class RowTopK {

    private final int k;
    private final float[] score; // [rows, k] heap-ordered per row
    private final float[] z;     // [rows, k] pre-activation of each kept candidate
    private final int[] latent;  // [rows, k]
    private final int[] size;    // [rows]
    private final float[] threshold; // [rows] −∞ until the row holds k candidates, then the root's score

    RowTopK(int rows, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be ≥ 1, got " + k);
        this.k = k;
        score = new float[rows * k];
        z = new float[rows * k];
        latent = new int[rows * k];
        size = new int[rows];
        threshold = new float[rows];
        Arrays.fill(threshold, Float.NEGATIVE_INFINITY);
    }

    /** Candidates kept per row. */
    int k() {
        return k;
    }

    /** A candidate whose score is below this can never be kept in the row. */
    float threshold(int row) {
        return threshold[row];
    }

    /** Keeps (s, zi, i) in the row if it is among the k best seen so far. */
    void offer(int row, float s, float zi, int i) {
        int base = row * k, n = size[row];
        if (n < k) {
            siftUp(base, n, s, zi, i);
            size[row] = n + 1;
            if (n + 1 == k) threshold[row] = score[base];
            return;
        }
        if (!worse(score[base], latent[base], s, i)) return;
        siftDown(base, s, zi, i);
        threshold[row] = score[base];
    }

    /** True when candidate (sa, ia) ranks below (sb, ib). */
    private static boolean worse(float sa, int ia, float sb, int ib) {
        return sa < sb || (sa == sb && ia > ib);
    }

    private void siftUp(int base, int at, float s, float zi, int i) {
        while (at > 0) {
            int parent = (at - 1) >>> 1;
            if (!worse(s, i, score[base + parent], latent[base + parent])) break;
            move(base + parent, base + at);
            at = parent;
        }
        put(base + at, s, zi, i);
    }

    private void siftDown(int base, float s, float zi, int i) {
        int at = 0;
        while (true) {
            int child = 2 * at + 1;
            if (child >= k) break;
            if (child + 1 < k && worse(score[base + child + 1], latent[base + child + 1], score[base + child], latent[base + child])) child++;
            if (!worse(score[base + child], latent[base + child], s, i)) break;
            move(base + child, base + at);
            at = child;
        }
        put(base + at, s, zi, i);
    }

    private void move(int from, int to) {
        score[to] = score[from];
        z[to] = z[from];
        latent[to] = latent[from];
    }

    private void put(int at, float s, float zi, int i) {
        score[at] = s;
        z[at] = zi;
        latent[at] = i;
    }

    /** Writes the row's k latents in ascending order with values ReLU(z) into row outRow of out. */
    void write(int row, Selection out, int outRow) {
        if (size[row] != k) throw new IllegalStateException("row " + row + " holds " + size[row] + " of " + k + " candidates");
        int base = row * k, at = outRow * k;
        long[] packed = new long[k];
        for (int j = 0; j < k; j++) packed[j] = ((long) latent[base + j] << 32) | j;
        Arrays.sort(packed);
        for (int j = 0; j < k; j++) {
            int slot = base + (int) packed[j];
            out.indices()[at + j] = latent[slot];
            out.values()[at + j] = Math.max(0f, z[slot]);
        }
    }
}
