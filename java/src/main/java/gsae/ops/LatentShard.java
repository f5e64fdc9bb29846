package gsae.ops;

/**
 * The contiguous range of latents [first, end) one of {@code ranks} processes owns when M latents
 * are sharded across them (issue #15): rank r owns [⌊r·M/P⌋, ⌊(r+1)·M/P⌋), so the ranges tile
 * [0, M) in rank order and differ in size by at most one, for any M and P.
 *
 * @param rank    this shard's rank, 0 ≤ rank < ranks
 * @param ranks   P, the number of shards
 * @param latents M, the number of latents of the whole SAE
 * @param first   the first latent owned
 * @param end     one past the last latent owned
 */
public record LatentShard(int rank, int ranks, int latents, int first, int end) {

    public LatentShard {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
        if (latents < ranks) throw new IllegalArgumentException("cannot shard " + latents + " latents across " + ranks + " ranks");
        if (first != bound(rank, ranks, latents) || end != bound(rank + 1, ranks, latents))
            throw new IllegalArgumentException("rank " + rank + " of " + ranks + " owns latents " + bound(rank, ranks, latents) + ".."
                    + bound(rank + 1, ranks, latents) + ", not " + first + ".." + end);
    }

    /** Rank {@code rank}'s shard of M = {@code latents} latents across {@code ranks} ranks. */
    public static LatentShard of(int rank, int ranks, int latents) {
        return new LatentShard(rank, ranks, latents, bound(rank, ranks, latents), bound(rank + 1, ranks, latents));
    }

    /** The whole SAE as one shard. */
    public static LatentShard whole(int latents) {
        return of(0, 1, latents);
    }

    private static int bound(int rank, int ranks, int latents) {
        return (int) ((long) rank * latents / ranks);
    }

    /** Latents owned, end − first. */
    public int count() {
        return end - first;
    }

    public boolean owns(int latent) {
        return latent >= first && latent < end;
    }
}
