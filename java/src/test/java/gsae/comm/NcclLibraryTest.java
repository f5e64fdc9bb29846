package gsae.comm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
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
        assertFalse(java.util.Arrays.equals(a, new byte[128]), "an all-zero unique id");
        assertFalse(java.util.Arrays.equals(a, b), "two unique ids alike");
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
        String own = System.getenv("GSAE_NCCL_LIBRARY");
        if (own != null && Files.isRegularFile(Path.of(own))) return own;
        Optional<Path> venv = Optional.empty();
        Path lib = Path.of("..", ".venv", "lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> found = Files.find(lib, 6, (p, attr) -> p.endsWith(Path.of("nvidia", "nccl", "lib", "libnccl.so.2")))) {
                venv = found.findFirst();
            } catch (IOException e) {
                venv = Optional.empty();
            }
        }
        if (venv.isPresent()) return venv.get().toString();
        String onPath = null;
        for (String dir : System.getenv().getOrDefault("LD_LIBRARY_PATH", "").split(":"))
            if (!dir.isEmpty() && Files.isRegularFile(Path.of(dir, "libnccl.so.2"))) onPath = Path.of(dir, "libnccl.so.2").toString();
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64"})
            if (onPath == null && Files.isRegularFile(Path.of(dir, "libnccl.so.2"))) onPath = Path.of(dir, "libnccl.so.2").toString();
        assumeTrue(onPath != null, "no libnccl.so.2 here (not in GSAE_NCCL_LIBRARY, .venv or the library path): the NCCL binding is not checked");
        return onPath;
    }
}
