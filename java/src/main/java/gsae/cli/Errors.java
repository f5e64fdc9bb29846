package gsae.cli;

import gsae.io.DataException;
import picocli.CommandLine;

import java.io.UncheckedIOException;

/**
 * How a failure reaches the user: input they can fix (bad options, bad files, impossible
 * settings) is one line "gsae: …" on stderr and exit code 2, with the stack trace only when
 * {@code GSAE_DEBUG=1}; anything else is a bug and keeps its stack trace.
 */
final class Errors {

    private Errors() {}

    static int onExecution(Exception e, CommandLine cl, CommandLine.ParseResult parsed) throws Exception {
        if (!isUserError(e)) throw e;
        cl.getErr().println("gsae: " + e.getMessage());
        if ("1".equals(System.getenv("GSAE_DEBUG"))) e.printStackTrace(cl.getErr());
        cl.getErr().flush();
        return Main.USER_ERROR;
    }

    static int onParameters(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println("gsae: " + e.getMessage() + " (see " + cl.getCommandSpec().qualifiedName() + " --help)");
        cl.getErr().flush();
        return Main.USER_ERROR;
    }

    static boolean isUserError(Throwable e) {
        return e instanceof DataException || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof UncheckedIOException;
    }
}
