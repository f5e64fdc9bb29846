package gsae.cli;

import gsae.config.UserError;
import gsae.cuda.CudaBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** export's and selftest's refusals, one line each (moved here from the engine's ExportTest and CudaUnavailableTest). */
class CommandErrorsTest {

    @TempDir
    Path dir;

    @Test
    void commandNamesAMissingCheckpoint() {
        Path missing = dir.resolve("no-such-run");
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main()).setErr(new PrintWriter(err, true));
        int code = cmd.execute("export", "--checkpoint", missing.toString(), "--format", "saelens", "--out", dir.resolve("out").toString());
        assertEquals(Main.USER_ERROR, code);
        assertEquals("gsae: " + missing + ": no such checkpoint folder", err.toString().strip());
    }

    @Test
    void commandRejectsAnUnknownFormat() {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main()).setErr(new PrintWriter(err, true));
        int code = cmd.execute("export", "--checkpoint", dir.toString(), "--format", "onnx", "--out", dir.toString());
        assertEquals(Main.USER_ERROR, code);
        assertEquals("gsae: Invalid value for option '--format': expected one of [SPARSIFY, SAELENS] (case-insensitive) but was 'onnx' "
                + "(see gsae export --help)", err.toString().strip());
    }

    @Test
    void selftestSaysOneLineAndExitsTwo() {
        String why = CudaBackend.unavailableReason("0");
        assumeTrue(why != null, "a GPU is usable here");
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new SelftestCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cl.execute("--backend", "cuda", "--device", "0");
        assertEquals(2, code);
        assertEquals("", out.toString());
        String text = err.toString().strip();
        assertFalse(text.contains("\n"), text);
        assertEquals("gsae selftest: CUDA backend unavailable: " + why, text);
    }

    @Test
    void selftestRejectsOtherBackends() {
        CommandLine cl = new CommandLine(new SelftestCommand()).setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(new StringWriter()));
        cl.setExecutionExceptionHandler((e, c, parsed) -> e instanceof UserError ? 2 : 1);
        assertEquals(2, cl.execute("--backend", "cpu"));
    }
}
