package gsae.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Which row of the dataset sits at each position of the endless stream. Rows are numbered in
 * concatenation order (shard order, then row order); T is their count and epoch e covers positions
 * [e·T, (e+1)·T), each row exactly once.
 * <p>
 * Unshuffled, position p is row p mod T. Shuffled, each shard is cut into chunks of
 * {@code chunkRows} consecutive rows; per epoch the chunks of all shards are put in a seeded random
 * order, that order is cut into windows of {@code windowChunks} chunks, and the rows of each window
 * are shuffled by a generator seeded from (seed, epoch, window). Reads stay chunk-local on disk while
 * tokens from up to {@code windowChunks} places in the data are mixed in every stretch of the stream,
 * and finding the row at any position recomputes only that epoch's chunk order and one window:
 * seeking never replays data.
 */
final class StreamOrder {

    private final long total;
    private final boolean shuffle;
    private final long seed;
    private final int windowChunks;
    private final long[] chunkStart;
    private final int[] chunkLen;

    private long epoch = -1;
    private int[] chunkOrder;
    private long[] windowStart;

    private long windowEpoch = -1;
    private int window = -1;
    private long[] windowRows;

    /**
     * @param shardRows rows in each shard, in dataset order
     */
    StreamOrder(long[] shardRows, long seed, boolean shuffle, int chunkRows, int windowChunks) {
        if (chunkRows < 1 || windowChunks < 1) throw new IllegalArgumentException("chunk rows and window chunks must be ≥ 1");
        this.seed = seed;
        this.shuffle = shuffle;
        this.windowChunks = windowChunks;
        long rows = 0, chunks = 0;
        for (long n : shardRows) {
            rows += n;
            chunks += (n + chunkRows - 1) / chunkRows;
        }
        if (chunks > Integer.MAX_VALUE) throw new IllegalArgumentException("too many chunks: " + chunks);
        total = rows;
        chunkStart = new long[(int) chunks];
        chunkLen = new int[(int) chunks];
        int c = 0;
        long start = 0;
        for (long n : shardRows) {
            for (long r = 0; r < n; r += chunkRows, c++) {
                chunkStart[c] = start + r;
                chunkLen[c] = (int) Math.min(chunkRows, n - r);
            }
            start += n;
        }
    }

    /** Rows in one epoch. */
    long total() {
        return total;
    }

    /** The row (in concatenation order) at stream position {@code position} ≥ 0. */
    long rowAt(long position) {
        long e = position / total, offset = position % total;
        if (!shuffle) return offset;
        useEpoch(e);
        int w = Arrays.binarySearch(windowStart, offset);
        if (w < 0) w = -w - 2;
        useWindow(e, w);
        return windowRows[(int) (offset - windowStart[w])];
    }

    /** The epoch's chunk order and where each window starts within the epoch. */
    private void useEpoch(long e) {
        if (e == epoch) return;
        int chunks = chunkLen.length;
        chunkOrder = new int[chunks];
        for (int i = 0; i < chunks; i++) chunkOrder[i] = i;
        shuffle(chunkOrder, random(e, -1));
        int windows = (chunks + windowChunks - 1) / windowChunks;
        windowStart = new long[windows];
        long at = 0;
        for (int i = 0; i < chunks; i++) {
            if (i % windowChunks == 0) windowStart[i / windowChunks] = at;
            at += chunkLen[chunkOrder[i]];
        }
        epoch = e;
        windowEpoch = -1;
    }

    /** The rows of window w of epoch e in their shuffled order. */
    private void useWindow(long e, int w) {
        if (e == windowEpoch && w == window) return;
        int from = w * windowChunks, to = Math.min(chunkLen.length, from + windowChunks);
        int rows = 0;
        for (int i = from; i < to; i++) rows += chunkLen[chunkOrder[i]];
        windowRows = new long[rows];
        int at = 0;
        for (int i = from; i < to; i++) {
            int c = chunkOrder[i];
            for (int r = 0; r < chunkLen[c]; r++) windowRows[at++] = chunkStart[c] + r;
        }
        SplittableRandom rng = random(e, w);
        for (int i = rows - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long t = windowRows[i];
            windowRows[i] = windowRows[j];
            windowRows[j] = t;
        }
        windowEpoch = e;
        window = w;
    }

    /** Fisher–Yates. */
    private static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** A generator that depends only on (seed, epoch, window); window −1 orders the chunks. */
    private SplittableRandom random(long e, long w) {
        return new SplittableRandom(mix(mix(mix(seed) + e) + w));
    }

    /** SplitMix64's finaliser: a bijection on longs that spreads every input bit over the output. */
    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
