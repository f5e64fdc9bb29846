package gsae.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** PLACEHOLDER (being written): replaced before landing. */
@Command(name = "selftest", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class SelftestCommand implements Callable<Integer> {
    @Override public Integer call() { System.err.println("gsae selftest: not yet built"); return 2; }
}
