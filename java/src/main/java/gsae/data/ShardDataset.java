package gsae.data;

import gsae.io.DataException;
import gsae.io.DataRecord;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Tokens from shards on disk as an endless stream: memory-mapped, converted to float32 row by row,
 * in the order of {@link StreamOrder} (seeded chunk-and-window shuffle, or plain order).
 * <p>
 * Rows holding NaN or Inf are an error naming the file and row, or with {@code skipNonfinite}
 * are skipped and counted. {@link #position()} counts stream rows consumed, handed out or skipped:
 * it equals the tokens handed out when nothing was skipped, and {@code seek(position())} on a fresh
 * dataset continues exactly where this one stands, in O(1), because a row's place in the stream does
 * not depend on which rows before it were skipped.
 */
public final class ShardDataset implements BatchSource {

    /** Rows per chunk: consecutive rows of one shard read together. */
    static final int CHUNK_ROWS = 256;
    /** Chunks per shuffle window: 16,384 rows mixed from up to 64 places in the data. */
    static final int WINDOW_CHUNKS = 64;

    private final List<Shard> shards;
    private final long[] shardStart;
    private final int d;
    private final StreamOrder order;
    private final boolean skipNonfinite;
    private final String description;
    private long position;
    private long skipped;

    private ShardDataset(List<Shard> shards, int d, StreamOrder order, boolean skipNonfinite, String description) {
        this.shards = shards;
        this.d = d;
        this.order = order;
        this.skipNonfinite = skipNonfinite;
        this.description = description;
        shardStart = new long[shards.size() + 1];
        for (int s = 0; s < shards.size(); s++) shardStart[s + 1] = shardStart[s] + shards.get(s).rows();
    }

    /**
     * Opens shards given as directories (every *.act.npy/*.grad.npy pair and *.safetensors inside)
     * or files; validates all headers up front. shuffle=false reads rows in order (evaluation).
     * Bad input throws gsae.io.DataException naming the file.
     */
    public static ShardDataset open(List<Path> paths, long seed, boolean shuffle, boolean skipNonfinite) {
        return open(paths, seed, shuffle, skipNonfinite, CHUNK_ROWS, WINDOW_CHUNKS);
    }

    /** As {@link #open(List, long, boolean, boolean)} with the shuffle's chunk and window sizes given (tests). */
    static ShardDataset open(List<Path> paths, long seed, boolean shuffle, boolean skipNonfinite, int chunkRows, int windowChunks) {
        List<Shard> shards = ShardFiles.open(paths);
        try {
            int d = shards.getFirst().d();
            for (Shard s : shards)
                if (s.d() != d)
                    throw new DataException(s.file(), "has width d=" + s.d() + " but " + shards.getFirst().file() + " has d=" + d);
            long[] rows = shards.stream().mapToLong(Shard::rows).toArray();
            long total = 0;
            for (Shard s : shards) {
                try {
                    total = Math.addExact(total, s.rows());
                } catch (ArithmeticException overflow) {
                    throw new DataException(s.file(), "brings the dataset past 2^63 tokens");
                }
            }
            if (total == 0) throw new DataException(shards.getFirst().file(), "dataset holds no tokens: every shard has 0 rows");
            if (total / chunkRows >= Integer.MAX_VALUE - shards.size())
                throw new DataException(shards.getFirst().file(), "dataset of " + total + " tokens in " + shards.size()
                        + " shards is too large to index (at most about 2^31 chunks of " + chunkRows + " rows)");
            StreamOrder order = new StreamOrder(rows, seed, shuffle, chunkRows, windowChunks);
            String where = paths.stream().map(Path::toString).collect(Collectors.joining(", "));
            String description = shards.size() + " shards, " + order.total() + " tokens, d=" + d + (shuffle ? ", shuffled" : "") + " in " + where;
            return new ShardDataset(shards, d, order, skipNonfinite, description);
        } catch (RuntimeException e) {
            shards.forEach(Shard::close);
            throw e;
        }
    }

    /** The fingerprint of every shard under {@code paths}, in stream order, without opening them as data (see ShardFiles). */
    public static List<DataRecord.ShardPrint> fingerprints(List<Path> paths) {
        return ShardFiles.fingerprints(paths);
    }

    /** Total tokens across shards. */
    public long tokens() {
        return order.total();
    }

    @Override
    public int d() {
        return d;
    }

    /** Fills x and g ([n, d] each) with the next n finite rows of the stream. */
    @Override
    public void next(float[] x, float[] g, int n) {
        if (x.length < (long) n * d || g.length < (long) n * d)
            throw new IllegalArgumentException("buffers hold " + Math.min(x.length, g.length) + " values, need " + n + "×" + d);
        long skippedInARow = 0;
        for (int filled = 0; filled < n; ) {
            long row = order.rowAt(position++);
            int s = shardOf(row);
            Shard shard = shards.get(s);
            long local = row - shardStart[s];
            if (shard.read(local, x, g, filled * d)) {
                filled++;
                skippedInARow = 0;
            } else if (!skipNonfinite) {
                throw shard.nonFinite(local, x, filled * d);
            } else {
                skipped++;
                if (++skippedInARow > order.total())
                    throw new DataException(shards.getFirst().file(), "every row of the dataset holds NaN or Inf");
            }
        }
    }

    /** The shard holding concatenated row {@code row}: the last one starting at or before it. */
    private int shardOf(long row) {
        int s = Arrays.binarySearch(shardStart, row);
        if (s < 0) return -s - 2;
        while (shardStart[s + 1] == row) s++;
        return s;
    }

    /** Stream rows consumed so far, handed out or skipped (see the class comment). */
    @Override
    public long position() {
        return position;
    }

    @Override
    public void seek(long tokens) {
        if (tokens < 0) throw new IllegalArgumentException("data position must be ≥ 0, got " + tokens);
        position = tokens;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public long skippedRows() {
        return skipped;
    }

    @Override
    public void close() {
        shards.forEach(Shard::close);
    }
}
