package gsae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running out of heap ends in one line with the estimated need and how to raise the heap, never a stack trace. */
class OutOfMemoryTest {

    @Test
    void aRunTooLargeForTheHeapEndsInOneLineWithTheEstimatedNeed(@TempDir Path tmp) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        // the teacher has d = 64: 400,000 latents need 100 MiB per weight matrix, the child has 64 MiB
        Process child = new ProcessBuilder(java, "-Xmx64m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "gsae.cli.Main", "train", "--out", tmp.resolve("run").toString(),
                "--latents", "400000", "--k", "4", "--steps", "1", "--batch", "64", "--backend", "reference", "--threads", "1", "--quiet")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, child.waitFor(), err);
        List<String> lines = err.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
        assertEquals(1, lines.size(), "one line:\n" + err);
        // need: 4 copies of 2·M·d + M + d floats, and N × M scores twice: about 1.0 GiB
        assertTrue(lines.getFirst().matches("gsae: out of memory: the Java heap \\(0\\.\\d GiB\\) is full; this run needs about 1\\.0 GiB: "
                + "raise it with GSAE_JAVA_OPTS=-Xmx2g, or use fewer --latents or a smaller --batch"), err);
    }

    @Test
    void theMessageSuggestsAHeapAboveTheNeed() {
        String m = Errors.outOfMemory(2L << 30, 5L << 30);
        assertEquals("out of memory: the Java heap (2.0 GiB) is full; this run needs about 5.0 GiB: raise it with GSAE_JAVA_OPTS=-Xmx7g, "
                + "or use fewer --latents or a smaller --batch", m);
        assertTrue(Errors.outOfMemory(2L << 30, 0).contains("is full: raise it with GSAE_JAVA_OPTS=-Xmx4g"));
    }
}
