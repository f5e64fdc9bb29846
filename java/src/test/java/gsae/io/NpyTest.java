package gsae.io;

import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NpyTest {

    @TempDir
    Path dir;

    static float[] random(int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (rng.nextDouble() * 8 - 4);
        return v;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void f32RoundTripsInEveryVersion(int version) {
        float[] v = random(5 * 3, version);
        Path f = dir.resolve("a.npy");
        Npy.write(f, HostTensor.of(v, 5, 3), version);
        try (Npy npy = Npy.open(f)) {
            assertEquals(Dtype.F32, npy.tensor().dtype());
            assertArrayEquals(new long[]{5, 3}, npy.tensor().shape());
            assertArrayEquals(v, npy.tensor().toFloats());
            assertEquals(f, npy.path());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void headerKeepsDataAlignedTo64Bytes(int version) throws IOException {
        Path f = dir.resolve("a.npy");
        Npy.write(f, HostTensor.of(new float[6], 2, 3), version);
        byte[] bytes = Files.readAllBytes(f);
        int lenBytes = version == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = version == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
        long dataStart = 8 + lenBytes + headerLen;
        assertEquals(0, dataStart % 64);
        assertEquals(version, bytes[6]);
        assertEquals('\n', bytes[(int) dataStart - 1]);
        assertEquals(dataStart + 6 * 4, bytes.length);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void f16ReadsAsNearestHalfRounded(int version) {
        float[] v = random(4 * 7, 11);
        short[] half = new short[v.length];
        for (int i = 0; i < v.length; i++) half[i] = Float.floatToFloat16(v[i]);
        Path f = dir.resolve("h.npy");
        Npy.write(f, new HostTensor(Dtype.F16, new long[]{4, 7}, MemorySegment.ofArray(half)), version);
        try (Npy npy = Npy.open(f)) {
            assertEquals(Dtype.F16, npy.tensor().dtype());
            float[] back = npy.tensor().toFloats();
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.float16ToFloat(half[i]), back[i]);
                // half precision keeps 11 significant bits: round-to-nearest errs by at most 2^-11 relative
                assertTrue(Math.abs(back[i] - v[i]) <= Math.abs(v[i]) * 0x1p-11f + 0x1p-25f, "element " + i);
            }
        }
    }

    @Test
    void v3HeaderIsReadAsUtf8() throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), } # é\n";
        Path f = dir.resolve("u.npy");
        NpyTestFiles.writeRaw(f, 3, dict, new float[]{1.5f, -2f});
        try (Npy npy = Npy.open(f)) {
            assertArrayEquals(new float[]{1.5f, -2f}, npy.tensor().toFloats());
        }
    }

    /** NumPy writes versions 1–3 and float16; gsae must read what it writes, and NumPy what gsae writes. */
    @Test
    void interoperatesWithNumpy() throws Exception {
        assumeTrue(Python.has("numpy"), "python3 with numpy not available");
        String script = String.join("\n",
                "import numpy as np",
                "a = (np.arange(12, dtype=np.float32).reshape(4, 3) / 7).astype(np.float32)",
                "for v in (1, 2, 3):",
                "    with open('" + dir + "/np_v%d.npy' % v, 'wb') as f:",
                "        np.lib.format.write_array(f, a, version=(v, 0))",
                "np.save('" + dir + "/np_f2.npy', a.astype(np.float16))",
                "b = np.load('" + dir + "/java.npy')",
                "assert b.dtype == np.float32 and b.shape == (2, 3), (b.dtype, b.shape)",
                "assert (b == np.array([[1, 2, 3], [4, 5, 6.5]], dtype=np.float32)).all()");
        Npy.write(dir.resolve("java.npy"), HostTensor.of(new float[]{1, 2, 3, 4, 5, 6.5f}, 2, 3));
        Python.Result r = Python.run(script);
        assertEquals(0, r.code(), "numpy script failed (it checks that numpy reads gsae's file): " + r.output());
        float[] expected = new float[12];
        for (int i = 0; i < 12; i++) expected[i] = (float) i / 7f;
        for (String name : List.of("np_v1.npy", "np_v2.npy", "np_v3.npy")) {
            try (Npy npy = Npy.open(dir.resolve(name))) {
                assertArrayEquals(new long[]{4, 3}, npy.tensor().shape(), name);
                assertArrayEquals(expected, npy.tensor().toFloats(), name);
            }
        }
        try (Npy npy = Npy.open(dir.resolve("np_f2.npy"))) {
            float[] back = npy.tensor().toFloats();
            for (int i = 0; i < 12; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(expected[i])), back[i], "f2 element " + i);
        }
    }
}
