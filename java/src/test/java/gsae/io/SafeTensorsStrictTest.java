package gsae.io;

import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Headers the official safetensors reader refuses are refused here too, each saying which rule failed. */
class SafeTensorsStrictTest {

    @TempDir
    Path dir;

    /** Writes the header bytes exactly as given (padded with spaces to 8) and {@code body} zero bytes after it. */
    private Path raw(String name, byte[] header, int body) throws IOException {
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + body).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(header);
        while (b.position() < 8 + padded) b.put((byte) ' ');
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    private Path raw(String name, String header, int body) throws IOException {
        return raw(name, header.getBytes(StandardCharsets.UTF_8), body);
    }

    private static void refused(Path f, String... says) {
        DataException e = assertThrows(DataException.class, () -> SafeTensors.open(f).close());
        String msg = e.getMessage();
        assertTrue(msg.startsWith(f + ": "), "names the file: " + msg);
        for (String s : says) assertTrue(msg.contains(s), "says '" + s + "': " + msg);
    }

    private static String entry(String name, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        // gradients pointing at the activations' bytes would train on g = x
        Path f = raw("o.safetensors", "{" + entry("activations", "[2,3]", 0, 24) + "," + entry("gradients", "[2,3]", 0, 24) + "}", 24);
        refused(f, "overlap", "'activations'");
        Path partly = raw("p.safetensors", "{" + entry("a", "[2,3]", 0, 24) + "," + entry("b", "[2,3]", 16, 40) + "}", 40);
        refused(partly, "overlap");
    }

    @Test
    void gapsAndTrailingBytesAreRefused() throws IOException {
        refused(raw("g.safetensors", "{" + entry("a", "[2,3]", 0, 24) + "," + entry("b", "[2,3]", 32, 56) + "}", 56),
                "unused bytes [24, 32)", "'b'");
        refused(raw("lead.safetensors", "{" + entry("a", "[2,3]", 8, 32) + "}", 32), "unused bytes [0, 8)");
        refused(raw("t.safetensors", "{" + entry("a", "[2,3]", 0, 24) + "}", 32), "8 unused bytes after the last tensor");
    }

    @Test
    void shapesMustBeWholeNumbers() throws IOException {
        refused(raw("f.safetensors", "{" + entry("a", "[2.0,3]", 0, 24) + "}", 24), "shape entry 2.0", "whole number");
        refused(raw("s.safetensors", "{" + entry("a", "[\"2\",3]", 0, 24) + "}", 24), "shape entry \"2\"");
        refused(raw("n.safetensors", "{" + entry("a", "[-2,3]", 0, 24) + "}", 24), "shape entry -2");
        refused(raw("off.safetensors", "{" + entry("a", "[2,3]", 0, 24).replace("[0,24]", "[0,24.0]") + "}", 24), "data_offsets entry 24.0");
    }

    @Test
    void sizeOverflowIsRefusedNamingTheFile() throws IOException {
        // 2^62 · 4 elements · 4 bytes wraps a 64-bit count to 0, which the [0, 0) range would then match
        refused(raw("big.safetensors", "{" + entry("activations", "[4611686018427387904,4]", 0, 0) + "}", 0), "64-bit", "'activations'");
    }

    @Test
    void headerMustBeUtf8JsonObjectWithEveryKeyOnce() throws IOException {
        byte[] latin1 = ("{\"__metadata__\":{\"x\":\"caf\u00e9\"}," + entry("a", "[1]", 0, 4) + "}").getBytes(StandardCharsets.ISO_8859_1);
        refused(raw("u.safetensors", latin1, 4), "UTF-8");
        refused(raw("d.safetensors", "{" + entry("a", "[1]", 0, 4) + "," + entry("a", "[1]", 4, 8) + "}", 8), "key twice", "'a'");
        refused(raw("m.safetensors", "{\"__metadata__\":{\"n\":3}," + entry("a", "[1]", 0, 4) + "}", 4), "'__metadata__'", "'n'", "not a string");
        refused(raw("s.safetensors", " {" + entry("a", "[1]", 0, 4) + "}", 4), "start with '{'");
        refused(raw("j.safetensors", "{" + entry("a", "[1]", 0, 4) + "} {}", 4), "not one JSON object");
    }

    @Test
    void integerSideTensorsOfAHarvestShardAreAccepted() {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("activations", HostTensor.of(new float[6], 2, 3));
        t.put("gradients", HostTensor.of(new float[6], 2, 3));
        t.put("token_ids", new HostTensor(Dtype.I64, new long[]{2}, MemorySegment.ofArray(new long[]{50256, 7})));
        t.put("positions", new HostTensor(Dtype.I64, new long[]{2}, MemorySegment.ofArray(new long[]{0, 1})));
        Path f = dir.resolve("shard-00000.safetensors");
        SafeTensors.write(f, t);
        try (SafeTensors st = SafeTensors.open(f)) {
            assertArrayEquals(new long[]{2}, st.get("token_ids").shape());
        }
    }
}
