package gsae.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Files are read through
 * a memory mapping that lives as long as this object; close it to unmap.
 */
public final class SafeTensors implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
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
        String header = new String(file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new DataException(path, "not a safetensors file (header is not JSON)");
        }
        if (root == null || !root.isObject()) throw new DataException(path, "not a safetensors file (header is not a JSON object)");
        MemorySegment body = file.asSlice(8 + headerLen);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                tensors.put(e.getKey(), parseEntry(path, e.getKey(), e.getValue(), body));
            }
        }
        return new SafeTensors(path, f.arena(), Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static HostTensor parseEntry(Path path, String name, JsonNode e, MemorySegment body) {
        Dtype dtype = Dtype.ofSafetensors(e.path("dtype").asText());
        if (dtype == null) throw new DataException(path, "tensor '" + name + "' has unsupported dtype " + e.path("dtype"));
        JsonNode shapeNode = e.path("shape"), offs = e.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2)
            throw new DataException(path, "tensor '" + name + "' has a malformed header entry");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) throw new DataException(path, "tensor '" + name + "' has a negative dimension");
        }
        long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > body.byteSize())
            throw new DataException(path, "truncated: tensor '" + name + "' needs bytes [" + begin + ", " + end + ") of a "
                    + body.byteSize() + "-byte body");
        if (end - begin != HostTensor.numel(shape) * dtype.size)
            throw new DataException(path, "tensor '" + name + "' byte range does not match its shape and dtype");
        return new HostTensor(dtype, shape, body.asSlice(begin, end - begin));
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
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> t : tensors.entrySet()) {
            ObjectNode e = header.putObject(t.getKey());
            e.put("dtype", t.getValue().dtype().name());
            var shape = e.putArray("shape");
            for (long s : t.getValue().shape()) shape.add(s);
            long bytes = t.getValue().data().byteSize();
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
        AtomicFiles.write(path, ch -> {
            while (head.hasRemaining()) ch.write(head);
            for (HostTensor t : tensors.values()) writeLittleEndian(ch, t);
        });
    }

    /** Heap arrays are in native order, and gsae runs on little-endian hosts (x86-64, aarch64): bytes go out as they are. */
    private static void writeLittleEndian(FileChannel ch, HostTensor t) throws IOException {
        MemorySegment src = t.data();
        long chunk = 1 << 20;
        for (long at = 0; at < src.byteSize(); at += chunk) {
            long len = Math.min(chunk, src.byteSize() - at);
            ByteBuffer buf = ByteBuffer.allocate((int) len);
            MemorySegment.copy(src, at, MemorySegment.ofBuffer(buf), 0, len);
            while (buf.hasRemaining()) ch.write(buf);
        }
    }

    /** Writes one file atomically. */
    public static void write(Path path, Map<String, HostTensor> tensors) {
        write(path, tensors, Map.of());
    }
}
