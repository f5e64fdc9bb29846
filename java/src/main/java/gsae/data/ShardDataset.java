package gsae.data;

import java.nio.file.Path;
import java.util.List;

/** PLACEHOLDER (issue #2, being written): shard datasets; replaced before landing. */
public final class ShardDataset implements BatchSource {
    /**
     * Opens shards given as directories (every *.act.npy/*.grad.npy pair and *.safetensors inside)
     * or files; validates all headers up front. shuffle=false reads rows in order (evaluation).
     * Bad input throws gsae.io.DataException naming the file.
     */
    public static ShardDataset open(List<Path> paths, long seed, boolean shuffle, boolean skipNonfinite) { throw new UnsupportedOperationException(); }
    /** Total tokens across shards. */
    public long tokens() { throw new UnsupportedOperationException(); }
    @Override public int d() { throw new UnsupportedOperationException(); }
    @Override public void next(float[] x, float[] g, int n) { throw new UnsupportedOperationException(); }
    @Override public long position() { throw new UnsupportedOperationException(); }
    @Override public void seek(long tokens) { throw new UnsupportedOperationException(); }
    @Override public String describe() { throw new UnsupportedOperationException(); }
    @Override public void close() {}
}
