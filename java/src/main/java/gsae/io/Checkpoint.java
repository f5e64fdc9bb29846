package gsae.io;

import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A checkpoint directory (SPEC §8, training state for resume): {@code model.safetensors} (sparsify
 * names), {@code state.safetensors} (Adam moments and dead-latent counters) and
 * {@code checkpoint.json} (configs, scales, step, data position), written last as the mark of a
 * complete directory.
 *
 * <p>Saving writes a sibling {@code DIR.tmp} completely, then renames {@code DIR → DIR.old} and
 * {@code DIR.tmp → DIR}, then deletes {@code DIR.old}. Every rename is atomic, so after a crash at
 * any point either {@code DIR} or {@code DIR.old} is complete, and {@link #load} falls back to
 * {@code DIR.old} when {@code DIR} is missing or incomplete.
 *
 * <p>A run with its latents sharded across ranks writes the same directory in the layout of {@link
 * ShardedCheckpoint} (checkpoint.json and one file per shard, by the same renames); {@link #load}
 * reads either layout, gathering a sharded one into one state.
 *
 * <p>No generator state is stored: initialisation is the only random draw, and every data source
 * derives its order from (seed, position), so the seed and the data position resume it exactly.
 *
 * <p>{@link #load} reads the configuration and checks the tensors' names, types and shapes; the
 * tensors themselves are read when the state is asked for ({@link #state()} into host arrays, or a
 * device backend uploading them a chunk at a time from the mapped files through {@link #start()}),
 * and a NaN or infinity found then is a {@link DataException} naming the tensor. A sharded
 * checkpoint is read the same way from its shard files; a rank of a latent-sharded run reads only
 * its latents' rows of either layout ({@link StartState#shard}).
 *
 * @param sae          the SAE's configuration
 * @param train        the run's configuration
 * @param scales       grad_scale and act_scale
 * @param start        parameters, Adam moments, step, dead counters: held, fresh or stored
 * @param dataPosition tokens consumed from the data source
 * @param data         what the run trains on: the teacher, or shards with their fingerprints and source
 * @param parallel     how many processes trained it and how (checkpoint.json's optional {@code parallel}; absent means one process)
 */
public record Checkpoint(SaeConfig sae, TrainConfig train, Scales scales, StartState start, long dataPosition, DataRecord data,
                         Parallelism parallel) {

    /** Version of the directory layout; a loader refuses any other. */
    public static final int FORMAT_VERSION = 1;

    static final String MODEL = "model.safetensors";
    static final String STATE = "state.safetensors";
    static final String META = "checkpoint.json";

    public Checkpoint {
        check(sae, train, start.d(), start.m(), start.step(), dataPosition);
        if (parallel == null) throw new IllegalArgumentException("parallel must be set (Parallelism.SINGLE for one process)");
    }

    /** A checkpoint of a run in one process. */
    public Checkpoint(SaeConfig sae, TrainConfig train, Scales scales, StartState start, long dataPosition, DataRecord data) {
        this(sae, train, scales, start, dataPosition, data, Parallelism.SINGLE);
    }

    /** A checkpoint of a state in host arrays. */
    public Checkpoint(SaeConfig sae, TrainConfig train, Scales scales, TrainState state, long dataPosition, DataRecord data,
                      Parallelism parallel) {
        this(sae, train, scales, new StartState.Held(state), dataPosition, data, parallel);
    }

    /** A checkpoint of a state in host arrays, of a run in one process. */
    public Checkpoint(SaeConfig sae, TrainConfig train, Scales scales, TrainState state, long dataPosition, DataRecord data) {
        this(sae, train, scales, state, dataPosition, data, Parallelism.SINGLE);
    }

    /**
     * The state in host arrays: read (or drawn) on the first call, the same arrays after. An SAE
     * whose M·d exceeds one Java array is refused here with the way around it (see
     * {@link gsae.config.Sizes#hostState}); a device backend starts from {@link #start()} instead.
     */
    public TrainState state() {
        return start.host();
    }

    static void check(SaeConfig sae, TrainConfig train, int d, int m, long step, long dataPosition) {
        if (d != sae.d() || m != sae.latents())
            throw new IllegalArgumentException("checkpoint state has d=" + d + ", M=" + m + " but the SAE config says d=" + sae.d() + ", M=" + sae.latents());
        if (dataPosition < 0) throw new IllegalArgumentException("data position must be ≥ 0, got " + dataPosition);
        if (step < 0 || step > train.steps())
            throw new IllegalArgumentException("step " + step + " is outside the run's 0.." + train.steps() + " steps");
    }

    /** What a fresh run saving to {@code dir} would replace: {@code dir} and its {@code .old} twin, those that exist. */
    public static List<Path> existing(Path dir) {
        return Stream.of(dir.toAbsolutePath(), sibling(dir, ".old")).filter(Files::exists).toList();
    }

    /** Loads a checkpoint directory (or its {@code .old} twin after an interrupted save); a missing or damaged one is a DataException naming the file. */
    public static Checkpoint load(Path dir) {
        return loadComplete(dir, Checkpoint::read);
    }

    /**
     * {@code read} of {@code dir} when it is complete and readable, else of its {@code .old} twin
     * when that is; otherwise a DataException naming the missing file.
     */
    static <T> T loadComplete(Path dir, Function<Path, T> read) {
        Path old = sibling(dir, ".old");
        if (isComplete(dir)) {
            try {
                return read.apply(dir);
            } catch (DataException e) {
                if (isComplete(old)) return read.apply(old);
                throw e;
            }
        }
        if (isComplete(old)) return read.apply(old);
        if (!Files.isDirectory(dir)) throw new DataException(dir, "no such checkpoint folder");
        Path missing = ShardedCheckpoint.missingShard(dir);
        if (missing == null)
            missing = Stream.of(META, MODEL, STATE).map(dir::resolve).filter(f -> !Files.isRegularFile(f)).findFirst().orElseThrow();
        throw new DataException(missing, "missing, so " + dir + " is not a complete checkpoint");
    }

    /** A complete directory in either layout, its state read when asked. */
    static Checkpoint read(Path dir) {
        return isSingleFile(dir) ? CheckpointFiles.read(dir) : ShardedCheckpoint.read(dir);
    }

    /**
     * Writes this checkpoint to {@code dir} atomically: a crash mid-write leaves the previous one
     * loadable. A state stored in files and not read yet is copied from them chunk by chunk.
     */
    public void save(Path dir) {
        saveAtomically(dir, tmp -> CheckpointFiles.write(this, tmp));
    }

    /**
     * Writes a checkpoint of {@code state} to {@code dir} atomically, as {@link #save(Path)} does,
     * reading the tensors chunk by chunk: how a device backend's state ({@code TrainingStep.chunks()})
     * is saved without a host copy of it. The arguments are checked as the constructor checks them.
     */
    public static void save(Path dir, SaeConfig sae, TrainConfig train, Scales scales, StateChunks state, long dataPosition, DataRecord data) {
        save(dir, sae, train, scales, state, dataPosition, data, Parallelism.SINGLE);
    }

    /** {@link #save(Path, SaeConfig, TrainConfig, Scales, StateChunks, long, DataRecord)} for a run spread as {@code parallel}. */
    public static void save(Path dir, SaeConfig sae, TrainConfig train, Scales scales, StateChunks state, long dataPosition, DataRecord data,
                            Parallelism parallel) {
        check(sae, train, state.d(), state.m(), state.step(), dataPosition);
        saveAtomically(dir, tmp -> CheckpointFiles.write(CheckpointFiles.meta(sae, train, scales, state.step(), dataPosition, data, parallel), state, tmp));
    }

    private interface Writer {
        void write(Path tmp) throws IOException;
    }

    private static void saveAtomically(Path dir, Writer files) {
        try {
            Path tmp = freshTmp(dir);
            files.write(tmp);
            swapIn(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Empties (creates) the sibling {@code DIR.tmp} a save writes into, and returns it. */
    static Path freshTmp(Path dir) throws IOException {
        Path tmp = sibling(dir, ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        return tmp;
    }

    /** Puts the completely written {@code DIR.tmp} in place of {@code DIR} by the renames of the class comment. */
    static void swapIn(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        Path tmp = sibling(abs, ".tmp"), old = sibling(abs, ".old");
        AtomicFiles.syncDirectory(tmp);
        if (isComplete(abs)) {
            deleteTree(old);
            AtomicFiles.move(abs, old);
        } else {
            deleteTree(abs);
        }
        AtomicFiles.move(tmp, abs);
        AtomicFiles.syncDirectory(abs.getParent());
        deleteTree(old);
    }

    /** Optimizer steps completed when this checkpoint was taken. */
    public long step() {
        return start.step();
    }

    /** A complete directory in either layout: the single-file one, or a sharded one with every shard file ({@link ShardedCheckpoint}). */
    static boolean isComplete(Path dir) {
        return isSingleFile(dir) || ShardedCheckpoint.isComplete(dir);
    }

    private static boolean isSingleFile(Path dir) {
        return Files.isRegularFile(dir.resolve(META)) && Files.isRegularFile(dir.resolve(MODEL)) && Files.isRegularFile(dir.resolve(STATE));
    }

    static Path sibling(Path dir, String suffix) {
        Path abs = dir.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + suffix);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
