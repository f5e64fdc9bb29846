package gsae.api;

import gsae.data.BatchSource;
import gsae.data.ShardDataset;
import gsae.data.Teacher;

import java.nio.file.Path;
import java.util.List;

/** Where a {@link DataRun} gets its tokens: the embedded teacher, or shard files; tests plug in their own streams. */
public interface DataSources {

    /** The training stream of the standard teacher for {@code seed}. */
    BatchSource teacher(long seed);

    /** Shards opened shuffled with {@code seed}. */
    BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite);

    /** The standard teacher ({@code Teacher.standard(seed).source(seed)}) and {@code ShardDataset}. */
    static DataSources standard() {
        return new DataSources() {
            @Override
            public BatchSource teacher(long seed) {
                return Teacher.standard(seed).source(seed);
            }

            @Override
            public BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite) {
                return ShardDataset.open(paths, seed, true, skipNonfinite);
            }
        };
    }
}
