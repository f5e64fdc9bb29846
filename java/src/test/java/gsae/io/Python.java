package gsae.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Python script for interoperability tests: the project's venv ({@code make venv}, which {@code make test}
 * builds first) when it exists, else python3; exit code −1 when neither can run at all.
 */
final class Python {

    record Result(int code, String output) {}

    /** The venv's interpreter, seen from the engine module's folder (surefire's working directory). */
    private static final Path VENV = Path.of("..", ".venv", "bin", "python");

    private Python() {}

    /** True when python3 runs and imports every named module. */
    static boolean has(String... modules) {
        return run("import " + String.join(", ", modules)).code() == 0;
    }

    /** Runs {@code script} with {@code args} in sys.argv[1:], stdout and stderr together, one minute at most. */
    static Result run(String script, String... args) {
        List<String> command = new ArrayList<>(List.of(Files.isExecutable(VENV) ? VENV.toString() : "python3", "-c", script));
        command.addAll(List.of(args));
        try {
            // Output goes to a file, so that a chatty script cannot fill the pipe and stall before the timeout.
            Path log = Files.createTempFile("gsae-python", ".log");
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, "python3 timed out");
                }
                return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            return new Result(-1, "python3 cannot run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
