package gsae.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The fatbins that make kernels builds travel in the jar's resources unchanged (skipped when kernels were not built). */
class KernelResourcesTest {

    private static final Path BUILD = Path.of("..", "kernels", "build");

    @Test
    void everyFamilyIsPackedAsBuilt() throws IOException {
        assumeTrue(Files.isDirectory(BUILD) && Kernels.FAMILIES.stream().anyMatch(f -> Files.exists(BUILD.resolve(f + ".fatbin"))),
                "kernels/build holds no fatbin (make kernels needs nvcc)");
        for (String family : Kernels.FAMILIES) {
            Path built = BUILD.resolve(family + ".fatbin");
            assertTrue(Files.exists(built), "make kernels did not build " + built);
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(Kernels.resource(family))) {
                assertNotNull(in, Kernels.resource(family) + " missing from the classpath");
                assertArrayEquals(Files.readAllBytes(built), in.readAllBytes(), family + ".fatbin differs from the build");
            }
        }
        assertTrue(Kernels.packaged());
    }

    @Test
    void everyCuFileHasItsFamily() throws IOException {
        Path sources = Path.of("..", "kernels");
        assumeTrue(Files.isDirectory(sources), "no kernels/ directory beside java/");
        try (var files = Files.list(sources)) {
            var cu = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).map(n -> n.substring(0, n.length() - 3)).sorted().toList();
            assertTrue(cu.containsAll(Kernels.FAMILIES) && Kernels.FAMILIES.containsAll(cu), "kernels/*.cu " + cu + " vs families " + Kernels.FAMILIES);
        }
    }
}
