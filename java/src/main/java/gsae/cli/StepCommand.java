package gsae.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** PLACEHOLDER (being written): replaced before landing. */
@Command(name = "step", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class StepCommand implements Callable<Integer> {
    @Override public Integer call() { System.err.println("gsae step: not yet built"); return 2; }
}
