package gsae.io;

import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    @Test
    void everyDtypeRoundTripsWithMetadata() {
        float[] f32 = NpyTest.random(3 * 5, 1);
        float[] src = NpyTest.random(3 * 5, 2);
        short[] f16 = new short[src.length], bf16 = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            f16[i] = Float.floatToFloat16(src[i]);
            bf16[i] = Dtype.floatToBf16(src[i]);
        }
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("f32", HostTensor.of(f32, 3, 5));
        t.put("f16", new HostTensor(Dtype.F16, new long[]{3, 5}, MemorySegment.ofArray(f16)));
        t.put("bf16", new HostTensor(Dtype.BF16, new long[]{5, 3}, MemorySegment.ofArray(bf16)));
        t.put("i32", HostTensor.of(new int[]{-7, 0, 1 << 30}, 3));
        t.put("u8", HostTensor.of(new byte[]{0, 1, (byte) 255}, 3));
        t.put("scalar", HostTensor.of(new float[]{2.5f}, 1));
        Path f = dir.resolve("t.safetensors");
        SafeTensors.write(f, t, Map.of("format", "pt"));

        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(List.copyOf(t.keySet()), List.copyOf(st.tensors().keySet()));
            assertEquals("pt", st.metadata().get("format"));
            assertArrayEquals(f32, st.floats("f32", 3, 5));
            assertArrayEquals(new long[]{5, 3}, st.get("bf16").shape());
            float[] h = st.floats("f16", 3, 5), b = st.floats("bf16", 5, 3);
            for (int i = 0; i < src.length; i++) {
                // nearest rounding: f16 keeps 11 significant bits, bf16 keeps 8
                assertTrue(Math.abs(h[i] - src[i]) <= Math.abs(src[i]) * 0x1p-11f + 0x1p-25f, "f16 element " + i);
                assertTrue(Math.abs(b[i] - src[i]) <= Math.abs(src[i]) * 0x1p-8f, "bf16 element " + i);
                assertEquals(Float.float16ToFloat(f16[i]), h[i]);
                assertEquals(Dtype.bf16ToFloat(bf16[i]), b[i]);
            }
            assertArrayEquals(new int[]{-7, 0, 1 << 30}, st.get("i32").toInts());
            assertArrayEquals(new byte[]{0, 1, (byte) 255}, st.get("u8").toBytes());
            assertArrayEquals(new float[]{2.5f}, st.floats("scalar", 1));
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even mantissa, 1
        assertEquals(1f, Dtype.bf16ToFloat(Dtype.floatToBf16(1f + 0x1p-8f)));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals(1f + 0x1p-6f, Dtype.bf16ToFloat(Dtype.floatToBf16(1f + 3 * 0x1p-8f)));
        assertTrue(Float.isNaN(Dtype.bf16ToFloat(Dtype.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Dtype.bf16ToFloat(Dtype.floatToBf16(Float.POSITIVE_INFINITY)));
    }

    @Test
    void wrongShapeAndMissingTensorNameTheFile() {
        Path f = dir.resolve("p.safetensors");
        SafeTensors.write(f, Map.of("w", HostTensor.of(new float[6], 2, 3)));
        try (SafeTensors st = SafeTensors.open(f)) {
            DataException shape = assertThrows(DataException.class, () -> st.floats("w", 3, 2));
            assertTrue(shape.getMessage().startsWith(f + ": ") && shape.getMessage().contains("[2, 3]"), shape.getMessage());
            DataException missing = assertThrows(DataException.class, () -> st.get("b"));
            assertTrue(missing.getMessage().startsWith(f + ": ") && missing.getMessage().contains("'b'"), missing.getMessage());
        }
    }
}
