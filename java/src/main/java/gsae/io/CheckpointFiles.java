package gsae.io;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The three files of a checkpoint directory, written and read without the directory-level swap. */
final class CheckpointFiles {

    /** Floats are read as exact decimals so that every float32 written comes back bit for bit. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private CheckpointFiles() {}

    /** A state stored in files and not read yet is copied from them chunk by chunk; any other is written from its host arrays (see {@link StartState#read}). */
    static void write(Checkpoint c, Path dir) throws IOException {
        ObjectNode meta = meta(c.sae(), c.train(), c.scales(), c.step(), c.dataPosition(), c.data(), c.parallel());
        try {
            c.start().read(chunks -> {
                try {
                    write(meta, chunks, dir);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The three files from {@code s} read chunk by chunk: no host copy of the state beyond one chunk. */
    static void write(ObjectNode meta, StateChunks s, Path dir) throws IOException {
        SafeTensors.writeChunked(dir.resolve(Checkpoint.MODEL), tensors("", s.params()), Map.of("format", "pt"));
        Map<String, ChunkedTensor> state = new LinkedHashMap<>(tensors("adam_m.", s.adamM()));
        state.putAll(tensors("adam_v.", s.adamV()));
        state.put("since_fired", s.sinceFired());
        SafeTensors.writeChunked(dir.resolve(Checkpoint.STATE), state, Map.of());
        writeMeta(meta, dir);
    }

    /** checkpoint.json, atomically: the mark of a complete directory, so written last. */
    static void writeMeta(ObjectNode meta, Path dir) throws IOException {
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(meta);
        AtomicFiles.write(dir.resolve(Checkpoint.META), ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    /**
     * checkpoint.json's contents.
     *
     * @param shards the number of shard files of a sharded checkpoint ({@link ShardedCheckpoint}), 0 for the single-file layout
     */
    record Meta(SaeConfig sae, TrainConfig train, Scales scales, long step, long dataPosition, DataRecord data, Parallelism parallel, int shards) {}

    static Checkpoint read(Path dir) {
        Meta m = readMeta(dir);
        Path metaFile = dir.resolve(Checkpoint.META);
        try {
            StartState state = stored(dir, m.sae(), m.step(), use -> {
                try (SafeTensors model = SafeTensors.open(dir.resolve(Checkpoint.MODEL));
                     SafeTensors moments = SafeTensors.open(dir.resolve(Checkpoint.STATE))) {
                    use.accept(chunks(model, moments, m.sae().d(), m.sae().latents(), m.step()));
                }
            });
            return new Checkpoint(m.sae(), m.train(), m.scales(), state, m.dataPosition(), m.data(), m.parallel());
        } catch (IllegalArgumentException e) {
            throw new DataException(metaFile, "invalid: " + e.getMessage());
        }
    }

    /** checkpoint.json of {@code dir}, checked field by field; a missing or invalid field is a DataException naming it. */
    static Meta readMeta(Path dir) {
        Path metaFile = dir.resolve(Checkpoint.META);
        JsonNode root;
        try {
            root = JSON.readTree(metaFile.toFile());
        } catch (IOException e) {
            throw new DataException(metaFile, "not readable JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        Fields f = new Fields(metaFile, root);
        int version = f.integer("format_version");
        if (version != Checkpoint.FORMAT_VERSION)
            throw new DataException(metaFile, "format_version " + version + " is not supported (this gsae reads " + Checkpoint.FORMAT_VERSION + ")");
        try {
            SaeConfig sae = new SaeConfig(f.integer("sae.d"), f.integer("sae.latents"), f.integer("sae.k"), f.real("sae.beta"),
                    f.integer("sae.aux_k"), f.real("sae.aux_alpha"), f.whole("sae.dead_tokens"));
            TrainConfig train = new TrainConfig(f.integer("train.steps"), f.integer("train.batch"),
                    f.isNull("train.lr") ? Float.NaN : f.real("train.lr"), f.integer("train.warmup_steps"),
                    f.decay("train.decay"), f.whole("train.seed"),
                    f.integer("train.checkpoint_every"), f.integer("train.threads"), f.bool("train.scale_acts"), f.integer("train.scale_tokens"));
            Scales scales = new Scales(f.real("scales.grad_scale"), f.real("scales.act_scale"));
            int shards = root.has(SHARDS) ? f.integer(SHARDS) : 0;
            if (root.has(SHARDS) && (shards < 1 || shards > sae.latents()))
                throw new DataException(metaFile, "field '" + SHARDS + "' is " + shards + ", expected 1.." + sae.latents());
            return new Meta(sae, train, scales, f.whole("step"), f.whole("data_position"), dataRecord(f), parallelism(f), shards);
        } catch (IllegalArgumentException e) {
            throw new DataException(metaFile, "invalid: " + e.getMessage());
        }
    }

    /** checkpoint.json's field for the number of shard files; absent in the single-file layout. */
    static final String SHARDS = "shards";

    /**
     * The state in {@code dir}'s safetensors files as {@code reader} opens them: names, types and
     * shapes are checked now (so a damaged folder is refused at load, and {@link Checkpoint#load}
     * can fall back to its twin); the tensors are read when asked, straight from the mapped files,
     * each chunk checked finite, and only the rows asked for (see {@link StartState#shard}).
     */
    static StartState.Stored stored(Path dir, SaeConfig sae, long step, StartState.Stored.Reader reader) {
        reader.read(chunks -> {}); // checks the headers now
        return new StartState.Stored(sae.d(), sae.latents(), step, use -> {
            unchanged(dir, step);
            reader.read(use);
        });
    }

    /** The tensors of a model file and a state file (the same file for a shard) of {@code m} latents, valid while the files are open. */
    static StateChunks chunks(SafeTensors model, SafeTensors state, int d, int m, long step) {
        return new StateChunks(d, m, tensors(model, "", d, m), tensors(state, "adam_m.", d, m), tensors(state, "adam_v.", d, m), step,
                tensor(state, "since_fired", Dtype.I64, m));
    }

    /** A folder replaced after it was loaded (a later save) must not pass for the loaded one. */
    private static void unchanged(Path dir, long step) {
        Path metaFile = dir.resolve(Checkpoint.META);
        long now;
        try {
            now = JSON.readTree(metaFile.toFile()).path("step").asLong(-1);
        } catch (IOException e) {
            throw new DataException(metaFile, "not readable any more (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (now != step) throw new DataException(metaFile, "changed since it was loaded: step " + step + " then, " + now + " now");
    }

    private static StateChunks.Tensors tensors(SafeTensors f, String prefix, int d, int m) {
        return new StateChunks.Tensors(tensor(f, prefix + "encoder.weight", Dtype.F32, m, d), tensor(f, prefix + "encoder.bias", Dtype.F32, m),
                tensor(f, prefix + "W_dec", Dtype.F32, m, d), tensor(f, prefix + "b_dec", Dtype.F32, d));
    }

    /** The named tensor of the mapped file, read chunk by chunk; a float32 chunk holding NaN or Inf is a DataException naming the tensor. */
    private static ChunkedTensor tensor(SafeTensors f, String name, Dtype dtype, long... shape) {
        HostTensor t = f.get(name);
        if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape))
            throw new DataException(f.path(), "tensor '" + name + "' is " + t.dtype() + " " + Arrays.toString(t.shape()) + ", expected "
                    + dtype + " " + Arrays.toString(shape));
        MemorySegment data = t.data();
        Path file = f.path();
        return new ChunkedTensor(dtype, shape, (offset, into) -> {
            MemorySegment.copy(data, offset, into, 0, into.byteSize());
            if (dtype == Dtype.F32) finite(file, name, data, offset / 4, (offset + into.byteSize() + 3) / 4);
        });
    }

    /** A checkpoint holding NaN or Inf would train on garbage or export it: refuse it, naming the tensor. */
    private static void finite(Path file, String name, MemorySegment data, long from, long to) {
        for (long i = from; i < to; i++) {
            float v = data.getAtIndex(LE_F32, i);
            if (!Float.isFinite(v))
                throw new DataException(file, "tensor '" + name + "' holds " + v + " at element " + i + " (a damaged or diverged checkpoint)");
        }
    }

    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The data a run trains on; checkpoints written before fingerprints have only the description. */
    private static DataRecord dataRecord(Fields f) {
        List<DataRecord.ShardPrint> shards = new ArrayList<>();
        if (f.root().has("data_files")) {
            for (JsonNode n : f.node("data_files")) {
                Fields s = new Fields(f.file(), n);
                shards.add(new DataRecord.ShardPrint(s.text("name"), s.whole("bytes"), s.text("sha256")));
            }
        }
        Manifest source = null;
        if (f.root().has("data_source")) {
            JsonNode n = f.node("data_source");
            Fields m = new Fields(f.file(), n);
            source = new Manifest(m.text("model"), m.text("hook"), n.hasNonNull("context_size") ? m.integer("context_size") : null,
                    n.hasNonNull("prepend_bos") ? m.bool("prepend_bos") : null, n.hasNonNull("dataset_path") ? m.text("dataset_path") : null);
        }
        return new DataRecord(f.text("data"), shards, source);
    }

    /** How many processes wrote the checkpoint and how; checkpoints without the field come from one process. */
    private static Parallelism parallelism(Fields f) {
        if (!f.root().has("parallel")) return Parallelism.SINGLE;
        String mode = f.text("parallel.mode");
        try {
            return new Parallelism(ParallelMode.valueOf(mode.toUpperCase(Locale.ROOT)), f.integer("parallel.ranks"));
        } catch (IllegalArgumentException e) {
            throw new DataException(f.file(), "field 'parallel' is not a mode (none, data, latents) with a rank count: " + f.node("parallel"));
        }
    }

    /** Sparsify tensor names (SPEC §8), with a prefix for the Adam moments. */
    static Map<String, ChunkedTensor> tensors(String prefix, StateChunks.Tensors p) {
        Map<String, ChunkedTensor> t = new LinkedHashMap<>();
        t.put(prefix + "encoder.weight", p.wEnc());
        t.put(prefix + "encoder.bias", p.bEnc());
        t.put(prefix + "W_dec", p.wDec());
        t.put(prefix + "b_dec", p.bDec());
        return t;
    }

    /** checkpoint.json's fields. */
    static ObjectNode meta(SaeConfig s, TrainConfig t, Scales scales, long step, long dataPosition, DataRecord data, Parallelism parallel) {
        ObjectNode root = JSON.createObjectNode().put("format_version", Checkpoint.FORMAT_VERSION);
        root.putObject("sae").put("d", s.d()).put("latents", s.latents()).put("k", s.k()).put("beta", s.beta())
                .put("aux_k", s.auxK()).put("aux_alpha", s.auxAlpha()).put("dead_tokens", s.deadTokens());
        ObjectNode train = root.putObject("train").put("steps", t.steps()).put("batch", t.batch());
        if (Float.isNaN(t.lr())) train.putNull("lr");
        else train.put("lr", t.lr());
        train.put("warmup_steps", t.warmupSteps()).put("decay", t.decay().name().toLowerCase(Locale.ROOT)).put("seed", t.seed())
                .put("checkpoint_every", t.checkpointEvery()).put("threads", t.threads()).put("scale_acts", t.scaleActs())
                .put("scale_tokens", t.scaleTokens());
        root.putObject("scales").put("grad_scale", scales.gradScale()).put("act_scale", scales.actScale());
        root.put("step", step).put("data_position", dataPosition).put("data", data.description());
        var files = root.putArray("data_files");
        for (DataRecord.ShardPrint p : data.shards())
            files.addObject().put("name", p.name()).put("bytes", p.bytes()).put("sha256", p.sha256());
        Manifest m = data.source();
        if (m != null) {
            ObjectNode src = root.putObject("data_source").put("model", m.model()).put("hook", m.hook());
            if (m.contextSize() != null) src.put("context_size", m.contextSize());
            if (m.prependBos() != null) src.put("prepend_bos", m.prependBos());
            if (m.datasetPath() != null) src.put("dataset_path", m.datasetPath());
        }
        if (!parallel.equals(Parallelism.SINGLE))
            root.putObject("parallel").put("mode", parallel.mode().name().toLowerCase(Locale.ROOT)).put("ranks", parallel.ranks());
        return root;
    }

    /** Required fields of checkpoint.json by dotted path; a missing or mistyped one names itself. */
    private record Fields(Path file, JsonNode root) {

        JsonNode node(String path) {
            JsonNode n = root;
            for (String part : path.split("\\.")) n = n.path(part);
            if (n.isMissingNode()) throw new DataException(file, "missing field '" + path + "'");
            return n;
        }

        boolean isNull(String path) {
            return node(path).isNull();
        }

        int integer(String path) {
            JsonNode n = node(path);
            if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new DataException(file, "field '" + path + "' is not an integer: " + n);
            return n.intValue();
        }

        long whole(String path) {
            JsonNode n = node(path);
            if (!n.canConvertToLong() || !n.isIntegralNumber()) throw new DataException(file, "field '" + path + "' is not an integer: " + n);
            return n.longValue();
        }

        float real(String path) {
            JsonNode n = node(path);
            if (!n.isNumber()) throw new DataException(file, "field '" + path + "' is not a number: " + n);
            return Float.parseFloat(n.asText());
        }

        boolean bool(String path) {
            JsonNode n = node(path);
            if (!n.isBoolean()) throw new DataException(file, "field '" + path + "' is not true or false: " + n);
            return n.booleanValue();
        }

        LrDecay decay(String path) {
            String name = text(path);
            for (LrDecay d : LrDecay.values()) if (d.name().equalsIgnoreCase(name)) return d;
            throw new DataException(file, "field '" + path + "' is '" + name + "', expected one of none, linear");
        }

        String text(String path) {
            JsonNode n = node(path);
            if (!n.isTextual()) throw new DataException(file, "field '" + path + "' is not a string: " + n);
            return n.textValue();
        }
    }
}
