package gsae.cli;

import gsae.api.Launch;
import gsae.config.UserError;
import picocli.CommandLine;

import java.io.UncheckedIOException;

/**
 * How a failure reaches the user. Input they can fix (bad options, bad files, impossible settings,
 * a disk that is full) is one line "gsae: …" on stderr and exit code {@value Main#USER_ERROR}. Anything
 * else is a bug in gsae: one line saying so and how to see the stack trace, exit code
 * {@value Main#INTERNAL_ERROR}. {@code GSAE_DEBUG=1} adds the stack trace to both. In one rank of a
 * multi-process job the line names the rank ("gsae: rank 1 of 2: …"), and {@link Main#main} then ends the
 * whole job.
 */
final class Errors {

    private Errors() {}

    static int onExecution(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean user = isUserError(e);
        if (user) cl.getErr().println(lead() + e.getMessage());
        else cl.getErr().println(lead() + "internal error (a bug in gsae, not in your input): " + e
                + (debug() ? "" : "; rerun with GSAE_DEBUG=1 for the stack trace and report it"));
        if (debug()) e.printStackTrace(cl.getErr());
        cl.getErr().flush();
        return user ? Main.USER_ERROR : Main.INTERNAL_ERROR;
    }

    static int onParameters(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println(lead() + e.getMessage() + " (see " + cl.getCommandSpec().qualifiedName() + " --help)");
        cl.getErr().flush();
        return Main.USER_ERROR;
    }

    /** "gsae: ", or "gsae: rank 1 of 4: " in one rank of a multi-process job, so that the line names the rank that failed. */
    static String lead() {
        return "gsae: " + Launch.errorPrefix();
    }

    /** "out of memory: …" (after {@link #lead}): the heap the JVM had, the estimated need when known, and how to give it more. */
    static String outOfMemory(long maxHeap, long need) {
        String have = "the Java heap (" + gib(maxHeap) + ") is full";
        String want = need > 0 ? "; this run needs about " + gib(need) : "";
        long suggest = need > 0 ? Math.max(need + need / 4, maxHeap + maxHeap / 2) : 2 * maxHeap;
        return "out of memory: " + have + want + ": raise it with GSAE_JAVA_OPTS=-Xmx" + (suggest + (1L << 30) - 1 >> 30)
                + "g, or use fewer --latents or a smaller --batch";
    }

    /** "3.2 GiB" */
    private static String gib(long bytes) {
        return String.format("%.1f GiB", bytes / (double) (1L << 30));
    }

    static boolean isUserError(Throwable e) {
        return e instanceof UserError || e instanceof UncheckedIOException;
    }

    static boolean debug() {
        return "1".equals(System.getenv("GSAE_DEBUG"));
    }
}
