package gsae.parallel;

import gsae.comm.Collectives;
import gsae.ops.LatentShard;
import gsae.ops.Selection;

import java.util.Arrays;

/**
 * One selection across latent shards (issue #15). Each rank offers, per token, its own best
 * candidates as (score, global latent index) pairs, at most {@code width} of them; the pairs are
 * all-gathered and every rank keeps the same {@code width} best by SPEC §2's rule: larger score
 * first, then lower latent index. Any latent in the global top {@code width} is in its own rank's
 * top {@code width}, so the merge equals a selection over all M latents at once.
 *
 * <p>Traffic: every rank receives N·width·P pairs of 8 bytes (float score, int index), whatever M.
 */
public final class GlobalTopK {

    /**
     * A merged selection.
     *
     * @param global   the chosen global latents, ascending within a row; the same on every rank  [N, width]
     * @param own      the same slots as this rank sees them: owned latents by local index with their activations
     * @param positive owned slots with a > 0 (this rank's share of L0's count)
     */
    public record Merged(int[] global, OwnedPairs own, long positive) {}

    private GlobalTopK() {}

    /**
     * @param local  this rank's candidates by local index with activations, at most width per row; null offers none
     * @param scores their scores [N, local.k]
     */
    public static Merged merge(Collectives comm, LatentShard shard, int n, int width, Selection local, float[] scores) {
        int offered = local == null ? 0 : local.k();
        if (offered > width) throw new IllegalArgumentException("offered " + offered + " candidates per token for " + width + " places");
        float[] sendScores = new float[n * width];
        int[] sendIndices = new int[n * width];
        Arrays.fill(sendScores, Float.NEGATIVE_INFINITY);
        Arrays.fill(sendIndices, Integer.MAX_VALUE);
        for (int row = 0; row < n; row++)
            for (int slot = 0; slot < offered; slot++) {
                sendScores[row * width + slot] = scores[row * offered + slot];
                sendIndices[row * width + slot] = shard.first() + local.indices()[row * offered + slot];
            }
        float[] allScores = comm.allGather(sendScores);
        int[] allIndices = comm.allGather(sendIndices);

        int ranks = comm.size(), block = n * width;
        int[] global = new int[n * width], ownIdx = new int[n * width];
        Arrays.fill(ownIdx, OwnedPairs.ELSEWHERE);
        float[] ownVal = new float[n * width];
        long[] keys = new long[ranks * width];
        long positive = 0;
        for (int row = 0; row < n; row++) {
            for (int r = 0; r < ranks; r++)
                for (int slot = 0; slot < width; slot++) {
                    int at = r * block + row * width + slot;
                    keys[r * width + slot] = key(allScores[at], allIndices[at]);
                }
            Arrays.sort(keys);
            for (int j = 0; j < width; j++) global[row * width + j] = Integer.MAX_VALUE - (int) keys[keys.length - 1 - j];
            Arrays.sort(global, row * width, (row + 1) * width);
            if (global[(row + 1) * width - 1] == Integer.MAX_VALUE)
                throw new IllegalStateException("fewer than " + width + " candidates offered for token " + row);
            for (int j = 0; j < width; j++) {
                int at = row * width + j, latent = global[at];
                if (!shard.owns(latent)) continue;
                ownIdx[at] = latent - shard.first();
                ownVal[at] = activation(local, row, ownIdx[at]);
                if (ownVal[at] > 0f) positive++;
            }
        }
        return new Merged(global, new OwnedPairs(n, width, ownIdx, ownVal), positive);
    }

    /**
     * A long ordered as the rule orders candidates: the score's bits made monotone in the high
     * half (so −0 sorts below +0, as Double.compare has it), MAX − index in the low half.
     */
    static long key(float score, int index) {
        int bits = Float.floatToIntBits(score);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) bits << 32) | (Integer.MAX_VALUE - index);
    }

    /** The activation this rank offered for a local latent in a token's row. */
    private static float activation(Selection local, int row, int latent) {
        int k = local.k();
        for (int slot = row * k; slot < (row + 1) * k; slot++)
            if (local.indices()[slot] == latent) return local.values()[slot];
        throw new IllegalStateException("latent " + latent + " chosen for token " + row + " was not offered by this rank");
    }
}
