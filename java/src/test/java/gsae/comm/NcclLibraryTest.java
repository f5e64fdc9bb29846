package gsae.comm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The NCCL binding where libnccl.so.2 is here (GSAE_NCCL_LIBRARY, the project's .venv from a
 * PyTorch with CUDA, or the library path): every function links, and the calls that need no GPU
 * work. Skips, saying so, where NCCL is absent. The collectives themselves need a GPU.
 */
class NcclLibraryTest {

    @Test
    void everyFunctionLinksAndTheGpuFreeCallsWork() {
        NcclLibrary nccl = NcclLibrary.load(Map.of("GSAE_NCCL_LIBRARY", library()));
        int v = nccl.version();
        assertTrue(v >= 2_00_00 && v < 100_00_00, "NCCL version code " + v);
        byte[] a = nccl.uniqueId(), b = nccl.uniqueId();
        assertEquals(128, a.length);
        assertFalse(Arrays.equals(a, new byte[128]), "an all-zero unique id");
        assertFalse(Arrays.equals(a, b), "two unique ids alike");
        assertTrue(nccl.errorString(4).toLowerCase().contains("invalid argument"), nccl.errorString(4));
    }

    @Test
    void theEnumsAreNcclHs() {
        assertEquals(7, NcclGroup.type(ElementType.F32));
        assertEquals(8, NcclGroup.type(ElementType.F64));
        assertEquals(2, NcclGroup.type(ElementType.I32));
        assertEquals(4, NcclGroup.type(ElementType.I64));
        assertEquals(1, NcclGroup.type(ElementType.U8));
        assertEquals(0, NcclGroup.op(ReduceOp.SUM));
        assertEquals(2, NcclGroup.op(ReduceOp.MAX));
        assertEquals(3, NcclGroup.op(ReduceOp.MIN));
    }

    /** libnccl.so.2's path, or the test skips. */
    private static String library() {
        List<Path> candidates = new ArrayList<>();
        String own = System.getenv("GSAE_NCCL_LIBRARY");
        if (own != null) candidates.add(Path.of(own));
        Path venv = Path.of("..", ".venv", "lib"); // a PyTorch with CUDA brings nvidia/nccl/lib/libnccl.so.2
        if (Files.isDirectory(venv)) {
            try (Stream<Path> found = Files.find(venv, 6, (p, attr) -> p.endsWith(Path.of("nvidia", "nccl", "lib", "libnccl.so.2")))) {
                found.forEach(candidates::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (String dir : System.getenv().getOrDefault("LD_LIBRARY_PATH", "").split(":"))
            if (!dir.isEmpty()) candidates.add(Path.of(dir, "libnccl.so.2"));
        candidates.add(Path.of("/usr/lib/x86_64-linux-gnu/libnccl.so.2"));
        candidates.add(Path.of("/usr/local/cuda/lib64/libnccl.so.2"));
        Path found = candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(found != null, "no libnccl.so.2 here (not in GSAE_NCCL_LIBRARY, .venv or the library path): the NCCL binding is not checked");
        return found.toString();
    }
}
