package gsae.cli;

import gsae.cuda.CudaBackend;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gsae selftest --device emulated}: every stage and a few training steps on the emulated device agree with the reference. */
class SelftestEmulatedTest {

    @Test
    void everyCheckAgrees() {
        String why = CudaBackend.unavailableReason(CudaBackend.EMULATED);
        if (!Boolean.getBoolean("gsae.emulator.required")) org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> why);
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new SelftestCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cl.execute("--backend", "cuda", "--device", "emulated", "--steps", "3");
        assertEquals(0, code, out + "\n" + err);
        String text = out.toString();
        assertTrue(text.contains("device: emulated CUDA device (libgsae_emu.so"), text);
        assertTrue(text.matches("(?s).*selftest: (\\d+) of \\1 checks agree with the reference.*"), text);
    }
}
