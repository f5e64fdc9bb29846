package gsae.io;

import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tensor of more than 2³¹ − 1 float32 elements (8 GiB) written chunk by chunk and read back by
 * the strict reader, without the heap ever holding it: the data is generated per chunk, zero except
 * marked elements on both sides of the 2³¹ boundary, and the zero chunks stay holes in a sparse file.
 */
class LargeTensorTest {

    private static final long ROWS = (1L << 16) + 1, COLS = 1L << 15; // 2,147,516,416 elements
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long[] MARKED = {0, Integer.MAX_VALUE - 1L, Integer.MAX_VALUE, 1L << 31, ROWS * COLS - 1};

    /** Element i holds i+1 (as float) when marked, else 0. */
    private static void generate(long offset, MemorySegment into) {
        into.fill((byte) 0);
        for (long i : MARKED) {
            long at = i * Float.BYTES - offset;
            if (at >= 0 && at < into.byteSize()) into.set(F32, at, value(i));
        }
    }

    private static float value(long i) {
        return (float) ((i % 1000) + 1);
    }

    @Test
    void aTensorOverTwoToTheThirtyOneElementsIsWrittenInChunksAndReadBack(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("big.safetensors");
        Map<String, ChunkedTensor> tensors = new LinkedHashMap<>();
        tensors.put("W_dec", new ChunkedTensor(Dtype.F32, new long[]{ROWS, COLS}, LargeTensorTest::generate));
        tensors.put("b_dec", ChunkedTensor.of(HostTensor.of(new float[]{1f, 2f, 3f}, 3)));
        try {
            SafeTensors.writeChunked(file, tensors, Map.of());
            long bytes = ROWS * COLS * Float.BYTES;
            assertTrue(Files.size(file) > bytes, "the file holds the whole tensor: " + Files.size(file));
            try (SafeTensors read = SafeTensors.open(file)) {
                HostTensor w = read.get("W_dec");
                assertArrayEquals(new long[]{ROWS, COLS}, w.shape());
                assertEquals(bytes, w.data().byteSize());
                for (long i : MARKED) assertEquals(value(i), w.data().get(F32, i * Float.BYTES), "element " + i);
                assertEquals(0f, w.data().get(F32, (1L << 31) * Float.BYTES + 4), "an element in a hole");
                assertArrayEquals(new float[]{1f, 2f, 3f}, read.floats("b_dec", 3));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
