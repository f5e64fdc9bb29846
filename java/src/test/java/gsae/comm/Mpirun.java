package gsae.comm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An mpirun on this machine, to start test programs as ranks: Open MPI's ({@code mpirun.openmpi},
 * or {@code mpirun} when it is Open MPI's) or MPICH's ({@code mpirun.mpich}). Tests that need one
 * skip, saying so, where it is missing ({@code make test} installs Open MPI from Debian).
 */
record Mpirun(Path program, boolean isOpenMpi) {

    /** What a run printed and how it ended. */
    record Result(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Mpirun openMpi() {
        Path p = onPath("mpirun.openmpi");
        if (p == null && (p = onPath("mpirun")) != null && !version(p).contains("Open MPI")) p = null;
        assumeTrue(p != null, "no Open MPI mpirun on this machine (make test installs it: apt-get install openmpi-bin libopenmpi-dev)");
        return new Mpirun(p, true);
    }

    static Mpirun mpich() {
        Path p = onPath("mpirun.mpich");
        assumeTrue(p != null, "no MPICH mpirun (mpirun.mpich) on this machine (apt-get install mpich libmpich-dev)");
        return new Mpirun(p, false);
    }

    /**
     * Runs {@code np} ranks of {@code main} (a class on the test class path) with {@code args},
     * {@code env} added to the environment (an empty value sets the variable empty), {@code
     * launcherArgs} before the program; at most {@code seconds}.
     */
    Result java(int np, List<String> launcherArgs, Map<String, String> env, Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(program.toString(), "-np", Integer.toString(np)));
        if (isOpenMpi) cmd.addAll(List.of("--oversubscribe", "--allow-run-as-root"));
        cmd.addAll(launcherArgs);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Map<String, String> all = new HashMap<>(env);
        if (isOpenMpi) all.putAll(Map.of("OMPI_ALLOW_RUN_AS_ROOT", "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"));
        return run(cmd, all, 120);
    }

    static Result run(List<String> cmd, Map<String, String> env, int seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("mpirun", ".out"), err = Files.createTempFile("mpirun", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", cmd) + " did not end within " + seconds + " s; stderr:\n" + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    private static String version(Path mpirun) {
        try {
            return run(List.of(mpirun.toString(), "--version"), Map.of(), 30).out();
        } catch (IOException | InterruptedException | AssertionError e) {
            return "";
        }
    }
}
