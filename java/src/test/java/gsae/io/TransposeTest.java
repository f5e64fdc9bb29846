package gsae.io;

import gsae.tensor.ChunkedTensor;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A transposed tensor written a tile at a time is byte for byte the transpose written from one array, whatever the tiles. */
class TransposeTest {

    @TempDir
    Path dir;

    @Test
    void equalsTheTransposeWrittenFromOneArray() throws IOException {
        int tile = Transpose.tileBytes, run = Transpose.runBytes;
        // shapes: odd, wider than two column groups, one element, empty; tiles: one element, part of a row, a few rows, all
        int[][] shapes = {{13, 37}, {37, 13}, {1, 1}, {0, 5}};
        int[][] sizes = {{tile, run}, {4, run}, {4 * 20, run}, {4 * 37 * 3, 8}, {4 * 37 * 37, 4 * 5}};
        try {
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                float[] a = NpyTest.random(rows * cols, rows * 100L + cols), at = new float[a.length]; // [rows, cols], [cols, rows]
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++) at[j * rows + i] = a[i * cols + j];
                float[] after = NpyTest.random(3, 9); // a tensor after the transposed one starts where it ends
                Map<String, HostTensor> host = new LinkedHashMap<>();
                host.put("t", HostTensor.of(at, cols, rows));
                host.put("after", HostTensor.of(after, 3));
                SafeTensors.write(dir.resolve("host.safetensors"), host);
                byte[] want = Files.readAllBytes(dir.resolve("host.safetensors"));
                for (int[] s : sizes) {
                    Transpose.tileBytes = s[0];
                    Transpose.runBytes = s[1];
                    Map<String, SafeTensors.Source> t = new LinkedHashMap<>();
                    t.put("t", new SafeTensors.Source.Transposed(ChunkedTensor.of(HostTensor.of(a, rows, cols))));
                    t.put("after", new SafeTensors.Source.AsIs(ChunkedTensor.of(HostTensor.of(after, 3))));
                    SafeTensors.writeSources(dir.resolve("tiled.safetensors"), t, Map.of());
                    assertArrayEquals(want, Files.readAllBytes(dir.resolve("tiled.safetensors")),
                            rows + " × " + cols + ", tile " + s[0] + " B, run " + s[1] + " B");
                }
            }
        } finally {
            Transpose.tileBytes = tile;
            Transpose.runBytes = run;
        }
    }
}
