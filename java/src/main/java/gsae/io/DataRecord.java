package gsae.io;

import java.util.List;

/**
 * What a run was trained on, as its checkpoint records it: enough to refuse a resume on other data
 * and to export the SAE without the data folder.
 *
 * @param description one line for people: "teacher", or the shard paths as given
 * @param shards      a fingerprint of each shard in stream order; empty for the teacher
 * @param source      the model and hook the shards were harvested from; null when no manifest said
 */
public record DataRecord(String description, List<ShardPrint> shards, Manifest source) {

    /** The embedded teacher's description. */
    public static final String TEACHER = "teacher";

    /**
     * One shard as it was when the run started.
     *
     * @param name   its file name when the run started (for messages; a renamed shard is still the same data)
     * @param bytes  the size of its file(s)
     * @param sha256 SHA-256 of its header(s) and of the first and last {@value ShardPrint#SAMPLE} bytes of its data
     */
    public record ShardPrint(String name, long bytes, String sha256) {
        /** Bytes hashed at each end of the data, beside the header: equal-shaped shards differ here. */
        public static final int SAMPLE = 1 << 16;

        /** The same data, whatever it is called now. */
        public boolean sameData(ShardPrint other) {
            return bytes == other.bytes && sha256.equals(other.sha256);
        }
    }

    public DataRecord {
        if (description == null || description.isBlank()) throw new IllegalArgumentException("a data record needs a description");
        shards = List.copyOf(shards);
    }

    /** The embedded teacher: no files. */
    public static DataRecord teacher() {
        return new DataRecord(TEACHER, List.of(), null);
    }

    /** Data known only by a description (synthetic streams in tests, or a checkpoint from before fingerprints). */
    public static DataRecord described(String description) {
        return new DataRecord(description, List.of(), null);
    }

    public boolean isTeacher() {
        return TEACHER.equals(description) && shards.isEmpty();
    }
}
