package gsae.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.comm.Collectives;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.LatentShard;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.tensor.ChunkedTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoint directory of a run whose latents are sharded across P ranks (issue #15):
 *
 * <pre>
 *   checkpoint.json                    as in {@link Checkpoint}, with "parallel": {"mode": "latents",
 *                                      "ranks": P} and "shards": P; written last
 *   shard-RRRRR-of-PPPPP.safetensors   rank R's latents [first, end): encoder.weight [M_R, d],
 *                                      encoder.bias [M_R], W_dec [M_R, d], b_dec [d], the same under
 *                                      adam_m. and adam_v., since_fired I64 [M_R]; metadata
 *                                      first_latent, end_latent, latents, rank, ranks
 * </pre>
 *
 * Saving is collective: rank 0 empties {@code DIR.tmp}, every rank writes its own shard file
 * there, rank 0 writes checkpoint.json and swaps the directory in by {@link Checkpoint}'s renames,
 * so a crash at any point leaves the previous checkpoint loadable. The ranks must share the file
 * system that holds {@code DIR}.
 *
 * <p>Loading reads any range of latents from either layout, whatever P wrote it: a sharded
 * checkpoint loads into another P, or into one process ({@link Checkpoint#load} reads its shards as
 * one state), and a single-file checkpoint loads into P ranks, unchanged in meaning. Files are
 * memory-mapped and only the wanted rows are copied, so a rank reads its share and nothing more.
 */
public final class ShardedCheckpoint {

    private static final Pattern SHARD = Pattern.compile("shard-(\\d{5})-of-(\\d{5})\\.safetensors");

    private ShardedCheckpoint() {}

    /**
     * One rank's part of a checkpoint.
     *
     * @param shard the latents this part holds
     * @param owned    their parameters, moments and counters, b_dec whole (see {@link TrainState#slice})
     * @param parallel how the run that wrote the checkpoint was spread
     */
    public record Part(SaeConfig sae, TrainConfig train, Scales scales, LatentShard shard, TrainState owned, long dataPosition, DataRecord data,
                       Parallelism parallel) {

        public long step() {
            return owned.step();
        }
    }

    /** The file name of rank {@code rank}'s shard of {@code ranks}. */
    static String fileName(int rank, int ranks) {
        return String.format("shard-%05d-of-%05d.safetensors", rank, ranks);
    }

    /**
     * Writes this rank's share {@code owned} (the latents of LatentShard.of(rank, size, M)) into
     * the sharded checkpoint {@code dir}; every rank of {@code comm} calls it together, and it returns
     * on every rank once the checkpoint is complete in place.
     */
    public static void save(Path dir, Collectives comm, SaeConfig sae, TrainConfig train, Scales scales, StateChunks owned,
                            long dataPosition, DataRecord data) {
        LatentShard shard = LatentShard.of(comm.rank(), comm.size(), sae.latents());
        if (owned.m() != shard.count())
            throw new IllegalArgumentException("rank " + shard.rank() + " owns " + shard.count() + " latents, its state has " + owned.m());
        Checkpoint.check(sae, train, owned.d(), sae.latents(), owned.step(), dataPosition);
        Path abs = dir.toAbsolutePath();
        try {
            if (comm.rank() == 0) Checkpoint.freshTmp(abs);
            comm.barrier();
            Path tmp = Checkpoint.sibling(abs, ".tmp");
            SafeTensors.writeChunked(tmp.resolve(fileName(shard.rank(), shard.ranks())), tensors(owned), metadata(shard));
            comm.barrier();
            if (comm.rank() == 0) {
                ObjectNode meta = CheckpointFiles.meta(sae, train, scales, owned.step(), dataPosition, data,
                        new Parallelism(ParallelMode.LATENTS, shard.ranks()));
                CheckpointFiles.writeMeta(meta.put(CheckpointFiles.SHARDS, shard.ranks()), tmp);
                Checkpoint.swapIn(abs);
            }
            comm.barrier();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, ChunkedTensor> tensors(StateChunks s) {
        Map<String, ChunkedTensor> t = new LinkedHashMap<>(CheckpointFiles.tensors("", s.params()));
        t.putAll(CheckpointFiles.tensors("adam_m.", s.adamM()));
        t.putAll(CheckpointFiles.tensors("adam_v.", s.adamV()));
        t.put("since_fired", s.sinceFired());
        return t;
    }

    private static Map<String, String> metadata(LatentShard s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("first_latent", Integer.toString(s.first()));
        m.put("end_latent", Integer.toString(s.end()));
        m.put("latents", Integer.toString(s.latents()));
        m.put("rank", Integer.toString(s.rank()));
        m.put("ranks", Integer.toString(s.ranks()));
        return m;
    }

    /**
     * The part of {@code shard}'s latents in checkpoint {@code dir} of either layout (or its {@code
     * .old} twin after an interrupted save): only their rows are read ({@link StartState#shard}).
     */
    public static Part load(Path dir, LatentShard shard) {
        return Checkpoint.loadComplete(dir, complete -> {
            Checkpoint c = Checkpoint.read(complete);
            if (shard.latents() != c.sae().latents())
                throw new IllegalArgumentException("a shard of " + shard.latents() + " latents from a checkpoint of " + c.sae().latents());
            return new Part(c.sae(), c.train(), c.scales(), shard, c.start().shard(shard), c.dataPosition(), c.data(), c.parallel());
        });
    }

    /**
     * A complete sharded directory as one checkpoint whose state is read from the shard files when
     * asked, as a single-file one is from its two files: the shards' tensors stacked in rank order,
     * so that a read of some latents' rows reads only the files that hold them.
     */
    static Checkpoint read(Path dir) {
        CheckpointFiles.Meta meta = CheckpointFiles.readMeta(dir);
        SaeConfig sae = meta.sae();
        Path metaFile = dir.resolve(Checkpoint.META);
        List<Path> files = shardFiles(dir, metaFile, meta.shards(), sae.latents());
        try {
            StartState state = CheckpointFiles.stored(dir, sae, meta.step(), use -> read(files, sae, meta.step(), use));
            return new Checkpoint(sae, meta.train(), meta.scales(), state, meta.dataPosition(), meta.data(), meta.parallel());
        } catch (IllegalArgumentException e) {
            throw new DataException(metaFile, "invalid: " + e.getMessage());
        }
    }

    /** Hands the whole state's tensors, stacked from the shard files mapped for the call, to {@code use}. */
    private static void read(List<Path> files, SaeConfig sae, long step, Consumer<StateChunks> use) {
        List<SafeTensors> open = new ArrayList<>(files.size());
        try {
            List<StateChunks> parts = new ArrayList<>(files.size());
            for (int r = 0; r < files.size(); r++) {
                SafeTensors f = SafeTensors.open(files.get(r));
                open.add(f);
                parts.add(CheckpointFiles.chunks(f, f, sae.d(), LatentShard.of(r, files.size(), sae.latents()).count(), step));
            }
            use.accept(new StateChunks(sae.d(), sae.latents(), stacked(parts, StateChunks::params), stacked(parts, StateChunks::adamM),
                    stacked(parts, StateChunks::adamV), step, ChunkedTensor.stacked(parts.stream().map(StateChunks::sinceFired).toList())));
        } finally {
            for (SafeTensors f : open) f.close();
        }
    }

    /** One set of tensors stacked over the shards; b_dec, replicated on every rank, is shard 0's. */
    private static StateChunks.Tensors stacked(List<StateChunks> parts, Function<StateChunks, StateChunks.Tensors> set) {
        List<StateChunks.Tensors> t = parts.stream().map(set).toList();
        return new StateChunks.Tensors(stack(t, StateChunks.Tensors::wEnc), stack(t, StateChunks.Tensors::bEnc),
                stack(t, StateChunks.Tensors::wDec), t.getFirst().bDec());
    }

    private static ChunkedTensor stack(List<StateChunks.Tensors> sets, Function<StateChunks.Tensors, ChunkedTensor> tensor) {
        return ChunkedTensor.stacked(sets.stream().map(tensor).toList());
    }

    /** A directory of every shard file named in its meta file and its meta file. */
    static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve(Checkpoint.META)) && ranks(dir) > 0 && missingShard(dir) == null;
    }

    /** The first missing shard file of a directory that holds some, or null (none missing, or not sharded). */
    static Path missingShard(Path dir) {
        int ranks = ranks(dir);
        for (int r = 0; r < ranks; r++) {
            Path f = dir.resolve(fileName(r, ranks));
            if (!Files.isRegularFile(f)) return f;
        }
        return null;
    }

    /** P as the shard files' names give it, 0 when there are none. */
    private static int ranks(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> SHARD.matcher(f.getFileName().toString())).filter(Matcher::matches)
                    .mapToInt(m -> Integer.parseInt(m.group(2))).max().orElse(0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The shard files in rank order, checked to tile [0, M) as their metadata says. */
    private static List<Path> shardFiles(Path dir, Path metaFile, int ranks, int latents) {
        if (ranks(dir) != ranks) throw new DataException(metaFile, "says " + ranks + " shards, but the folder has shard files of " + ranks(dir));
        List<Path> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            Path f = dir.resolve(fileName(r, ranks));
            LatentShard expected = LatentShard.of(r, ranks, latents);
            try (SafeTensors t = SafeTensors.open(f)) {
                Map<String, String> m = t.metadata();
                for (String[] kv : new String[][]{{"first_latent", "" + expected.first()}, {"end_latent", "" + expected.end()},
                        {"latents", "" + latents}, {"rank", "" + r}, {"ranks", "" + ranks}})
                    if (!kv[1].equals(m.get(kv[0])))
                        throw new DataException(f, "metadata '" + kv[0] + "' is " + m.get(kv[0]) + ", expected " + kv[1] + " (a shard of another checkpoint?)");
            }
            out.add(f);
        }
        return out;
    }
}
