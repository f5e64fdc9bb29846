package gsae.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Files are read through
 * a memory mapping that lives as long as this object; close it to unmap.
 * <p>
 * Headers are held to the official reader's rules (huggingface/safetensors {@code Metadata::validate}):
 * UTF-8 JSON object, whole-number shapes and offsets, sizes without overflow, tensors contiguous
 * from byte 0 to the end of the file; gsae also refuses a key given twice, where that reader keeps the last.
 */
public final class SafeTensors implements AutoCloseable {

    /** Refuses duplicate keys and anything after the header's JSON object but the padding spaces. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final Arena arena;
    private final Map<String, HostTensor> tensors;
    private final Map<String, String> metadata;

    private SafeTensors(Path path, Arena arena, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps {@code path} and validates its header; any defect is a {@link DataException} naming the file. */
    public static SafeTensors open(Path path) {
        return MappedFile.map(path).read(f -> parse(path, f));
    }

    private static SafeTensors parse(Path path, MappedFile f) {
        MemorySegment file = f.data();
        long size = file.byteSize();
        if (size < 8) throw new DataException(path, "truncated: " + size + " bytes, not even a safetensors header length");
        long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 1 || headerLen > MAX_HEADER || 8 + headerLen > size)
            throw new DataException(path, "not a safetensors file (header length " + headerLen + " does not fit a " + size + "-byte file)");
        JsonNode root = header(path, file.asSlice(8, headerLen).asByteBuffer());
        MemorySegment body = file.asSlice(8 + headerLen);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                metadata(path, e.getValue(), metadata);
            } else {
                Entry t = parseEntry(path, e.getKey(), e.getValue(), body);
                tensors.put(e.getKey(), t.tensor());
                entries.add(t);
            }
        }
        checkContiguous(path, entries, body.byteSize());
        return new SafeTensors(path, f.arena(), Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /**
     * The header as the official reader takes it: valid UTF-8, starting with '{', one JSON object
     * (trailing spaces allowed, nothing else after it), every key once.
     */
    private static JsonNode header(Path path, ByteBuffer bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new DataException(path, "not a safetensors file (header is not valid UTF-8)");
        }
        if (!text.startsWith("{")) throw new DataException(path, "not a safetensors file (header does not start with '{')");
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage();
            if (why != null && why.startsWith("Duplicate field"))
                throw new DataException(path, "safetensors header names a key twice (" + why + ")");
            throw new DataException(path, "not a safetensors file (header is not one JSON object: " + why + ")");
        }
    }

    /** {@code __metadata__} is a map from string to string, as in the official reader. */
    private static void metadata(Path path, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) throw new DataException(path, "safetensors '__metadata__' is not a JSON object");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual())
                throw new DataException(path, "safetensors '__metadata__' value of '" + m.getKey() + "' is not a string: " + m.getValue());
            into.put(m.getKey(), m.getValue().textValue());
        }
    }

    /** One tensor of the header with its byte range [begin, end) in the body. */
    private record Entry(String name, long begin, long end, HostTensor tensor) {}

    private static Entry parseEntry(Path path, String name, JsonNode e, MemorySegment body) {
        if (!e.isObject()) throw new DataException(path, "tensor '" + name + "' has a malformed header entry (not a JSON object)");
        Dtype dtype = Dtype.ofSafetensors(e.path("dtype").asText());
        if (dtype == null) throw new DataException(path, "tensor '" + name + "' has unsupported dtype " + e.path("dtype"));
        JsonNode shapeNode = e.path("shape"), offs = e.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2)
            throw new DataException(path, "tensor '" + name + "' has a malformed header entry (needs 'shape' and two 'data_offsets')");
        long[] shape = new long[shapeNode.size()];
        long bytes = dtype.size;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = whole(path, name, "shape", shapeNode.get(i));
            try {
                bytes = Math.multiplyExact(bytes, shape[i]);
            } catch (ArithmeticException overflow) {
                throw new DataException(path, "tensor '" + name + "' of shape " + shapeNode + " needs more bytes than a 64-bit size holds");
            }
        }
        long begin = whole(path, name, "data_offsets", offs.get(0)), end = whole(path, name, "data_offsets", offs.get(1));
        if (end < begin) throw new DataException(path, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] that end before they begin");
        if (end > body.byteSize())
            throw new DataException(path, "truncated: tensor '" + name + "' needs bytes [" + begin + ", " + end + ") of a "
                    + body.byteSize() + "-byte body");
        if (end - begin != bytes)
            throw new DataException(path, "tensor '" + name + "' spans " + (end - begin) + " bytes but " + dtype + " " + shapeNode
                    + " needs " + bytes);
        return new Entry(name, begin, end, new HostTensor(dtype, shape, body.asSlice(begin, end - begin)));
    }

    /** A shape entry or offset: a JSON integer ≥ 0 that fits in 64 bits (not 64.0, not "64"). */
    private static long whole(Path path, String name, String field, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0)
            throw new DataException(path, "tensor '" + name + "' has " + field + " entry " + n + ", expected a whole number ≥ 0");
        return n.longValue();
    }

    /**
     * The official reader's layout rule: sorted by offset, each tensor starts where the previous one
     * ends, the first at 0, and the last ends at the end of the file, so no two tensors share bytes
     * and no byte is unaccounted for.
     */
    private static void checkContiguous(Path path, List<Entry> entries, long bodySize) {
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        String previous = null;
        for (Entry e : entries) {
            if (e.begin() < at)
                throw new DataException(path, "tensor '" + e.name() + "' bytes [" + e.begin() + ", " + e.end() + ") overlap tensor '"
                        + previous + "' (each tensor must have bytes of its own)");
            if (e.begin() > at)
                throw new DataException(path, "unused bytes [" + at + ", " + e.begin() + ") before tensor '" + e.name()
                        + "' (tensors must be contiguous)");
            at = e.end();
            previous = e.name();
        }
        if (at != bodySize)
            throw new DataException(path, (bodySize - at) + " unused bytes after the last tensor (the data must end where the file ends)");
    }

    public Path path() {
        return path;
    }

    public Map<String, HostTensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The named tensor; a missing one is a {@link DataException}. */
    public HostTensor get(String name) {
        HostTensor t = tensors.get(name);
        if (t == null) throw new DataException(path, "has no tensor '" + name + "' (has " + tensors.keySet() + ")");
        return t;
    }

    /** The named float tensor converted to float32, checked against the expected shape. */
    public float[] floats(String name, long... expectedShape) {
        HostTensor t = get(name);
        if (!t.dtype().isFloat()) throw new DataException(path, "tensor '" + name + "' is " + t.dtype() + ", expected a float type");
        if (!Arrays.equals(t.shape(), expectedShape))
            throw new DataException(path, "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expectedShape));
        return t.toFloats();
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Writes tensors (in map order) and string metadata atomically: to a temporary name beside
     * {@code path}, fsync, then rename over it.
     */
    public static void write(Path path, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        Map<String, ChunkedTensor> chunked = new LinkedHashMap<>();
        tensors.forEach((name, t) -> chunked.put(name, ChunkedTensor.of(t)));
        writeChunked(path, chunked, metadata);
    }

    /**
     * Writes tensors whose bytes come chunk by chunk ({@value #CHUNK} bytes at a time through one
     * buffer), so a tensor of any size, e.g. over 2³¹ − 1 elements or held on a device, is written
     * without a host copy of it. Chunks that are all zero are left as holes (a sparse file reads
     * them back as zeros), so fresh Adam moments cost no disk.
     */
    public static void writeChunked(Path path, Map<String, ChunkedTensor> tensors, Map<String, String> metadata) {
        Map<String, Source> sources = new LinkedHashMap<>();
        tensors.forEach((name, t) -> sources.put(name, new Source.AsIs(t)));
        writeSources(path, sources, metadata);
    }

    /** What goes into a file under a name: a tensor's bytes as they come, or the transpose of a 2-D one. */
    public sealed interface Source {

        ChunkedTensor tensor();

        /** The shape the header gives. */
        long[] shape();

        /** {@code tensor} as it is, written chunk by chunk. */
        record AsIs(ChunkedTensor tensor) implements Source {
            @Override
            public long[] shape() {
                return tensor.shape();
            }
        }

        /** The transpose [c, r] of {@code tensor} [r, c] (4-byte elements), written by {@link Transpose} without a host copy of it. */
        record Transposed(ChunkedTensor tensor) implements Source {
            public Transposed {
                if (tensor.shape().length != 2 || tensor.dtype().size != 4)
                    throw new IllegalArgumentException("transposes 2-D tensors of 4-byte elements, not " + tensor);
            }

            @Override
            public long[] shape() {
                return new long[]{tensor.shape()[1], tensor.shape()[0]};
            }
        }
    }

    /** {@link #writeChunked}, with some tensors written transposed. */
    public static void writeSources(Path path, Map<String, ? extends Source> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, ? extends Source> t : tensors.entrySet()) {
            ObjectNode e = header.putObject(t.getKey());
            e.put("dtype", t.getValue().tensor().dtype().name());
            var shape = e.putArray("shape");
            for (long s : t.getValue().shape()) shape.add(s);
            long bytes = t.getValue().tensor().byteSize();
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        long total = 8 + padded + offset;
        AtomicFiles.write(path, ch -> {
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            for (Source t : tensors.values()) {
                switch (t) {
                    case Source.AsIs a -> writeLittleEndian(ch, a.tensor(), buf);
                    case Source.Transposed tr -> {
                        long at = ch.position();
                        Transpose.write(ch, at, tr.tensor());
                        ch.position(at + tr.tensor().byteSize());
                    }
                }
            }
            if (ch.size() < total) ch.write(ByteBuffer.allocate(1), total - 1); // the file ends in a hole: give it its length
        });
    }

    /** Bytes written per chunk. */
    static final int CHUNK = 1 << 20;

    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[CHUNK]);

    /** Heap arrays are in native order, and gsae runs on little-endian hosts (x86-64, aarch64): bytes go out as they are. */
    private static void writeLittleEndian(FileChannel ch, ChunkedTensor t, ByteBuffer buf) throws IOException {
        long size = t.byteSize();
        for (long at = 0; at < size; at += CHUNK) {
            int len = (int) Math.min(CHUNK, size - at);
            MemorySegment chunk = MemorySegment.ofBuffer(buf.clear().limit(len));
            t.chunks().read(at, chunk);
            if (MemorySegment.mismatch(chunk, 0, len, ZEROS, 0, len) == -1) {
                ch.position(ch.position() + len);
                continue;
            }
            while (buf.hasRemaining()) ch.write(buf);
        }
    }

    /** Writes one file atomically. */
    public static void write(Path path, Map<String, HostTensor> tensors) {
        write(path, tensors, Map.of());
    }
}
