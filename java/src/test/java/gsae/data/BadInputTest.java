package gsae.data;

import gsae.io.DataException;
import gsae.io.Npy;
import gsae.io.NpyTestFiles;
import gsae.io.SafeTensors;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static gsae.data.ShardDatasetTest.D;
import static gsae.data.ShardDatasetTest.npyPair;
import static gsae.data.ShardDatasetTest.rows;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every defect a user can make in the data is one line naming the file and the problem. */
class BadInputTest {

    @TempDir
    Path dir;

    private static void assertNames(DataException e, Path file, String... problem) {
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file + ": "), "names " + file + ": " + msg);
        for (String p : problem) assertTrue(msg.contains(p), "says '" + p + "': " + msg);
        assertTrue(!msg.contains("\n"), "one line: " + msg);
    }

    private DataException openFails(Path... paths) {
        return assertThrows(DataException.class, () -> ShardDataset.open(List.of(paths), 1, true, false).close());
    }

    private Path raw(String name, int version, String dict, float[] data) throws IOException {
        Path f = dir.resolve(name);
        NpyTestFiles.writeRaw(f, version, dict, data);
        return f;
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nope.act.npy");
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "no such file");
        assertNames(openFails(f), f, "no such file");
    }

    @Test
    void truncatedData() throws IOException {
        Path f = raw("t.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }\n", new float[7]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "truncated", "(4, 3)", "48", "28");
    }

    @Test
    void truncatedHeader() throws IOException {
        Path f = dir.resolve("h.npy");
        Npy.write(f, HostTensor.of(new float[6], 2, 3));
        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 30));
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "truncated", "header");
    }

    @Test
    void wrongMagic() throws IOException {
        Path f = dir.resolve("m.npy");
        Files.writeString(f, "this is not an npy file at all");
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "magic");
    }

    @Test
    void unsupportedDtypeIsNamed() throws IOException {
        Path f = raw("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n", new float[4]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "unsupported dtype '<f8'");
    }

    @Test
    void bigEndian() throws IOException {
        Path f = raw("be.npy", 2, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }\n", new float[2]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "big-endian", "'>f4'");
    }

    @Test
    void keyGivenTwice() throws IOException {
        // NumPy keeps the last 'shape' (2, 2); a reader taking the first would see (1, 4)
        Path f = raw("dup.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), 'shape': (2, 2), }\n", new float[4]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "key 'shape' given twice");
    }

    @Test
    void fortranOrder() throws IOException {
        Path f = raw("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", new float[4]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(f)), f, "Fortran");
    }

    @Test
    void wrongRank() throws IOException {
        Path one = raw("r1.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", new float[4]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(one)), one, "rank 1", "2-D");
        Path three = raw("r3.npy", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }\n", new float[4]);
        assertNames(assertThrows(DataException.class, () -> Npy.open(three)), three, "rank 3");
    }

    @Test
    void activationsAndGradientsOfDifferentLength() {
        float[][] xg = rows(0, 6, D);
        Npy.write(dir.resolve("s.act.npy"), HostTensor.of(xg[0], 6, D));
        Npy.write(dir.resolve("s.grad.npy"), HostTensor.of(Arrays.copyOf(xg[1], 5 * D), 5, D));
        assertNames(openFails(dir), dir.resolve("s.grad.npy"), "5 rows", "s.act.npy", "6");
    }

    @Test
    void activationsAndGradientsOfDifferentWidth() {
        Map<String, HostTensor> m = Map.of("activations", HostTensor.of(new float[12], 4, 3), "gradients", HostTensor.of(new float[8], 4, 2));
        Path f = dir.resolve("w.safetensors");
        SafeTensors.write(f, m);
        assertNames(openFails(f), f, "'gradients'", "width 2", "width 3");
    }

    @Test
    void differentWidthAcrossShards() {
        npyPair(dir, "a", 0, 5, Dtype.F32);
        Path other = dir.resolve("b.safetensors");
        SafeTensors.write(other, Map.of("activations", HostTensor.of(new float[8], 2, 4), "gradients", HostTensor.of(new float[8], 2, 4)));
        assertNames(openFails(dir), other, "d=4", "a.act.npy", "d=3");
    }

    @Test
    void activationsWithoutGradients() {
        Path act = dir.resolve("lone.act.npy");
        Npy.write(act, HostTensor.of(new float[6], 2, 3));
        assertNames(openFails(dir), act, "no matching lone.grad.npy");
        assertNames(openFails(act), act, "no matching lone.grad.npy");
    }

    @Test
    void safetensorsShardWithoutGradients() {
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, Map.of("activations", HostTensor.of(new float[6], 2, 3)));
        assertNames(openFails(f), f, "no tensor 'gradients'");
    }

    @Test
    void emptyDataset() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertNames(openFails(empty), empty, "no shards");
        Path zero = Files.createDirectory(dir.resolve("zero"));
        Npy.write(zero.resolve("z.act.npy"), HostTensor.of(new float[0], 0, 3));
        Npy.write(zero.resolve("z.grad.npy"), HostTensor.of(new float[0], 0, 3));
        assertNames(openFails(zero), zero.resolve("z.act.npy"), "no tokens");
    }

    @Test
    void notAShard() throws IOException {
        Path f = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertNames(openFails(f), f, "not a shard");
    }

    @Test
    void nonFiniteRowNamesFileAndRow() {
        float[][] xg = rows(0, 10, D);
        xg[1][7 * D] = Float.POSITIVE_INFINITY;
        Npy.write(dir.resolve("s.act.npy"), HostTensor.of(xg[0], 10, D));
        Npy.write(dir.resolve("s.grad.npy"), HostTensor.of(xg[1], 10, D));
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 1, false, false)) {
            DataException e = assertThrows(DataException.class, () -> ds.next(new float[10 * D], new float[10 * D], 10));
            assertNames(e, dir.resolve("s.grad.npy"), "row 7", "NaN or Inf");
        }
        Path st = dir.resolve("n.safetensors");
        xg[0][2 * D + 1] = Float.NaN;
        SafeTensors.write(st, Map.of("activations", HostTensor.of(xg[0], 10, D), "gradients", HostTensor.of(xg[1], 10, D)));
        try (ShardDataset ds = ShardDataset.open(List.of(st), 1, false, false)) {
            DataException e = assertThrows(DataException.class, () -> ds.next(new float[10 * D], new float[10 * D], 10));
            assertNames(e, st, "tensor 'activations' row 2", "NaN or Inf");
        }
    }

    @Test
    void allRowsNonFiniteIsAnErrorEvenWhenSkipping() {
        float[] nan = new float[2 * D];
        Arrays.fill(nan, Float.NaN);
        Npy.write(dir.resolve("s.act.npy"), HostTensor.of(nan, 2, D));
        Npy.write(dir.resolve("s.grad.npy"), HostTensor.of(new float[2 * D], 2, D));
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 1, true, true)) {
            DataException e = assertThrows(DataException.class, () -> ds.next(new float[D], new float[D], 1));
            assertNames(e, dir.resolve("s.act.npy"), "every row");
        }
    }
}
