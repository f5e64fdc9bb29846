package gsae.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** PLACEHOLDER (being written): replaced before landing. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class EvalCommand implements Callable<Integer> {
    @Override public Integer call() { System.err.println("gsae eval: not yet built"); return 2; }
}
