package gsae.cli;

import gsae.api.DataSources;
import gsae.api.Launch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** The {@code gsae} command: one subcommand per verb; user errors end as one line and exit code 2, bugs as exit code 70. */
@Command(name = "gsae", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Gradient-aware sparse autoencoders (g-SAEs): train, evaluate, export.",
        subcommands = {TrainCommand.class, EvalCommand.class, ExportCommand.class, StepCommand.class,
                InfoCommand.class, BenchCommand.class, DemoCommand.class, SelftestCommand.class})
public final class Main implements Callable<Integer> {

    public static final String VERSION = "0.1.0";

    /** Exit code for bad input (options, files); picocli's own usage errors use the same. */
    public static final int USER_ERROR = 2;

    /** Exit code for a bug in gsae (sysexits' EX_SOFTWARE), so that it never passes for bad input. */
    public static final int INTERNAL_ERROR = 70;

    private final DataSources sources;

    @Spec
    private CommandSpec spec;

    /** The real data: the embedded teacher and shard files. */
    public Main() {
        this(DataSources.standard());
    }

    /** With other data behind {@code gsae train} (tests use a small synthetic stream). */
    public Main(DataSources sources) {
        this.sources = sources;
    }

    DataSources sources() {
        return sources;
    }

    /** A command line over {@code main} with gsae's error handling: what {@link #main} runs, and what tests should run. */
    public static CommandLine commandLine(Main main) {
        CommandLine cl = new CommandLine(main);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(Errors::onExecution);
        cl.setParameterExceptionHandler(Errors::onParameters);
        cl.setExecutionStrategy(parsed -> outputWritten(cl, new CommandLine.RunLast().execute(parsed)));
        return cl;
    }

    /**
     * A command whose output could not be written (a full disk, a closed pipe) failed, whatever it
     * returned: PrintWriter keeps write errors to itself until {@code checkError()}.
     */
    private static int outputWritten(CommandLine cl, int code) {
        if (!cl.getOut().checkError()) return code;
        cl.getErr().println("gsae: cannot write to standard output (disk full, or the reader went away?)");
        cl.getErr().flush();
        return code == 0 ? USER_ERROR : code;
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine(new Main());
        // Straight to the file descriptor: System.out would swallow a write error before PrintWriter could see it.
        cl.setOut(new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), true));
        int code = run(cl, args);
        cl.getErr().flush();
        // In a multi-process job: finalise MPI after success; after a failure end every rank (MPI_Abort), not just this one.
        try {
            code = Launch.end(code);
        } catch (RuntimeException e) {
            cl.getErr().println(Errors.lead() + "ending MPI failed: " + e.getMessage());
            cl.getErr().flush();
            code = code == 0 ? INTERNAL_ERROR : code;
        }
        System.exit(code);
    }

    /** What the run needs, when a command knows it: the out-of-memory line quotes it. */
    private static volatile long memoryNeed;

    /** A command states its estimated heap need before the work that needs it. */
    static void needs(long bytes) {
        memoryNeed = bytes;
    }

    /** Executes {@code args}; running out of heap anywhere ends in one line and exit code {@value #USER_ERROR}, never a stack trace. */
    static int run(CommandLine cl, String... args) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            cl.getErr().println(Errors.lead() + Errors.outOfMemory(Runtime.getRuntime().maxMemory(), memoryNeed));
            cl.getErr().flush();
            return USER_ERROR;
        }
    }

    /** Without a verb: the usage on stderr, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USER_ERROR;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"gsae " + VERSION, "java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
