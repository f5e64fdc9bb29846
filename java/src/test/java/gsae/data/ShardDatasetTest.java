package gsae.data;

import gsae.io.Npy;
import gsae.io.SafeTensors;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardDatasetTest {

    static final int D = 3;

    @TempDir
    Path dir;

    /** Rows of the test dataset in concatenation order: 40 + 33 + 29 + 20 = 122. */
    static final int TOTAL = 122;

    /**
     * Four shards of every kind, named so that sorting by name keeps this order. Row with global id r
     * has x = (r, 1, 2) and g = (−r, r mod 5, 0.5): small integers and halves, exact in every dtype.
     */
    @BeforeEach
    void writeShards() {
        npyPair(dir, "a", 0, 40, Dtype.F32);
        npyPair(dir, "b", 40, 33, Dtype.F16);
        safetensorsShard(dir.resolve("c.safetensors"), 73, 29, Dtype.F32);
        safetensorsShard(dir.resolve("d.safetensors"), 102, 20, Dtype.BF16);
    }

    static float[][] rows(int firstId, int rows, int d) {
        float[] x = new float[rows * d], g = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            int id = firstId + r;
            for (int j = 0; j < d; j++) {
                x[r * d + j] = j == 0 ? id : j;
                g[r * d + j] = j == 0 ? -id : j == 1 ? id % 5 : 0.5f;
            }
        }
        return new float[][]{x, g};
    }

    static HostTensor encode(float[] v, Dtype t, long... shape) {
        return switch (t) {
            case F32 -> HostTensor.of(v.clone(), shape);
            case F16, BF16 -> {
                short[] s = new short[v.length];
                for (int i = 0; i < v.length; i++) s[i] = t == Dtype.F16 ? Float.floatToFloat16(v[i]) : Dtype.floatToBf16(v[i]);
                yield new HostTensor(t, shape, MemorySegment.ofArray(s));
            }
            default -> throw new IllegalArgumentException(t.name());
        };
    }

    static void npyPair(Path dir, String name, int firstId, int rows, Dtype t) {
        float[][] xg = rows(firstId, rows, D);
        Npy.write(dir.resolve(name + ".act.npy"), encode(xg[0], t, rows, D));
        Npy.write(dir.resolve(name + ".grad.npy"), encode(xg[1], t, rows, D));
    }

    static void safetensorsShard(Path file, int firstId, int rows, Dtype t) {
        float[][] xg = rows(firstId, rows, D);
        Map<String, HostTensor> m = new LinkedHashMap<>();
        m.put("activations", encode(xg[0], t, rows, D));
        m.put("gradients", encode(xg[1], t, rows, D));
        SafeTensors.write(file, m);
    }

    /** Reads n tokens in batches of the given sizes (cycled) and returns x[·, 0] of each, checking that g matches x. */
    static int[] ids(BatchSource src, int n, int... batchSizes) {
        int[] out = new int[n];
        int at = 0, b = 0;
        while (at < n) {
            int size = Math.min(batchSizes[b++ % batchSizes.length], n - at);
            float[] x = new float[size * D], g = new float[size * D];
            src.next(x, g, size);
            for (int r = 0; r < size; r++) {
                int id = (int) x[r * D];
                assertEquals(id, x[r * D], "ids are integers");
                assertArrayEquals(new float[]{id, 1, 2}, Arrays.copyOfRange(x, r * D, r * D + D));
                assertArrayEquals(new float[]{-id, id % 5, 0.5f}, Arrays.copyOfRange(g, r * D, r * D + D), "g belongs to x");
                out[at++] = id;
            }
        }
        return out;
    }

    /** The ids 0..TOTAL−1 in concatenation order. */
    static int[] allIds() {
        int[] ids = new int[TOTAL];
        for (int r = 0; r < TOTAL; r++) ids[r] = r;
        return ids;
    }

    @Test
    void unshuffledReadsShardOrderThenRowOrderAndCycles() {
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 1, false, false)) {
            assertEquals(TOTAL, ds.tokens());
            assertEquals(D, ds.d());
            int[] got = ids(ds, 2 * TOTAL + 5, 17, 4, 50);
            int[] expected = allIds();
            for (int i = 0; i < got.length; i++) assertEquals(expected[i % TOTAL], got[i], "position " + i);
            assertEquals(2L * TOTAL + 5, ds.position());
            assertTrue(ds.describe().contains("4 shards") && ds.describe().contains("122 tokens"), ds.describe());
        }
    }

    @Test
    void filesGivenDirectlyMatchTheirDirectory() {
        List<Path> files = List.of(dir.resolve("a.act.npy"), dir.resolve("b.grad.npy"), dir.resolve("c.safetensors"), dir.resolve("d.safetensors"));
        try (ShardDataset ds = ShardDataset.open(files, 1, false, false)) {
            assertArrayEquals(allIds(), ids(ds, TOTAL, 64));
        }
    }

    @Test
    void shuffledSeesEveryRowOncePerEpoch() {
        int[] sorted = allIds();
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 7, true, false, 4, 3)) {
            int[] previous = null;
            for (int epoch = 0; epoch < 3; epoch++) {
                int[] got = ids(ds, TOTAL, 9, 31);
                assertFalse(Arrays.equals(sorted, got), "epoch " + epoch + " is not shuffled");
                assertFalse(Arrays.equals(previous, got), "epoch " + epoch + " repeats the previous order");
                previous = got.clone();
                Arrays.sort(got);
                assertArrayEquals(sorted, got, "epoch " + epoch + " holds every row exactly once");
            }
        }
    }

    @Test
    void defaultChunkingAlsoCoversEveryRowOncePerEpoch() {
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 3, true, false)) {
            int[] got = ids(ds, TOTAL, 100);
            assertFalse(Arrays.equals(allIds(), got));
            Arrays.sort(got);
            assertArrayEquals(allIds(), got);
        }
    }

    @Test
    void shuffleIsDeterministicPerSeed() {
        int[] a, b, c;
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 5, true, false, 4, 3)) {
            a = ids(ds, 2 * TOTAL, 10);
        }
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 5, true, false, 4, 3)) {
            b = ids(ds, 2 * TOTAL, 3, 77);
        }
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 6, true, false, 4, 3)) {
            c = ids(ds, 2 * TOTAL, 10);
        }
        assertArrayEquals(a, b, "same seed, same stream, whatever the batch sizes");
        assertFalse(Arrays.equals(a, c), "another seed gives another order");
    }

    /** A stream read to position P and continued equals a fresh stream seeked to P, inside windows and across epochs. */
    @Test
    void seekEqualsReadingUpToThePosition() {
        for (boolean shuffle : new boolean[]{true, false}) {
            for (long p : new long[]{0, 1, 11, 12, 13, TOTAL - 1, TOTAL, TOTAL + 37, 3L * TOTAL + 5}) {
                int[] continued;
                try (ShardDataset ds = ShardDataset.open(List.of(dir), 9, shuffle, false, 4, 3)) {
                    ids(ds, (int) p, 7, 13);
                    assertEquals(p, ds.position());
                    continued = ids(ds, 60, 25);
                }
                try (ShardDataset ds = ShardDataset.open(List.of(dir), 9, shuffle, false, 4, 3)) {
                    ds.seek(p);
                    assertEquals(p, ds.position());
                    assertArrayEquals(continued, ids(ds, 60, 60), "shuffle=" + shuffle + ", position " + p);
                }
            }
        }
    }

    @Test
    void windowsMixRowsFromSeveralShards() {
        try (ShardDataset ds = ShardDataset.open(List.of(dir), 2, true, false, 4, 8)) {
            int[] first = ids(ds, 32, 32);
            long shardsSeen = Arrays.stream(first).map(id -> id < 40 ? 0 : id < 73 ? 1 : id < 102 ? 2 : 3).distinct().count();
            assertTrue(shardsSeen >= 2, "the first window of 8 chunks draws from " + shardsSeen + " shard(s)");
        }
    }

    @Test
    void skipNonfiniteDropsAndCountsBadRows() throws IOException {
        Path bad = Files.createDirectory(dir.resolve("bad"));
        float[][] xg = rows(0, 10, D);
        xg[0][5 * D + 1] = Float.NaN;
        xg[1][8 * D + 2] = Float.NEGATIVE_INFINITY;
        Npy.write(bad.resolve("s.act.npy"), HostTensor.of(xg[0], 10, D));
        Npy.write(bad.resolve("s.grad.npy"), HostTensor.of(xg[1], 10, D));
        try (ShardDataset ds = ShardDataset.open(List.of(bad), 1, false, true)) {
            float[] x = new float[16 * D], g = new float[16 * D];
            ds.next(x, g, 16);
            int[] got = new int[16];
            for (int r = 0; r < 16; r++) got[r] = (int) x[r * D];
            assertArrayEquals(new int[]{0, 1, 2, 3, 4, 6, 7, 9, 0, 1, 2, 3, 4, 6, 7, 9}, got);
            assertEquals(4, ds.skippedRows());
            assertEquals(20, ds.position(), "position counts stream rows consumed, skipped ones included");
        }
    }
}
