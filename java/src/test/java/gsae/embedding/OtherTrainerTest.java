package gsae.embedding;

import gsae.api.Codes;
import gsae.api.ExportFormat;
import gsae.api.Metrics;
import gsae.api.Sae;
import gsae.api.SaeBackend;
import gsae.api.SaeTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static gsae.embedding.OtherTrainer.D;
import static gsae.embedding.OtherTrainer.ROWS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** An embedding trainer that uses gsae.api and nothing else of gsae. */
class OtherTrainerTest {

    @Test
    void theOtherTrainerImportsNothingOfGsaeButTheApi() throws IOException {
        Path sources = Path.of("src/test/java/gsae/embedding");
        assumeTrue(Files.isDirectory(sources), "the sources are not here (the dist bundle ships classes only)");
        for (String file : List.of("OtherTrainer.java", "OtherTrainerTest.java")) {
            List<String> gsae = Files.readAllLines(sources.resolve(file)).stream()
                    .filter(l -> l.startsWith("import ") && l.contains(" gsae.")).toList();
            assertTrue(!gsae.isEmpty(), file);
            for (String line : gsae)
                assertTrue(line.matches("import (static )?gsae\\.(api|embedding)\\.[A-Za-z.]+;"), file + ": " + line);
        }
    }

    @Test
    void trainsSavesResumesAndEncodesFromSeveralThreads(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("sae");
        List<String> saved = new ArrayList<>();
        List<Metrics> m = new OtherTrainer().train(60, dir);
        assertEquals(60, m.size());
        assertEquals(60, m.getLast().step());
        assertTrue(m.getLast().fvu() < 0.5 * m.getFirst().fvu(), m.getFirst().fvu() + " → " + m.getLast().fvu());

        // resume: step numbers continue, the schedule sees them, checkpoints are announced
        try (SaeTrainer again = SaeTrainer.resumeFrom(dir).backend(SaeBackend.REFERENCE).learningRate(step -> step > 60 ? 1e-3f : 0f)
                .onCheckpoint(p -> saved.add(p.getFileName().toString())).build()) {
            assertEquals(60, again.steps());
            float[] x = new float[ROWS * D], g = new float[ROWS * D];
            new OtherTrainer().batch(x, g);
            float[] xCopy = x.clone(), gCopy = g.clone();
            assertEquals(61, again.step(x, g, ROWS).step());
            assertArrayEquals(xCopy, x, "the caller's x is untouched");
            assertArrayEquals(gCopy, g, "the caller's g is untouched");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment xs = arena.allocate(ValueLayout.JAVA_FLOAT, x.length), gs = arena.allocate(ValueLayout.JAVA_FLOAT, g.length);
                MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
                MemorySegment.copy(g, 0, gs, ValueLayout.JAVA_FLOAT, 0, g.length);
                assertEquals(62, again.step(xs, gs, ROWS).step());
                assertArrayEquals(xCopy, xs.toArray(ValueLayout.JAVA_FLOAT), "the caller's segment is untouched");
            }
            again.save(dir);
            assertEquals(List.of("sae"), saved);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> again.step(x, g, ROWS + 1));
            assertTrue(e.getMessage().startsWith("x has 1024 values, expected rows × d = 65 × 16"), e.getMessage());
        }

        Sae sae = Sae.load(dir);
        float[] x = new float[ROWS * D], g = new float[ROWS * D];
        new OtherTrainer().batch(x, g);
        Codes alone = sae.encode(x, ROWS);
        assertEquals(OtherTrainer.K, alone.k());
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Codes>> many = new ArrayList<>();
            for (int i = 0; i < 6; i++) many.add(pool.submit(() -> sae.encode(x, ROWS)));
            for (Future<Codes> f : many) {
                assertArrayEquals(alone.indices(), f.get().indices());
                assertArrayEquals(alone.values(), f.get().values());
            }
        } finally {
            pool.shutdown();
        }
        assertNotEquals(alone.indices()[0], -1);
        float[] xhat = sae.reconstruct(x, ROWS);
        double err = 0, var = 0;
        for (int i = 0; i < x.length; i++) {
            err += (x[i] - xhat[i]) * (x[i] - xhat[i]);
            var += x[i] * x[i];
        }
        assertTrue(err < 0.5 * var, "the reconstruction explains most of x: " + err / var);
        assertArrayEquals(sae.decode(alone), xhat);
        Codes withG = sae.encode(x, g, ROWS);
        assertEquals(ROWS, withG.rows());

        sae.export(ExportFormat.SPARSIFY, tmp.resolve("export"));
        assertTrue(Files.isRegularFile(tmp.resolve("export").resolve("sae.safetensors")));
    }

    @Test
    void theBuilderNamesTheOptionItRefuses() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SaeTrainer.builder(16, 2, 4)).getMessage().startsWith("latents (2) must be ≥ k (4)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SaeTrainer.builder(16, 8, 4).beta(-1)).getMessage().startsWith("beta "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SaeTrainer.builder(16, 8, 4).learningRate(Float.NaN)).getMessage()
                .startsWith("learning rate "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SaeTrainer.builder(4096, 1_000_000, 32).backend(SaeBackend.REFERENCE).build())
                .getMessage().startsWith("latents: 1,000,000 latents × 4,096"));
    }
}
