package gsae.io;

import gsae.config.ArrayLimit;
import gsae.config.SaeConfig;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StateChunks;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SAELens export transposes W_enc into the file a tile of encoder rows at a time: the bytes are
 * those the export from host arrays wrote (W_enc transposed in one array, then written in order),
 * every element of W_enc is read once, no read is larger than a tile, and an SAE past one array exports.
 */
class SaelensStreamTest {

    static final int D = 7, M = 13; // odd sizes: no tile divides M
    static final SaeConfig CFG = new SaeConfig(D, M, 3, 0.75f, 2, 1f / 32, 1000);
    static final Scales SCALES = new Scales(1.7f, 0.3f); // 1/0.3 is inexact: folding must round as the host export did

    @TempDir
    Path dir;

    private static Params params() {
        Params p = Params.zeros(D, M);
        float[][] all = {p.wEnc(), p.bEnc(), p.wDec(), p.bDec()};
        for (int a = 0; a < all.length; a++) System.arraycopy(NpyTest.random(all[a].length, 10 + a), 0, all[a], 0, all[a].length);
        return p;
    }

    /** What the SAELens export wrote before it streamed: biases folded, W_enc transposed in one host array, tensors written in order. */
    private static void hostExport(Params trained, Path file) {
        Params p = ExportTest.folded(trained, SCALES);
        float[] wEncT = new float[M * D]; // [D, M]
        for (int i = 0; i < M; i++)
            for (int j = 0; j < D; j++) wEncT[j * M + i] = p.wEnc()[i * D + j];
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("W_enc", HostTensor.of(wEncT, D, M));
        t.put("b_enc", HostTensor.of(p.bEnc(), M));
        t.put("W_dec", HostTensor.of(p.wDec(), M, D));
        t.put("b_dec", HostTensor.of(p.bDec(), D));
        SafeTensors.write(file, t);
    }

    /** A tensor whose reads are counted byte by byte, and the largest read remembered. */
    private static final class Counted {
        final int[] times;
        long largest;
        final ChunkedTensor tensor;

        Counted(ChunkedTensor t) {
            times = new int[(int) t.byteSize()];
            tensor = new ChunkedTensor(t.dtype(), t.shape(), (offset, into) -> {
                for (long b = 0; b < into.byteSize(); b++) times[(int) (offset + b)]++;
                largest = Math.max(largest, into.byteSize());
                t.chunks().read(offset, into);
            });
        }

        void assertEachByteReadOnce() {
            for (int b = 0; b < times.length; b++) assertEquals(1, times[b], "byte " + b + " of W_enc read " + times[b] + " times");
        }
    }

    private static StateChunks.Tensors withWEnc(StateChunks.Tensors p, ChunkedTensor wEnc) {
        return new StateChunks.Tensors(wEnc, p.bEnc(), p.wDec(), p.bDec());
    }

    @Test
    void streamedEqualsTheHostExportByteForByteAcrossTileBoundaries() throws IOException {
        Params p = params();
        hostExport(p, dir.resolve("host").resolve("sae_weights.safetensors"));
        Export.saelens(p, CFG, SCALES, Export.Origin.UNKNOWN, dir.resolve("params"));
        byte[] want = Files.readAllBytes(dir.resolve("host").resolve("sae_weights.safetensors"));
        assertArrayEquals(want, Files.readAllBytes(dir.resolve("params").resolve("sae_weights.safetensors")), "from host arrays");
        byte[] cfg = Files.readAllBytes(dir.resolve("params").resolve("cfg.json"));
        int tile = Transpose.tileBytes, run = Transpose.runBytes;
        // tiles of one element, of part of a row (columns tiled), of 2 and 5 rows, of all rows; runs of 2 elements
        int[][] sizes = {{4, run}, {12, run}, {4 * D * 2, run}, {4 * D * 5 + 8, run}, {4 * D * M, run}, {tile, 8}};
        try {
            for (int[] s : sizes) {
                Transpose.tileBytes = s[0];
                Transpose.runBytes = s[1];
                Counted wEnc = new Counted(StateChunks.Tensors.of(p).wEnc());
                Path out = dir.resolve("tile" + s[0] + "run" + s[1]);
                Export.write(Export.Format.SAELENS, withWEnc(StateChunks.Tensors.of(p), wEnc.tensor), CFG, SCALES, Export.Origin.UNKNOWN, out);
                String at = "tile " + s[0] + " B, run " + s[1] + " B";
                assertArrayEquals(want, Files.readAllBytes(out.resolve("sae_weights.safetensors")), at);
                assertArrayEquals(cfg, Files.readAllBytes(out.resolve("cfg.json")), at);
                wEnc.assertEachByteReadOnce();
                assertTrue(wEnc.largest <= s[0], at + ": a read of " + wEnc.largest + " B");
                try (var files = Files.list(out)) {
                    assertEquals(2, files.count(), at + ": only the two files, no temporary left");
                }
            }
        } finally {
            Transpose.tileBytes = tile;
            Transpose.runBytes = run;
        }
    }

    /** W_enc generated element by element (value = its index i·d + j), never held in memory. */
    private static ChunkedTensor generated(long rows, long cols) {
        return new ChunkedTensor(Dtype.F32, new long[]{rows, cols}, (offset, into) -> {
            for (long b = 0; b < into.byteSize(); b += 4) into.set(ValueLayout.JAVA_FLOAT_UNALIGNED, b, (offset + b) / 4);
        });
    }

    @Test
    void anSaePastOneArrayExportsItsTranspose() {
        Params p = params();
        Counted wEnc = new Counted(generated(M, D));
        StateChunks.Tensors t = withWEnc(StateChunks.Tensors.of(p), wEnc.tensor);
        int tile = Transpose.tileBytes;
        Transpose.tileBytes = 4 * D * 3; // 3 rows a tile, under the lowered limit
        try {
            ArrayLimit.during((long) M * D - 1, () -> Export.write(Export.Format.SAELENS, t, CFG, SCALES, Export.Origin.UNKNOWN, dir));
        } finally {
            Transpose.tileBytes = tile;
        }
        wEnc.assertEachByteReadOnce();
        assertTrue(wEnc.largest <= 4 * D * 3, "a read of " + wEnc.largest + " B");
        try (SafeTensors st = SafeTensors.open(dir.resolve("sae_weights.safetensors"))) {
            float[] w = st.floats("W_enc", D, M);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < D; j++) assertEquals(i * D + j, w[j * M + i], "W_enc[" + j + ", " + i + "]");
            assertArrayEquals(ExportTest.folded(p, SCALES).bEnc(), st.floats("b_enc", M));
            assertArrayEquals(p.wDec(), st.floats("W_dec", M, D));
        }
    }

    @Test
    void transposedTensorsMustBeTwoDimensionalOfFourByteElements() {
        for (ChunkedTensor bad : new ChunkedTensor[]{ChunkedTensor.of(HostTensor.of(new float[6], 6)),
                new ChunkedTensor(Dtype.F16, new long[]{2, 3}, (offset, into) -> {})}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SafeTensors.Source.Transposed(bad));
            assertTrue(e.getMessage().startsWith("transposes 2-D tensors of 4-byte elements"), e.getMessage());
        }
    }
}
