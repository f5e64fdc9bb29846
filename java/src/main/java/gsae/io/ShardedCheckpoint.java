package gsae.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.comm.Collectives;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.LatentShard;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * checkpoint loads into another P, or into one process ({@link Checkpoint#load} gathers it), and a
 * single-file checkpoint loads into P ranks, unchanged in meaning. Shard files are memory-mapped and
 * only the wanted rows are copied.
 */
public final class ShardedCheckpoint {

    private static final Pattern SHARD = Pattern.compile("shard-(\\d{5})-of-(\\d{5})\\.safetensors");
    private static final String[] NAMES = {"encoder.weight", "encoder.bias", "W_dec", "b_dec"};

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

    /** The part of {@code shard}'s latents in checkpoint {@code dir} of either layout (or its {@code .old} twin after an interrupted save). */
    public static Part load(Path dir, LatentShard shard) {
        return Checkpoint.loadComplete(dir, complete -> read(complete, shard));
    }

    /** A complete sharded directory gathered into one state. */
    static Checkpoint gather(Path dir) {
        Part p = read(dir, LatentShard.whole(CheckpointFiles.readMeta(dir).sae().latents()));
        return new Checkpoint(p.sae(), p.train(), p.scales(), p.owned(), p.dataPosition(), p.data(), p.parallel());
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

    /** Rows [first, end) of the latents held by one file pair: the model's tensors and the state's (the same file for a shard). */
    private record Source(Path model, Path state, int first, int end) {}

    private static Part read(Path dir, LatentShard want) {
        CheckpointFiles.Meta meta = CheckpointFiles.readMeta(dir);
        SaeConfig sae = meta.sae();
        Path metaFile = dir.resolve(Checkpoint.META);
        if (want.latents() != sae.latents())
            throw new IllegalArgumentException("a shard of " + want.latents() + " latents from a checkpoint of " + sae.latents());
        List<Source> sources = meta.shards() == 0
                ? List.of(new Source(dir.resolve(Checkpoint.MODEL), dir.resolve(Checkpoint.STATE), 0, sae.latents()))
                : shardSources(dir, metaFile, meta.shards(), sae.latents());
        int d = sae.d(), count = want.count();
        Params p = Params.zeros(d, count), am = Params.zeros(d, count), av = Params.zeros(d, count);
        long[] since = new long[count];
        boolean first = true;
        for (Source s : sources) {
            int from = Math.max(s.first(), want.first()), to = Math.min(s.end(), want.end());
            if (from >= to && !first) continue;
            try (SafeTensors model = SafeTensors.open(s.model()); SafeTensors state = s.state().equals(s.model()) ? null : SafeTensors.open(s.state())) {
                SafeTensors st = state == null ? model : state;
                Rows rows = new Rows(s, from, to, want.first(), d);
                rows.params(model, "", p, first);
                rows.params(st, "adam_m.", am, first);
                rows.params(st, "adam_v.", av, first);
                rows.counters(st, since);
            }
            first = false;
        }
        CheckpointFiles.finite(dir, "", p);
        CheckpointFiles.finite(dir, "adam_m.", am);
        CheckpointFiles.finite(dir, "adam_v.", av);
        try {
            TrainState owned = new TrainState(p, am, av, meta.step(), since);
            Checkpoint.check(sae, meta.train(), d, sae.latents(), meta.step(), meta.dataPosition());
            return new Part(sae, meta.train(), meta.scales(), want, owned, meta.dataPosition(), meta.data(), meta.parallel());
        } catch (IllegalArgumentException e) {
            throw new DataException(metaFile, "invalid: " + e.getMessage());
        }
    }

    /** The shard files in rank order, checked to tile [0, M) as their metadata says. */
    private static List<Source> shardSources(Path dir, Path metaFile, int ranks, int latents) {
        if (ranks(dir) != ranks) throw new DataException(metaFile, "says " + ranks + " shards, but the folder has shard files of " + ranks(dir));
        List<Source> out = new ArrayList<>();
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
            out.add(new Source(f, f, expected.first(), expected.end()));
        }
        return out;
    }

    /** Copies latents [from, to) of one source into arrays that start at latent {@code base}. */
    private record Rows(Source s, int from, int to, int base, int d) {

        void params(SafeTensors f, String prefix, Params into, boolean withBias) {
            copy(f, prefix + NAMES[0], into.wEnc(), d);
            copy(f, prefix + NAMES[1], into.bEnc(), 1);
            copy(f, prefix + NAMES[2], into.wDec(), d);
            if (withBias) System.arraycopy(f.floats(prefix + NAMES[3], d), 0, into.bDec(), 0, d);
        }

        private void copy(SafeTensors f, String name, float[] into, int width) {
            long rows = s.end() - s.first();
            HostTensor t = check(f, name, Dtype.F32, width == 1 ? new long[]{rows} : new long[]{rows, width});
            if (from >= to) return;
            MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (long) (from - s.first()) * width * 4,
                    into, (from - base) * width, (to - from) * width);
        }

        void counters(SafeTensors f, long[] into) {
            HostTensor t = check(f, "since_fired", Dtype.I64, new long[]{s.end() - s.first()});
            if (from >= to) return;
            MemorySegment.copy(t.data(), ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (long) (from - s.first()) * 8,
                    into, from - base, to - from);
        }

        private static HostTensor check(SafeTensors f, String name, Dtype dtype, long[] shape) {
            HostTensor t = f.get(name);
            if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape))
                throw new DataException(f.path(), "tensor '" + name + "' is " + t.dtype() + " " + Arrays.toString(t.shape())
                        + ", expected " + dtype + " " + Arrays.toString(shape));
            return t;
        }
    }
}
