package gsae.cpu;

import gsae.ops.Selection;

import java.util.Arrays;

/**
 * The selected (token, slot) pairs of one selection grouped by latent: a counting sort into CSR,
 * stable, so each latent's pairs stay in token order. Grouping lets one worker own each latent's
 * gradient rows, which keeps the weight gradients free of races and of the thread count.
 * Arrays are reused between builds and only grow.
 */
final class LatentPairs {

    /** Latent i's pairs are positions start[i] … start[i+1]−1.  [M + 1] */
    int[] start = new int[1];
    /** Offset n·d of the pair's token row.  [pairs] */
    int[] rowOff = new int[0];
    /** a[n, slot] = ReLU(z) of the pair.  [pairs] */
    float[] a = new float[0];
    /** dz[n, slot] of the pair.  [pairs] */
    float[] dz = new float[0];
    private int[] next = new int[0];

    /** No pairs for any of m latents. */
    void clear(int m) {
        if (start.length < m + 1) start = new int[m + 1];
        else Arrays.fill(start, 0, m + 1, 0);
    }

    /**
     * Groups the pairs of s by latent.
     *
     * @param dzPerSlot dz of every selected pair  [N, k]
     */
    void build(Selection s, float[] dzPerSlot, int d, int m) {
        int pairs = s.n() * s.k();
        clear(m);
        if (rowOff.length < pairs) {
            rowOff = new int[pairs];
            a = new float[pairs];
            dz = new float[pairs];
        }
        int[] idx = s.indices();
        for (int q = 0; q < pairs; q++) start[idx[q] + 1]++;
        for (int i = 0; i < m; i++) start[i + 1] += start[i];
        if (next.length < m) next = new int[m];
        System.arraycopy(start, 0, next, 0, m);
        for (int q = 0; q < pairs; q++) {
            int at = next[idx[q]]++;
            rowOff[at] = q / s.k() * d;
            a[at] = s.values()[q];
            dz[at] = dzPerSlot[q];
        }
    }

    int count(int i) {
        return start[i + 1] - start[i];
    }
}
